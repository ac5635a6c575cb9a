"""Slack effects owed by acknowledged actions: a lease-claimed work queue, like the outbox.

A row is pending until done, dead (Slack refused it for good, with the reason), or dropped
(its moment passed: an ephemeral reply nobody would understand any more). A claim is a lease
with a fencing token: the process that claims an effect right after the ack, or a tick in any
process when that failed, does it; a process that died mid-effect only delays it until the
lease runs out. Attempts are counted at claim time, so a row with attempts > 1 may have
reached Slack before (the process died before recording the result): performers check before
posting again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, case, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from storage.models import (
    EFFECT_DEAD,
    EFFECT_DONE,
    EFFECT_DROPPED,
    EFFECT_PENDING,
    SlackEffect,
)
from storage.prepared import Prepared
from storage.repositories._sql import insert_ignoring_duplicates
from storage.types import UTCDateTime, aware_utc


@dataclass(frozen=True)
class NewEffect:
    key: str
    team_id: str
    kind: str
    payload: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ClaimedEffect:
    key: str
    team_id: str
    kind: str
    payload: str
    attempts: int
    """Including this one: above 1, an earlier attempt may have reached Slack."""
    created_at: datetime
    expires_at: datetime | None
    claim_token: str


@dataclass(frozen=True)
class EffectCounts:
    pending: int
    dead: int


@dataclass(frozen=True)
class DeadEffect:
    key: str
    kind: str
    reason: str
    finished_at: datetime | None


_TABLE = SlackEffect.__table__  # type: ignore[attr-defined]


def add(session: Session, effects: Sequence[NewEffect], now: datetime) -> None:
    """Owes the effects; one already owed under the same key stays as it is."""
    for effect in effects:
        insert_ignoring_duplicates(session, SlackEffect, _owed_row(effect, now, attempts=0))


def _owed_row(effect: NewEffect, now: datetime, attempts: int) -> dict[str, Any]:
    """The row of an effect owed from `now`, after `attempts` attempts."""
    return {
        "key": effect.key,
        "team_id": effect.team_id,
        "kind": effect.kind,
        "payload": effect.payload,
        "status": EFFECT_PENDING,
        "attempts": attempts,
        "next_attempt_at": now,
        "expires_at": effect.expires_at,
        "created_at": now,
    }


def add_claimed(
    session: Session, effects: Sequence[NewEffect], now: datetime, lease: timedelta
) -> tuple[list[ClaimedEffect], list[str]]:
    """Owes the effects already claimed by the caller (a first attempt under a lease), to do
    them at once; one already owed under the same key stays as it is. Returns the claims of
    the new ones, and the keys that were owed already."""
    token = str(uuid.uuid4())
    claimed: list[ClaimedEffect] = []
    known: list[str] = []
    for effect in effects:
        row = _owed_row(effect, now, attempts=1)
        row.update(claimed_until=now + lease, claim_token=token)
        new = insert_ignoring_duplicates(session, SlackEffect, row)
        if not new:
            known.append(effect.key)
            continue
        claimed.append(
            ClaimedEffect(
                key=effect.key,
                team_id=effect.team_id,
                kind=effect.kind,
                payload=effect.payload,
                attempts=1,
                created_at=now,
                expires_at=effect.expires_at,
                claim_token=token,
            )
        )
    return claimed, known


def add_latest(session: Session, effects: Sequence[NewEffect], now: datetime) -> None:
    """Owes effects that show the state as it is when they are done (a redraw), one row per
    key: one still waiting stays the one (it will show this change too), one finished is owed
    anew, and one being done now is marked to be done once more when it ends."""
    if not effects:
        return
    table = SlackEffect.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    existing = table.c
    waiting = existing.status == EFFECT_PENDING
    in_flight = and_(waiting, existing.claimed_until.is_not(None), existing.claimed_until > now)
    upsert = insert.on_conflict_do_update(
        index_elements=[existing.key],
        set_={
            "kind": insert.excluded.kind,
            "payload": insert.excluded.payload,
            "expires_at": insert.excluded.expires_at,
            "status": EFFECT_PENDING,
            # A finished one starts afresh; a waiting one keeps its count, so backoff holds.
            "attempts": case((waiting, existing.attempts), else_=0),
            "next_attempt_at": now,
            "owed_again": in_flight,
            "finished_at": None,
        },
    )
    for effect in effects:
        session.execute(
            upsert,
            {
                "key": effect.key,
                "team_id": effect.team_id,
                "kind": effect.kind,
                "payload": effect.payload,
                "status": EFFECT_PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "expires_at": effect.expires_at,
                "owed_again": False,
                "created_at": now,
            },
        )


def claim(
    session: Session, keys: Sequence[str], now: datetime, lease: timedelta
) -> list[ClaimedEffect]:
    """Claims these effects if they are pending and nobody holds them (right after the ack)."""
    if not keys:
        return []
    query = select(_TABLE).where(_TABLE.c.key.in_(list(keys)), *_claimable(now))
    return _lease(session, list(session.connection().execute(_locked(session, query))), now, lease)


def claim_due(
    session: Session, team_id: str, now: datetime, limit: int, lease: timedelta
) -> list[ClaimedEffect]:
    """Claims the workspace's effects whose time has come and that nobody holds, oldest first
    (the tick)."""
    query = (
        select(_TABLE)
        .where(*_claimable(now), _TABLE.c.team_id == team_id, _TABLE.c.next_attempt_at <= now)
        .order_by(_TABLE.c.seq)
        .limit(limit)
    )
    return _lease(session, list(session.connection().execute(_locked(session, query))), now, lease)


def _claimable(now: datetime) -> tuple[object, ...]:
    # Core columns, not the ORM's: claims run after every ack, and rows are read as tuples.
    c = _TABLE.c
    return (c.status == EFFECT_PENDING, or_(c.claimed_until.is_(None), c.claimed_until <= now))


def _locked(session: Session, query):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _lease(
    session: Session, rows: list[Row[Any]], now: datetime, lease: timedelta
) -> list[ClaimedEffect]:
    if not rows:
        return []
    token = str(uuid.uuid4())
    claimed = [
        ClaimedEffect(
            key=row.key,
            team_id=row.team_id,
            kind=row.kind,
            payload=row.payload,
            attempts=row.attempts + 1,
            created_at=aware_utc(row.created_at),  # type: ignore[arg-type]
            expires_at=aware_utc(row.expires_at),
            claim_token=token,
        )
        for row in rows
    ]
    session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.seq.in_([row.seq for row in rows]))
        .values(
            claimed_until=now + lease,
            claim_token=token,
            attempts=_TABLE.c.attempts + 1,
            # What it shows is read after this claim: changes so far are in it.
            owed_again=False,
        )
    )
    return claimed


def again_if_owed(session: Session, key: str, token: str, now: datetime) -> bool:
    """A claimed effect just done, but owed again meanwhile: pending again, due now, with
    the claim released (True); False when it was not owed again."""
    c = _TABLE.c
    again = session.connection().execute(
        update(_TABLE)
        .where(
            c.key == key,
            c.claim_token == token,
            c.status == EFFECT_PENDING,
            c.owed_again.is_(True),
        )
        .values(
            owed_again=False,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
            claim_token=None,
        )
        .returning(c.key)
    )
    return again.first() is not None


def finish(
    session: Session,
    key: str,
    token: str,
    status: str,
    now: datetime,
    result: str | None = None,
    reason: str | None = None,
) -> bool:
    """Ends a claimed effect as done, dead or dropped; False when the claim was lost, or
    when it is to be done but was owed again meanwhile (see `again_if_owed`)."""
    assert status in (EFFECT_DONE, EFFECT_DEAD, EFFECT_DROPPED)
    ended = (_FINISH_DONE if status == EFFECT_DONE else _FINISH_ENDED).rows(
        session,
        {
            "effect_key": key,
            "token": token,
            "new_status": status,
            "new_result": result,
            "error": reason[:2000] if reason else None,
            "now": now,
        },
    )
    return bool(ended)


def _finish(done: bool) -> Prepared:
    c = _TABLE.c
    held = [c.key == bindparam("effect_key"), c.claim_token == bindparam("token")]
    held.append(c.status == EFFECT_PENDING)
    if done:
        held.append(c.owed_again.is_(False))
    return Prepared(
        update(_TABLE)
        .where(*held)
        .values(
            status=bindparam("new_status"),
            result=bindparam("new_result"),
            last_error=bindparam("error"),
            finished_at=bindparam("now", type_=UTCDateTime),
            claimed_until=None,
            claim_token=None,
        )
        .returning(c.key)
    )


# Built once, in Core, not the ORM, and run on the driver: this runs after every Slack effect.
_FINISH_DONE = _finish(done=True)
_FINISH_ENDED = _finish(done=False)


def retry_later(
    session: Session,
    key: str,
    token: str,
    next_attempt_at: datetime,
    reason: str | None,
    uncounted: bool = False,
) -> None:
    """Gives a claimed effect back for a later attempt (after a failure, or at shutdown);
    `uncounted`: the attempt its claim counted is taken back."""
    values: dict[str, object] = {
        "next_attempt_at": next_attempt_at,
        "claimed_until": None,
        "claim_token": None,
    }
    if uncounted:
        values["attempts"] = SlackEffect.attempts - 1
    if reason is not None:
        values["last_error"] = reason[:2000]
    session.execute(
        update(SlackEffect)
        .where(
            SlackEffect.key == key,
            SlackEffect.claim_token == token,
            SlackEffect.status == EFFECT_PENDING,
        )
        .values(**values)
    )


def retry_dead(session: Session, now: datetime, team_id: str | None = None) -> int:
    """Owes every dead effect (of one workspace, or all) again (after the cause was fixed)."""
    result = session.execute(
        update(SlackEffect)
        .where(SlackEffect.status == EFFECT_DEAD, *_of_team(team_id))
        .values(status=EFFECT_PENDING, attempts=0, next_attempt_at=now, finished_at=None)
    )
    return result.rowcount or 0


def _of_team(team_id: str | None) -> tuple[ColumnElement[bool], ...]:
    """The filter to one workspace's effects; none for every workspace's."""
    return () if team_id is None else (col(SlackEffect.team_id) == team_id,)


def counts(session: Session, team_id: str | None = None) -> EffectCounts:
    by_status = dict(
        session.exec(
            select(SlackEffect.status, func.count())
            .where(col(SlackEffect.status).in_([EFFECT_PENDING, EFFECT_DEAD]), *_of_team(team_id))
            .group_by(SlackEffect.status)
        ).all()
    )
    return EffectCounts(by_status.get(EFFECT_PENDING, 0), by_status.get(EFFECT_DEAD, 0))


def dead(session: Session, limit: int = 20, team_id: str | None = None) -> list[DeadEffect]:
    rows = session.exec(
        select(SlackEffect)
        .where(SlackEffect.status == EFFECT_DEAD, *_of_team(team_id))
        .order_by(col(SlackEffect.seq).desc())
        .limit(limit)
    )
    return [DeadEffect(r.key, r.kind, r.last_error or "", aware_utc(r.finished_at)) for r in rows]


def mentioning(session: Session, team_id: str, fragment: str) -> list[tuple[int, str]]:
    """Effects of the workspace whose key, payload, result or reason contain `fragment`, as
    (seq, all that text): for erasure, which decides on each."""
    like = f"%{fragment}%"
    rows = session.exec(
        select(SlackEffect).where(
            SlackEffect.team_id == team_id,
            or_(
                col(SlackEffect.key).like(like),
                col(SlackEffect.payload).like(like),
                col(SlackEffect.result).like(like),
                col(SlackEffect.last_error).like(like),
            ),
        )
    )
    return [
        (r.seq, "\n".join([r.key, r.payload, r.result or "", r.last_error or ""]))  # type: ignore[misc]
        for r in rows
    ]


def delete_many(session: Session, seqs: Sequence[int]) -> None:
    if seqs:
        session.exec(delete(SlackEffect).where(col(SlackEffect.seq).in_(list(seqs))))


def forget_finished(session: Session, before: datetime) -> int:
    """Deletes effects that ended before `before`: done work needs no record."""
    result = session.exec(
        delete(SlackEffect).where(
            col(SlackEffect.status).in_([EFFECT_DONE, EFFECT_DROPPED]),
            col(SlackEffect.finished_at) < before,
        )
    )
    return result.rowcount or 0
