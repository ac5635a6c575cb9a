"""The xAPI outbox: statements written with the change that caused them, drained in order.

State machine of a row: pending → sent, or pending → dead (the LRS rejected that statement on
its own; `retry_dead` puts it back to pending). A claim is a lease (`claimed_until`), so a
forwarder that dies mid-batch only delays its rows; another process (or the next start) takes
them once the lease runs out. Resends carry the stored bytes unchanged.

Each claim also writes a fencing token (`claim_token`). A forwarder renews its lease with
`hold` while a long batch is in flight (bisecting a 400, reading back after a 409) and sends
only the rows `hold` confirms are still its own; releasing and dead-lettering touch only rows
that still carry its token. So a forwarder that stalled past its lease, whose rows another
replica has since claimed, can neither send them nor disturb the other's claim.

Erasure deletes rows, except one a forwarder is sending at that moment: that row becomes
"erased" (no body, no actor) until the send ends, so the voiding statement queued for it still
waits behind it, and then it is deleted whatever the outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, func, or_, true, update
from sqlmodel import Session, col, delete, select

from storage.models import (
    OUTBOX_DEAD,
    OUTBOX_ERASED,
    OUTBOX_PENDING,
    OUTBOX_SENT,
    OutboxStatement,
)
from storage.repositories import lrs_statements
from storage.repositories._sql import insert_many_ignoring_duplicates
from storage.types import UTCDateTime, aware_utc

_TABLE = OutboxStatement.__table__  # type: ignore[attr-defined]
# Built once, in Core: the forwarder runs these around every POST, for 50 rows at a time.
_LEASE = (
    update(_TABLE)
    .where(_TABLE.c.seq.in_(bindparam("seqs", expanding=True)))
    .values(claimed_until=bindparam("until", type_=UTCDateTime), claim_token=bindparam("token"))
)
_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.statement_id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OUTBOX_SENT,
        sent_at=bindparam("now", type_=UTCDateTime),
        claimed_until=None,
        claim_token=None,
        last_error=None,
    )
)
_DROP_ERASED = delete(_TABLE).where(
    _TABLE.c.statement_id.in_(bindparam("ids", expanding=True)),
    _TABLE.c.status == OUTBOX_ERASED,
)


@dataclass(frozen=True)
class NewStatement:
    statement_id: str
    team_id: str
    actor_id: str
    body: str
    timestamp: datetime
    voiding: bool = False


@dataclass(frozen=True)
class ClaimedStatement:
    statement_id: str
    body: str
    voiding: bool
    attempts: int
    claim_token: str


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    dead: int
    sent: int
    oldest_pending_at: datetime | None
    last_sent_at: datetime | None


@dataclass(frozen=True)
class OutboxEntry:
    """A row as erasure sees it: what it says and how far its delivery got."""

    statement_id: str
    actor_id: str
    body: str
    voiding: bool
    status: str
    attempts: int
    claimed_until: datetime | None


@dataclass(frozen=True)
class DeadLetter:
    statement_id: str
    reason: str
    created_at: datetime


def add(session: Session, statements: Iterable[NewStatement], now: datetime) -> int:
    """Queues statements (one multi-row INSERT); an id already queued is left as it is (same
    event, same statement). Returns how many were new.
    """
    statements = list(statements)
    new_ids = insert_many_ignoring_duplicates(
        session,
        OutboxStatement,
        [
            {
                "statement_id": statement.statement_id,
                "team_id": statement.team_id,
                "actor_id": statement.actor_id,
                "voiding": statement.voiding,
                "body": statement.body,
                "statement_timestamp": statement.timestamp,
                "status": OUTBOX_PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for statement in statements
        ],
        "statement_id",
    )
    added = [s for s in statements if s.statement_id in new_ids]
    # The inbuilt LRS holds guildbot's own statements from the transaction that makes them.
    lrs_statements.store_own(session, [(s.statement_id, s.body) for s in added])
    return len(added)


def claim_batch(
    session: Session, now: datetime, limit: int, lease: timedelta
) -> list[ClaimedStatement]:
    """Leases the next batch to send, oldest first.

    Delivery is first-in, first-out: when the oldest pending row is waiting out a backoff,
    nothing is claimed, so a voiding statement never overtakes the statement it voids. A batch
    is a run of rows of one kind: voiding statements travel in batches of their own. Rows
    another process holds are skipped, but voiding rows behind one of its statements wait, so
    replicas keep the order too.
    """
    # Core, not the ORM: a batch is read and leased after every POST, and rows are only read.
    c = _TABLE.c
    query = (
        select(c.seq, c.statement_id, c.body, c.voiding, c.attempts, c.next_attempt_at)
        .where(
            c.status == OUTBOX_PENDING,
            or_(c.claimed_until.is_(None), c.claimed_until <= now),
        )
        .order_by(c.seq)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    batch: list[Row[Any]] = []
    for row in session.connection().execute(query):
        if row.next_attempt_at > now or (batch and row.voiding != batch[0].voiding):
            break
        batch.append(row)
    if batch and batch[0].voiding:
        held = _oldest_held_elsewhere(session, now)
        batch = [row for row in batch if held is None or row.seq < held]
    if not batch:
        return []
    token = str(uuid.uuid4())
    session.connection().execute(
        _LEASE, {"seqs": [row.seq for row in batch], "until": now + lease, "token": token}
    )
    return [
        ClaimedStatement(row.statement_id, row.body, row.voiding, row.attempts, token)
        for row in batch
    ]


def _oldest_held_elsewhere(session: Session, now: datetime) -> int | None:
    """The oldest non-voiding statement another forwarder is sending right now, if any (erased
    ones included: what voids them must not overtake them)."""
    return session.exec(
        select(func.min(OutboxStatement.seq)).where(
            col(OutboxStatement.status).in_((OUTBOX_PENDING, OUTBOX_ERASED)),
            col(OutboxStatement.voiding).is_(False),
            col(OutboxStatement.claimed_until) > now,
        )
    ).one()


def hold(
    session: Session, statement_ids: Sequence[str], token: str, now: datetime, lease: timedelta
) -> set[str]:
    """Renews the lease on the rows this claim still holds; returns their ids (the others
    were sent, erased or claimed by another forwarder meanwhile: not ours to send). Erased
    rows among them are deleted: their holder sends them no more, so no void waits on them."""
    if not statement_ids:
        return set()
    _drop_erased(session, statement_ids)
    held = session.execute(
        update(OutboxStatement)
        .where(
            col(OutboxStatement.statement_id).in_(list(statement_ids)),
            OutboxStatement.claim_token == token,
            OutboxStatement.status == OUTBOX_PENDING,
        )
        .values(claimed_until=now + lease)
        .returning(OutboxStatement.statement_id)
    )
    return set(held.scalars())


def mark_sent(session: Session, statement_ids: Sequence[str], now: datetime) -> None:
    """The LRS holds these: sent, whoever else may also have been sending them."""
    if statement_ids:
        _drop_erased(session, statement_ids)
        session.connection().execute(_MARK_SENT, {"ids": list(statement_ids), "now": now})


def release(
    session: Session,
    statement_ids: Sequence[str],
    next_attempt_at: datetime,
    error: str | None,
    token: str | None = None,
) -> None:
    """Gives claimed rows back for a later attempt (after a failure, or unsent at shutdown);
    with `token`, only the rows that claim still holds."""
    if statement_ids:
        _drop_erased(session, statement_ids)
        values: dict[str, object] = {
            "next_attempt_at": next_attempt_at,
            "claimed_until": None,
            "claim_token": None,
        }
        if error is not None:
            values["attempts"] = OutboxStatement.attempts + 1
            values["last_error"] = error[:2000]
        query = update(OutboxStatement).where(
            col(OutboxStatement.statement_id).in_(list(statement_ids)),
            OutboxStatement.status == OUTBOX_PENDING,
        )
        if token is not None:
            query = query.where(OutboxStatement.claim_token == token)
        session.execute(query.values(**values))


def mark_dead(session: Session, statement_id: str, reason: str, token: str | None = None) -> None:
    """The LRS rejects this statement on its own; with `token`, only while that claim holds it."""
    _drop_erased(session, [statement_id])
    query = update(OutboxStatement).where(OutboxStatement.statement_id == statement_id)
    if token is not None:
        query = query.where(
            OutboxStatement.claim_token == token, OutboxStatement.status == OUTBOX_PENDING
        )
    session.execute(
        query.values(
            status=OUTBOX_DEAD,
            claimed_until=None,
            claim_token=None,
            attempts=OutboxStatement.attempts + 1,
            last_error=reason[:2000],
        )
    )


def _drop_erased(session: Session, statement_ids: Sequence[str]) -> None:
    """The send an erased row waited for has ended: nothing of it is kept."""
    session.connection().execute(_DROP_ERASED, {"ids": list(statement_ids)})


def retry_dead(session: Session, now: datetime, team_id: str | None = None) -> int:
    """Puts every dead-lettered statement (of the workspace, when given) back in the queue
    (after the cause was fixed)."""
    result = session.execute(
        update(OutboxStatement)
        .where(OutboxStatement.status == OUTBOX_DEAD, *_of_team(team_id))
        .values(status=OUTBOX_PENDING, next_attempt_at=now, claimed_until=None, claim_token=None)
    )
    return result.rowcount or 0


def counts(session: Session, team_id: str | None = None) -> OutboxCounts:
    """Statements by status, every workspace's or one's."""
    team = _of_team(team_id)
    by_status = dict(
        session.exec(
            select(OutboxStatement.status, func.count())
            .where(*team)
            .group_by(OutboxStatement.status)
        ).all()
    )
    oldest = session.exec(
        select(func.min(OutboxStatement.created_at)).where(
            OutboxStatement.status == OUTBOX_PENDING, *team
        )
    ).one()
    last_sent = session.exec(select(func.max(OutboxStatement.sent_at)).where(*team)).one()
    return OutboxCounts(
        pending=by_status.get(OUTBOX_PENDING, 0),
        dead=by_status.get(OUTBOX_DEAD, 0),
        sent=by_status.get(OUTBOX_SENT, 0),
        oldest_pending_at=aware_utc(oldest),
        last_sent_at=aware_utc(last_sent),
    )


def dead_letters(session: Session, limit: int = 20, team_id: str | None = None) -> list[DeadLetter]:
    rows = session.exec(
        select(OutboxStatement)
        .where(OutboxStatement.status == OUTBOX_DEAD, *_of_team(team_id))
        .order_by(col(OutboxStatement.seq))
        .limit(limit)
    )
    return [DeadLetter(r.statement_id, r.last_error or "", r.created_at) for r in rows]


def bodies_since(
    session: Session,
    since: datetime,
    until: datetime | None = None,
    actor_id: str | None = None,
    team_id: str | None = None,
) -> Iterator[str]:
    """Stored statements (of the workspace, when given) whose timestamp falls in
    [since, until), oldest first."""
    query = select(OutboxStatement.body).where(
        OutboxStatement.statement_timestamp >= since,
        OutboxStatement.status != OUTBOX_ERASED,
        *_of_team(team_id),
    )
    if until is not None:
        query = query.where(OutboxStatement.statement_timestamp < until)
    if actor_id is not None:
        query = query.where(OutboxStatement.actor_id == actor_id)
    query = query.order_by(col(OutboxStatement.statement_timestamp), col(OutboxStatement.seq))
    yield from session.exec(query.execution_options(yield_per=500))


def lock_for_erasure(
    session: Session,
    team_id: str,
    statement_ids: Sequence[str],
    actor_id: str | None = None,
    containing: Sequence[str] = (),
) -> list[OutboxEntry]:
    """Rows with these ids, or of this actor, or whose body contains any of these strings,
    oldest first, locked until the transaction ends.

    PostgreSQL: FOR UPDATE, so a forwarder's claim (SKIP LOCKED) cannot take them meanwhile
    and a claim in progress is waited for; SQLite's write transaction already excludes every
    other writer. Bodies are matched as text, ignoring case: callers refine the match.
    """
    wanted = [col(OutboxStatement.statement_id).in_(list(statement_ids))] if statement_ids else []
    if actor_id is not None:
        wanted.append(OutboxStatement.actor_id == actor_id)
    wanted += [
        col(OutboxStatement.body).icontains(needle, autoescape=True) for needle in containing
    ]
    if not wanted:
        return []
    return _locked_for_erasure(session, team_id, or_(*wanted))


def lock_workspace_for_erasure(session: Session, team_id: str) -> list[OutboxEntry]:
    """Every row of the workspace, locked as `lock_for_erasure` locks them."""
    return _locked_for_erasure(session, team_id, true())


def _locked_for_erasure(
    session: Session, team_id: str, wanted: ColumnElement[bool]
) -> list[OutboxEntry]:
    query = (
        select(OutboxStatement)
        .where(
            OutboxStatement.team_id == team_id,
            OutboxStatement.status != OUTBOX_ERASED,
            wanted,
        )
        .order_by(col(OutboxStatement.seq))
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [
        OutboxEntry(
            r.statement_id, r.actor_id, r.body, r.voiding, r.status, r.attempts, r.claimed_until
        )
        for r in session.exec(query)
    ]


def delete_statements(session: Session, statement_ids: Sequence[str]) -> int:
    """Deletes local copies, whatever their state (erasure)."""
    if not statement_ids:
        return 0
    result = session.exec(
        delete(OutboxStatement).where(col(OutboxStatement.statement_id).in_(list(statement_ids)))
    )
    return result.rowcount or 0


def erase_in_flight(session: Session, statement_ids: Sequence[str]) -> None:
    """Rows a forwarder is sending: blanked now, deleted when that send ends."""
    if statement_ids:
        session.execute(
            update(OutboxStatement)
            .where(col(OutboxStatement.statement_id).in_(list(statement_ids)))
            .values(status=OUTBOX_ERASED, body="", actor_id="", last_error=None)
        )


def delete_abandoned_erased(session: Session, now: datetime) -> None:
    """Erased rows whose send never reported back (its process died): nothing waits on them."""
    session.exec(
        delete(OutboxStatement).where(
            OutboxStatement.status == OUTBOX_ERASED,
            or_(
                col(OutboxStatement.claimed_until).is_(None),
                col(OutboxStatement.claimed_until) <= now,
            ),
        )
    )


def bodies_by_actor(session: Session, team_id: str, actor_id: str) -> list[str]:
    query = (
        select(OutboxStatement.body)
        .where(OutboxStatement.team_id == team_id, OutboxStatement.actor_id == actor_id)
        .order_by(OutboxStatement.seq)
    )
    return list(session.exec(query))


def _of_team(team_id: str | None) -> tuple[ColumnElement[bool], ...]:
    """The filter to one workspace's statements; none for every workspace's."""
    return () if team_id is None else (col(OutboxStatement.team_id) == team_id,)
