"""What the weekly digest and the L&D report read, and the digest's claim per period.

The report reads the outbox: its bodies are the exact statements sent to the LRS, so the
report's counts are the LRS's by construction. The digest reads the tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from storage.models import (
    OUTBOX_DEAD,
    OUTBOX_ERASED,
    Answer,
    DigestRun,
    Kudos,
    OutboxStatement,
    Question,
)
from storage.repositories._sql import insert_ignoring_duplicates
from storage.types import aware_utc

# The digest's claim -----------------------------------------------------------------------------


def digest_run(session: Session, team_id: str, period_start: datetime) -> DigestRun | None:
    return session.get(DigestRun, (team_id, period_start))


def claim_digest(
    session: Session,
    team_id: str,
    period_start: datetime,
    period_end: datetime,
    channel_id: str,
    now: datetime,
    lease_until: datetime,
    max_attempts: int,
) -> bool:
    """Takes the period's digest for this process; True when it is ours to post.

    A new period is claimed by inserting its row (ON CONFLICT DO NOTHING: of several replicas
    exactly one inserts). A claim whose lease ran out without a post (the poster failed or
    died) is taken over by one conditional UPDATE, up to `max_attempts` in all.
    """
    if insert_ignoring_duplicates(
        session,
        DigestRun,
        {
            "team_id": team_id,
            "period_start": period_start,
            "period_end": period_end,
            "channel_id": channel_id,
            "attempts": 1,
            "claimed_until": lease_until,
            "posted_at": None,
            "message_ts": None,
        },
    ):
        return True
    taken = session.exec(
        update(DigestRun)
        .where(
            col(DigestRun.team_id) == team_id,
            col(DigestRun.period_start) == period_start,
            col(DigestRun.posted_at).is_(None),
            col(DigestRun.attempts) < max_attempts,
            or_(col(DigestRun.claimed_until).is_(None), col(DigestRun.claimed_until) <= now),
        )
        .values(attempts=DigestRun.attempts + 1, claimed_until=lease_until)
        .returning(DigestRun.team_id)
    )
    return taken.first() is not None


def digest_posted(
    session: Session, team_id: str, period_start: datetime, message_ts: str, now: datetime
) -> None:
    session.exec(
        update(DigestRun)
        .where(col(DigestRun.team_id) == team_id, col(DigestRun.period_start) == period_start)
        .values(posted_at=now, message_ts=message_ts, claimed_until=None)
    )


def digest_failed(
    session: Session, team_id: str, period_start: datetime, retry_at: datetime
) -> None:
    """Keeps the claim until `retry_at`, when another attempt may take it over."""
    session.exec(
        update(DigestRun)
        .where(
            col(DigestRun.team_id) == team_id,
            col(DigestRun.period_start) == period_start,
            col(DigestRun.posted_at).is_(None),
        )
        .values(claimed_until=retry_at)
    )


# What the digest counts -------------------------------------------------------------------------


@dataclass(frozen=True)
class KudosRow:
    giver_id: str
    receiver_id: str
    values: tuple[str, ...]


def kudos_given(session: Session, team_id: str, since: datetime, until: datetime) -> list[KudosRow]:
    """Kudos given in [since, until) that still stand."""
    query = select(Kudos.giver_id, Kudos.receiver_id, Kudos.tags).where(
        Kudos.team_id == team_id,
        Kudos.created_at >= since,
        Kudos.created_at < until,
        col(Kudos.revoked_at).is_(None),
    )
    return [KudosRow(g, r, tuple(tags or ())) for g, r, tags in session.exec(query)]


@dataclass(frozen=True)
class AskedRow:
    question_id: str
    asked_at: datetime
    status: str
    answered: bool
    """An answer (not deleted) came before the end of the period."""


def questions_asked(
    session: Session, team_id: str, since: datetime, until: datetime
) -> list[AskedRow]:
    """Posted questions asked in [since, until)."""
    answered = (
        select(Answer.question_id)
        .where(
            Answer.team_id == team_id,
            col(Answer.deleted_at).is_(None),
            Answer.created_at < until,
        )
        .distinct()
        .subquery()
    )
    query = (
        select(Question.id, Question.created_at, Question.status, answered.c.question_id)
        .outerjoin(answered, answered.c.question_id == Question.id)
        .where(
            Question.team_id == team_id,
            Question.created_at >= since,
            Question.created_at < until,
            col(Question.ts).is_not(None),
        )
    )
    return [
        AskedRow(question_id, created_at, status, found is not None)
        for question_id, created_at, status, found in session.exec(query)
    ]


@dataclass(frozen=True)
class WaitingQuestion:
    question_id: str
    asked_at: datetime
    permalink: str | None
    tags: tuple[str, ...]


def unanswered(
    session: Session, team_id: str, until: datetime, limit: int
) -> tuple[int, list[WaitingQuestion]]:
    """Open posted questions asked before `until` with no answer then: how many, and the
    oldest `limit` of them."""
    answered = select(Answer.question_id).where(
        Answer.team_id == team_id,
        col(Answer.deleted_at).is_(None),
        Answer.created_at < until,
    )
    waiting = (
        Question.team_id == team_id,
        Question.status == "open",
        col(Question.ts).is_not(None),
        Question.created_at < until,
        col(Question.id).not_in(answered),
    )
    total = session.exec(select(func.count()).select_from(Question).where(*waiting)).one()
    oldest = session.exec(
        select(Question).where(*waiting).order_by(col(Question.created_at)).limit(limit)
    )
    return total, [
        WaitingQuestion(q.id, q.created_at, q.permalink, tuple(q.tags or ())) for q in oldest
    ]


@dataclass(frozen=True)
class FirstAnswer:
    question_id: str
    asked_at: datetime
    author_id: str
    answered_at: datetime


def first_answers(
    session: Session, team_id: str, since: datetime, until: datetime
) -> list[FirstAnswer]:
    """For each posted question whose first answer (not deleted) came in [since, until), who
    gave it and when: the question may be older than the period."""
    touched = select(Answer.question_id).where(
        Answer.team_id == team_id,
        col(Answer.deleted_at).is_(None),
        Answer.created_at >= since,
        Answer.created_at < until,
    )
    query = (
        select(Answer.question_id, Answer.author_id, Answer.created_at, Question.created_at)
        .join(Question, col(Question.id) == col(Answer.question_id))
        .where(
            col(Answer.question_id).in_(touched),
            col(Answer.deleted_at).is_(None),
            Answer.created_at < until,
            col(Question.ts).is_not(None),
        )
        .order_by(col(Answer.question_id), col(Answer.created_at), col(Answer.ts))
    )
    firsts: dict[str, FirstAnswer] = {}
    for question_id, author_id, answered_at, asked_at in session.exec(query):
        if question_id not in firsts:
            firsts[question_id] = FirstAnswer(question_id, asked_at, author_id, answered_at)
    return [first for first in firsts.values() if first.answered_at >= since]


# What the report reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredStatement:
    statement_id: str
    actor_id: str
    body: str
    timestamp: datetime


def statements_in(
    session: Session, since: datetime, until: datetime, team_id: str | None = None
) -> Iterator[StoredStatement]:
    """Statements (voiding ones left out) whose timestamp falls in [since, until), oldest
    first; dead letters are left out too: the LRS refused them."""
    query = select(
        OutboxStatement.statement_id,
        OutboxStatement.actor_id,
        OutboxStatement.body,
        OutboxStatement.statement_timestamp,
    ).where(
        OutboxStatement.statement_timestamp >= since,
        OutboxStatement.statement_timestamp < until,
        col(OutboxStatement.voiding).is_(False),
        col(OutboxStatement.status).not_in((OUTBOX_DEAD, OUTBOX_ERASED)),
    )
    if team_id is not None:
        query = query.where(OutboxStatement.team_id == team_id)
    query = query.order_by(col(OutboxStatement.statement_timestamp), col(OutboxStatement.seq))
    for statement_id, actor_id, body, timestamp in session.exec(
        query.execution_options(yield_per=500)
    ):
        yield StoredStatement(statement_id, actor_id, body, aware_utc(timestamp) or timestamp)


def voided_ids(session: Session) -> set[str]:
    """The statements a voiding statement (queued or sent, whenever) targets."""
    query = select(OutboxStatement.body).where(
        col(OutboxStatement.voiding).is_(True), OutboxStatement.status != OUTBOX_DEAD
    )
    targets: set[str] = set()
    for body in session.exec(query.execution_options(yield_per=500)):
        target = (json.loads(body).get("object") or {}).get("id")
        if target:
            targets.add(str(target).lower())
    return targets


def actors_of(session: Session, statement_ids: Sequence[str]) -> dict[str, str]:
    """The Slack user behind each of these statements (those still stored)."""
    found: dict[str, str] = {}
    ids = sorted(set(statement_ids))
    for start in range(0, len(ids), 500):
        query = select(OutboxStatement.statement_id, OutboxStatement.actor_id).where(
            col(OutboxStatement.statement_id).in_(ids[start : start + 500])
        )
        found.update(dict(session.exec(query).all()))
    return found
