"""Erasure, defined once: `guildbot forget --user` erases everything about a person;
`/skills forget me` erases their skills and endorsements only.

Rows: what is about the person is deleted (their kudos given and received, skills,
endorsements both ways, questions with their threads, answers, routing, pauses, declines,
RSVPs with ratings and comments, their community memberships and contributions, the
resources they shared and their opens of others', their profile). What other people keep is
anonymised: a community they created stays, by nobody; a
session they organised or presented stays, by "a former colleague"; a question addressed to
them stays, addressed to nobody; their mentions in other people's text read "a former
colleague". Search index entries follow the questions and answers they index.

A workspace (`forget --team`, after an uninstall or when an organisation leaves): every row
of it in every table goes, and its statements are erased as a person's are.

Statements: every statement that names them anywhere (actor, agents in extensions, their
profile activity, mentions in text) and every statement about their deleted records leaves
the outbox. xAPI has no delete: what may already be in the LRS is voided, by guildbot's own
agent so that no new statement names them; what never left is dropped. Whether a statement
may have left is decided under row locks (PostgreSQL), so no forwarder can start sending one
that erasure counted as never sent, and one being sent right now is voided (see
`storage.repositories.outbox`, "erased"). The inbuilt LRS lives in guildbot's own database: it
deletes its copies of those statements instead, and (`forget --user`) every statement other
systems stored there with the person as an agent, with their state and agent profiles.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.domain import standing
from bot.xapi.statements import StatementBuilders, queued
from storage.database import Database
from storage.models import OUTBOX_DEAD, OUTBOX_PENDING, OUTBOX_SENT, Answer, Question
from storage.repositories import communities as communities_repo
from storage.repositories import effects as effects_repo
from storage.repositories import erasure as erasure_repo
from storage.repositories import kudos as kudos_repo
from storage.repositories import lrs_documents, lrs_keys, lrs_statements
from storage.repositories import outbox as outbox_repo
from storage.repositories import people as people_repo
from storage.repositories import questions as questions_repo
from storage.repositories import resources as resources_repo
from storage.repositories import skills as skills_repo
from storage.repositories import suggestions as suggestions_repo
from storage.repositories.outbox import OutboxEntry

FORMER_COLLEAGUE = "a former colleague"
"""Who an erased person is in what others keep (a session they presented, a mention)."""
CAUSE = "erasure"


# Rules -------------------------------------------------------------------------------------------


def _slack_id(user_id: str) -> str:
    # Whole ids only: U0ANN must not match inside U0ANNA.
    return rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])"


def names_person(body: str, user_id: str, emails: Collection[str] = ()) -> bool:
    """Whether a statement names the person anywhere: their Slack id (account name, profile
    activity, a mention in text) or one of their e-mail addresses (`mbox` actors)."""
    if re.search(_slack_id(user_id), body):
        return True
    lowered = body.lower()
    return any(email.lower() in lowered for email in emails if email)


def without_mentions(text: str, user_id: str) -> str:
    """Someone else's text with the person's mentions (`<@U…>`, `<@U…|name>`, a bare id)
    replaced by "a former colleague"."""
    mention = rf"<@{re.escape(user_id)}(?:\|[^>]*)?>|{_slack_id(user_id)}"
    return re.sub(mention, FORMER_COLLEAGUE, text)


def may_have_reached_lrs(entry: OutboxEntry) -> bool:
    """Sent, or ever tried or claimed by a forwarder (an answer can be lost after the LRS
    stored the statement); a dead letter was refused by the LRS, so it never got in."""
    if entry.status == OUTBOX_SENT:
        return True
    if entry.status == OUTBOX_DEAD:
        return False
    return entry.attempts > 0 or entry.claimed_until is not None


def being_sent(entry: OutboxEntry, now: datetime) -> bool:
    """A forwarder holds it under a lease right now: its POST may be under way."""
    return (
        entry.status == OUTBOX_PENDING
        and entry.claimed_until is not None
        and entry.claimed_until > now
    )


def _voided_by(body: str) -> str:
    return str(json.loads(body)["object"]["id"])


# Statements --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementsErased:
    voided: int
    """Voiding statements queued for what may be in the LRS."""
    dropped: int
    """Statements that never left, removed before any forwarder could send them."""


def erase_statements(
    session: Session,
    statements: StatementBuilders,
    team_id: str,
    entries: Sequence[OutboxEntry],
    now: datetime,
) -> StatementsErased:
    """Removes these outbox rows (locked by the caller) and voids what may be in the LRS.

    A voiding statement is never voided itself (xAPI forbids it); unless it was delivered,
    guildbot voids its target instead, so what it was meant to withdraw still is.
    """
    dropped = {e.statement_id for e in entries if not may_have_reached_lrs(e)}
    targets = []
    for entry in entries:
        if not entry.voiding and entry.statement_id not in dropped:
            targets.append(entry.statement_id)
        elif entry.voiding and entry.status != OUTBOX_SENT:
            targets.append(_voided_by(entry.body))
    builder = statements.for_team(team_id)
    voids = [builder.voiding(t, now, CAUSE) for t in dict.fromkeys(targets) if t not in dropped]
    sending = {e.statement_id for e in entries if being_sent(e, now)}
    outbox_repo.erase_in_flight(session, sorted(sending))
    outbox_repo.delete_statements(
        session, [e.statement_id for e in entries if e.statement_id not in sending]
    )
    # The inbuilt LRS is guildbot's own database: its copies go, rather than being voided
    # (first: a void stored after its target has gone is found by nothing about the person).
    lrs_statements.delete_statements(session, [e.statement_id for e in entries])
    outbox_repo.add(session, queued(team_id, voids), now)
    return StatementsErased(len(voids), len(dropped))


# Skills (`/skills forget me`) --------------------------------------------------------------------


@dataclass(frozen=True)
class SkillsErased:
    skills: int
    endorsements: int
    statements: StatementsErased


def forget_skills(
    session: Session, statements: StatementBuilders, team_id: str, user_id: str, now: datetime
) -> SkillsErased:
    """Deletes the person's declared skills and the endorsements they gave and received,
    their standings, and the skill statements about them."""
    skills, endorsements, statement_ids = _delete_skill_rows(session, team_id, user_id, now)
    entries = outbox_repo.lock_for_erasure(session, team_id, statement_ids)
    return SkillsErased(
        skills, endorsements, erase_statements(session, statements, team_id, entries, now)
    )


def _delete_skill_rows(
    session: Session, team_id: str, user_id: str, now: datetime
) -> tuple[int, int, list[str]]:
    """Skills, endorsements and standings; returns their counts and the statements about
    them (declarations, endorsements given and received)."""
    declared = skills_repo.declared(session, team_id, user_id)
    endorsements = skills_repo.endorsements_involving(session, team_id, user_id)
    given = skills_repo.endorsements_given(session, team_id, user_id)
    statement_ids = skills_repo.statements_about(session, team_id, user_id)
    skills_repo.delete_person_skills(session, team_id, user_id)
    skills_repo.unlink_statements(session, statement_ids)
    skills_repo.delete_standings_of(session, team_id, user_id)
    # The people they had endorsed lose those endorsements.
    standing.refresh(session, team_id, given, now)
    return len(declared), len(endorsements), statement_ids


# A person (`guildbot forget --user`) --------------------------------------------------------------


@dataclass(frozen=True)
class PersonErased:
    kudos_deleted: int
    statements_voided: int
    statements_dropped: int
    wal_cleared: bool
    """SQLite: the write-ahead log was emptied (always True on PostgreSQL)."""
    inbuilt_lrs_deleted: int = 0
    """Statements other systems stored in the inbuilt LRS about them, deleted."""


def forget_person(
    database: Database, statements: StatementBuilders, team_id: str, user_id: str, now: datetime
) -> PersonErased:
    """Erases everything guildbot keeps about the person (module docstring), in one
    transaction; then empties SQLite's write-ahead log of the pages that held it."""
    with database.transaction() as session:
        outbox_repo.delete_abandoned_erased(session, now)
        person = people_repo.get_many(session, team_id, [user_id]).get(user_id)
        emails = [person.email] if person and person.email else []
        _, _, about = _delete_skill_rows(session, team_id, user_id, now)
        kudos = kudos_repo.involving(session, team_id, user_id)
        about += [sid for k in kudos for sid in (k.give_statement_id, k.receive_statement_id)]
        about += _delete_questions_and_answers(session, team_id, user_id, now)
        entries = [
            e
            for e in outbox_repo.lock_for_erasure(
                session, team_id, about, user_id, [user_id, *emails]
            )
            if e.statement_id in about
            or e.actor_id == user_id
            or names_person(e.body, user_id, emails)
        ]
        erased = erase_statements(session, statements, team_id, entries, now)
        home_page = statements.for_team(team_id).identity.home_page
        from_lrs = _forget_in_inbuilt_lrs(session, home_page, user_id, emails)
        # The people they thanked lose those kudos as evidence.
        receivers = skills_repo.kudos_skill_pairs(session, [k.id for k in kudos])
        skills_repo.delete_kudos_skills(session, [k.id for k in kudos])
        kudos_repo.delete_many(session, [k.id for k in kudos])
        standing.refresh(session, team_id, [(s, u) for s, u in receivers if u != user_id], now)
        _anonymise_the_rest(session, team_id, user_id)
    return PersonErased(len(kudos), erased.voided, erased.dropped, database.checkpoint(), from_lrs)


# Workspaces (`forget --team`) ------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceErased:
    rows_deleted: int
    statements_voided: int
    statements_dropped: int
    wal_cleared: bool
    inbuilt_lrs_deleted: int
    """Statements other systems stored in the inbuilt LRS about its people, deleted."""


def forget_workspace(
    database: Database, statements: StatementBuilders, team_id: str, now: datetime
) -> WorkspaceErased:
    """Erases everything guildbot keeps about the workspace, in one transaction: every row of
    it, its statements (voided where they may be in the LRS, by guildbot's own agent), and what
    other systems stored in the inbuilt LRS about its people. Only those voiding statements
    stay, in the outbox, until the forwarder has delivered them."""
    with database.transaction() as session:
        outbox_repo.delete_abandoned_erased(session, now)
        home_page = statements.for_team(team_id).identity.home_page
        from_lrs = sum(
            _forget_in_inbuilt_lrs(session, home_page, user_id, [email] if email else [])
            for user_id, email in people_repo.identities(session, team_id)
        )
        entries = outbox_repo.lock_workspace_for_erasure(session, team_id)
        erased = erase_statements(session, statements, team_id, entries, now)
        rows = erasure_repo.delete_workspace(session, team_id, keep={"outbox"})
        erasure_repo.drop_deleted_search_terms(session)
    return WorkspaceErased(rows, erased.voided, erased.dropped, database.checkpoint(), from_lrs)


def _forget_in_inbuilt_lrs(
    session: Session, home_page: str, user_id: str, emails: Sequence[str]
) -> int:
    """What other systems stored in the inbuilt LRS about the person as an agent (their Slack
    account, their e-mail address), and their state and agent profile documents, is deleted.
    Returns how many statements went."""
    agents: list[dict[str, object]] = [{"account": {"homePage": home_page, "name": user_id}}]
    for email in emails:
        mbox = f"mailto:{email}"
        agents += [{"mbox": mbox}, {"mbox_sha1sum": hashlib.sha1(mbox.encode()).hexdigest()}]
    digests = [lrs_keys.digest(str(lrs_keys.agent_identity(agent))) for agent in agents]
    lrs_documents.delete_about_agents(session, digests)
    return lrs_statements.delete_about_agents(session, digests)


def _delete_questions_and_answers(
    session: Session, team_id: str, user_id: str, now: datetime
) -> list[str]:
    """Their questions with the answers in their threads, and their answers elsewhere (a
    question whose accepted answer was theirs is open again, as after a deletion). Returns
    the acceptances that went with their answers: statements about what is deleted."""
    asked = questions_repo.asked_by(session, team_id, user_id)
    asked_ids = {q.id for q in asked}
    replies = questions_repo.answers_to_any(session, list(asked_ids))
    answered = [
        a
        for a in questions_repo.answers_by(session, team_id, user_id)
        if a.question_id not in asked_ids
    ]
    reopened = _accepted_with(session, answered)
    acceptances = [q.accept_statement_id for q in reopened if q.accept_statement_id]
    # Answers accepted on their questions stop counting for the people who gave them.
    helped = [
        (slug, a.author_id)
        for q in asked
        for slug in questions_repo.skills_of(session, q.id)
        for a in replies
        if a.accepted_at and a.question_id == q.id
    ]
    _reopen(session, reopened)
    questions_repo.delete_answers(session, [a.id for a in [*answered, *replies]])
    for question in asked:
        questions_repo.delete(session, question)
    standing.refresh(session, team_id, helped, now)
    return acceptances


def _anonymise_the_rest(session: Session, team_id: str, user_id: str) -> None:
    """Routing, RSVPs and their profile go; what others keep no longer names them."""
    erasure_repo.delete_routing(session, team_id, user_id)
    erasure_repo.delete_rsvps(session, team_id, user_id)
    communities_repo.forget_member(session, team_id, user_id)
    resources_repo.forget_person(session, team_id, user_id)
    suggestions_repo.forget(session, team_id, user_id)
    erasure_repo.unaddress_questions(session, team_id, user_id)
    erasure_repo.anonymise_sessions(session, team_id, user_id)
    erasure_repo.rewrite_texts(
        session, team_id, user_id, functools.partial(without_mentions, user_id=user_id)
    )
    skills_repo.opt_in(session, team_id, user_id)
    skills_repo.delete_standings_of(session, team_id, user_id)
    people_repo.delete_person(session, team_id, user_id)
    erasure_repo.drop_deleted_search_terms(session)
    _forget_effects(session, team_id, user_id)


def _forget_effects(session: Session, team_id: str, user_id: str) -> None:
    """Slack effects that name them go, done or still owed: nothing is posted about them
    after this (an owed reaction kudos, say), and no record of one stays."""
    effects_repo.delete_many(
        session,
        [
            seq
            for seq, text in effects_repo.mentioning(session, team_id, user_id)
            if names_person(text, user_id)
        ],
    )


def _accepted_with(session: Session, answers: Sequence[Answer]) -> list[Question]:
    """Other people's questions whose accepted answer is one of these."""
    found = []
    for answer in answers:
        question = questions_repo.get(session, answer.question_id)
        if question is not None and question.accepted_answer_id == answer.id:
            found.append(question)
    return found


def _reopen(session: Session, questions: Sequence[Question]) -> None:
    """Their accepted answer is erased: the questions are open again, as after a deletion."""
    for question in questions:
        question.status = "open"
        question.resolved_at = None
        question.accepted_answer_id = None
        question.accept_statement_id = None
        questions_repo.save(session, question)
    session.flush()
