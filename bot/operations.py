"""Operator tasks behind the CLI and /healthz: outbox health, export, erasure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from bot.domain import standing
from bot.xapi.statements import StatementBuilder, queued
from storage.database import Database
from storage.models import OUTBOX_DEAD, OUTBOX_SENT
from storage.repositories import kudos as kudos_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import people as people_repo
from storage.repositories import questions as questions_repo
from storage.repositories import skills as skills_repo
from storage.repositories.outbox import DeadLetter, OutboxCounts


def outbox_counts(database: Database) -> OutboxCounts:
    with database.reading() as session:
        return outbox_repo.counts(session)


def dead_letters(database: Database, limit: int = 20) -> list[DeadLetter]:
    with database.reading() as session:
        return outbox_repo.dead_letters(session, limit)


def retry_dead(database: Database, now: datetime) -> int:
    with database.transaction() as session:
        return outbox_repo.retry_dead(session, now)


def export_statements(
    database: Database, since: datetime, until: datetime | None = None
) -> Iterator[str]:
    """Every stored statement in the period, as the exact JSON that went (or will go) out."""
    with database.reading() as session:
        yield from outbox_repo.bodies_since(session, since, until)


def statements_of(database: Database, team_id: str, user_id: str) -> list[str]:
    """The person's own statements (they are the actor), oldest first, as sent."""
    with database.reading() as session:
        return outbox_repo.bodies_by_actor(session, team_id, user_id)


@dataclass(frozen=True)
class Erasure:
    kudos_deleted: int
    statements_voided: int
    statements_dropped: int


def forget_person(
    database: Database,
    statements: StatementBuilder,
    team_id: str,
    user_id: str,
    now: datetime,
) -> Erasure:
    """Deletes what guildbot keeps about a person and voids what already reached the LRS.

    xAPI has no delete: statements the LRS may hold are voided (by the bot, so the voiding
    statement names nobody); statements that never left are dropped. Local copies go either way.
    """
    with database.transaction() as session:
        kudos = kudos_repo.involving(session, team_id, user_id)
        asked = questions_repo.asked_by(session, team_id, user_id)
        answered = questions_repo.answers_by(session, team_id, user_id)
        replies = questions_repo.answers_to_any(session, [q.id for q in asked])
        statement_ids = list(
            dict.fromkeys(
                [sid for k in kudos for sid in (k.give_statement_id, k.receive_statement_id)]
                + skills_repo.statements_about(session, team_id, user_id)
                # Everything they did (searches, questions, answers, acceptances…).
                + outbox_repo.statement_ids_by_actor(session, team_id, user_id)
            )
        )
        states = outbox_repo.delivery_states(session, statement_ids)
        # A pending row that was tried may have been stored before its answer got lost.
        maybe_delivered = [
            sid
            for sid, (status, attempts) in states.items()
            if status == OUTBOX_SENT or (status != OUTBOX_DEAD and attempts > 0)
        ]
        outbox_repo.delete_statements(session, statement_ids)
        voids = [statements.voiding(sid, now, cause="erasure") for sid in maybe_delivered]
        outbox_repo.add(session, queued(team_id, voids), now)
        # Other people's standings lose the kudos and endorsements this person gave.
        touched = skills_repo.kudos_skill_pairs(session, [k.id for k in kudos])
        touched += skills_repo.endorsements_given(session, team_id, user_id)
        # Answers accepted on their questions stop counting for the people who gave them.
        for question in asked:
            slugs = questions_repo.skills_of(session, question.id)
            touched += [(s, a.author_id) for a in replies if a.accepted_at for s in slugs]
        questions_repo.delete_answers(session, [a.id for a in [*answered, *replies]])
        for question in asked:
            questions_repo.delete(session, question)
        skills_repo.delete_kudos_skills(session, [k.id for k in kudos])
        kudos_repo.delete_many(session, [k.id for k in kudos])
        skills_repo.delete_person_skills(session, team_id, user_id)
        skills_repo.unlink_statements(session, statement_ids)
        skills_repo.opt_in(session, team_id, user_id)
        skills_repo.delete_standings_of(session, team_id, user_id)
        standing.refresh(session, team_id, [(s, u) for s, u in touched if u != user_id], now)
        people_repo.delete_person(session, team_id, user_id)
    return Erasure(len(kudos), len(voids), len(statement_ids) - len(maybe_delivered))
