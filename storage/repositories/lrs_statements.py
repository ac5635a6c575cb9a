"""The inbuilt LRS's statements: storing them with their filter keys, voiding, and queries.

Statements that refer to another (`StatementRef` objects, voiding ones included) are found by
every filter their target is found by, as xAPI asks: their keys include the target's, whichever
of the two was stored first. A voiding statement voids its target when both are stored, in
either order, unless the target is itself a voiding statement.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import (
    LrsActivityDefinition,
    LrsAttachment,
    LrsStatement,
    LrsStatementAttachment,
    LrsStatementKey,
)
from storage.prepared import Prepared
from storage.repositories import lrs_keys

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
FILL_VERSION = 1
FILL_TIMESTAMP = 2

_STATEMENT = LrsStatement.__table__  # type: ignore[attr-defined]
_KEY = LrsStatementKey.__table__  # type: ignore[attr-defined]
_ATTACHMENT = LrsAttachment.__table__  # type: ignore[attr-defined]
_LINK = LrsStatementAttachment.__table__  # type: ignore[attr-defined]
_DEFINITION = LrsActivityDefinition.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NewLrsStatement:
    """A valid statement to store. `body` is its JSON as kept (and replayed)."""

    statement_id: str
    body: str
    data: Mapping[str, Any]
    authority: Mapping[str, Any] | None = None
    """The credential's agent; None for guildbot's own statements."""
    attachments: Sequence[str] = ()
    """The `sha2` of each attachment whose bytes came with it."""


@dataclass(frozen=True)
class StoredStatement:
    seq: int
    statement_id: str
    body: str
    stored: datetime
    authority: str | None
    voided: bool
    fills: int = 0
    """What to add when handing it out (FILL_VERSION, FILL_TIMESTAMP)."""


@dataclass(frozen=True)
class Attachment:
    sha2: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class StatementFilter:
    """A statement query: every key must match; `stored` in (since, until]; newest first unless
    ascending; `after` continues a page from that `seq` (exclusive)."""

    keys: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    ascending: bool = False
    after: int | None = None


def _normal_id(statement_id: str) -> str:
    return statement_id.lower()


def store(session: Session, statements: Iterable[NewLrsStatement], ignore_known: bool) -> int:
    """Stores statements in order; returns how many were new.

    `ignore_known`: a statement whose id is already stored is left as it is (guildbot's own,
    queued again by a redelivered Slack event). Otherwise the caller has checked for conflicts.
    """
    added = 0
    for statement in statements:
        seq = _insert(session, statement, ignore_known)
        if seq is None:
            continue
        added += 1
        _index(session, seq, statement)
        _remember_definitions(session, [statement.data])
        if statement.attachments:
            _link_attachments(session, seq, statement.attachments)
    return added


def store_own(session: Session, statements: Iterable[tuple[str, str]]) -> None:
    """guildbot's own statements (id, exact bytes), queued with the outbox rows that carry them:
    the LRS holds them as soon as the transaction that made them commits.

    This runs before every ack that records something, so statements that refer to no other
    (all but voiding ones) are stored together, on the driver (storage/prepared.py): one
    call for the statements, one for their keys, one for their activity definitions (each one
    multi-row INSERT on PostgreSQL), one look for statements that refer to them. The rest go
    one by one.
    """
    plain: list[NewLrsStatement] = []
    referring: list[NewLrsStatement] = []
    for statement_id, body in statements:
        statement = NewLrsStatement(statement_id, body, json.loads(body))
        (referring if _target_of(statement.data) else plain).append(statement)
    _store_plain(session, plain)
    store(session, referring, ignore_known=True)


def _store_plain(session: Session, statements: list[NewLrsStatement]) -> None:
    """`store(…, ignore_known=True)` for statements whose object is no StatementRef, together."""
    if not statements:
        return
    dialect = session.get_bind().dialect.name
    rows = [
        {
            "statement_id": _normal_id(s.statement_id),
            "body": s.body,
            "authority": None,
            "target_id": None,
            "voiding": False,
            "voided": False,
            "fills": (FILL_VERSION if "version" not in s.data else 0)
            | (FILL_TIMESTAMP if "timestamp" not in s.data else 0),
        }
        for s in statements
    ]
    if dialect != "postgresql":
        stored = datetime.now(UTC)
        for row in rows:
            row["stored"] = stored
    insert_own = _insert_own(dialect)
    new = {statement_id: seq for seq, statement_id in insert_own.rows_many(session, rows)}
    added = [s for s in statements if _normal_id(s.statement_id) in new]
    if not added:
        return
    keys = {s.statement_id: lrs_keys.statement_keys(s.data) for s in added}
    # Statements stored earlier that refer to these ones: found by their keys too, and
    # voiding them.
    referrers = _REFERRERS.rows(session, {"ids": list(new)})
    key_rows = [
        {"key": k, "seq": new[_normal_id(s.statement_id)]}
        for s in added
        for k in sorted(keys[s.statement_id])
    ]
    _insert_ignoring(_KEY, dialect).run_many(session, key_rows)
    _remember_definitions(session, [s.data for s in added])
    for statement in added:
        statement_id = _normal_id(statement.statement_id)
        # (seq, voiding) of each statement stored earlier that refers to this one
        theirs = [(s, voiding) for s, voiding, target in referrers if target == statement_id]
        if any(voiding for _, voiding in theirs):
            seq = new[statement_id]
            session.execute(update(_STATEMENT).where(_STATEMENT.c.seq == seq).values(voided=True))
        _spread(session, [s for s, _ in theirs], keys[statement.statement_id])


_OWN_INSERTS: dict[str, Prepared] = {}
# Run on the driver (storage/prepared.py): looked for on every ack that records something.
_REFERRERS = Prepared(
    select(_STATEMENT.c.seq, _STATEMENT.c.voiding, _STATEMENT.c.target_id).where(
        _STATEMENT.c.target_id.in_(bindparam("ids", expanding=True))
    )
)


@functools.cache
def _insert_ignoring(table: Table, dialect: str) -> Prepared:
    """INSERT … ON CONFLICT DO NOTHING, built once per table and dialect, run on the driver."""
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return Prepared(maker(table).on_conflict_do_nothing())


def _insert_own(dialect: str) -> Prepared:
    """INSERT … ON CONFLICT DO NOTHING RETURNING seq, statement_id, built once per dialect."""
    if dialect not in _OWN_INSERTS:
        maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
        query = maker(_STATEMENT).on_conflict_do_nothing(index_elements=["statement_id"])
        _OWN_INSERTS[dialect] = Prepared(
            query.returning(_STATEMENT.c.seq, _STATEMENT.c.statement_id),
            # On PostgreSQL the server's clock, the one `consistent_through` compares with.
            each_row={"stored": func.clock_timestamp()} if dialect == "postgresql" else None,
        )
    return _OWN_INSERTS[dialect]


def _insert(session: Session, statement: NewLrsStatement, ignore_known: bool) -> int | None:
    data = statement.data
    target = data["object"]
    target_id = _normal_id(target["id"]) if target.get("objectType") == "StatementRef" else None
    values = {
        "statement_id": _normal_id(statement.statement_id),
        "body": statement.body,
        "stored": _stored_now(session),
        "authority": (
            json.dumps(statement.authority, separators=(",", ":")) if statement.authority else None
        ),
        "target_id": target_id,
        "voiding": target_id is not None and data["verb"]["id"] == VOIDED_VERB,
        "voided": False,
        "fills": (FILL_VERSION if "version" not in data else 0)
        | (FILL_TIMESTAMP if "timestamp" not in data else 0),
    }
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    query = maker(_STATEMENT).values(**values)
    if ignore_known:
        query = query.on_conflict_do_nothing(index_elements=["statement_id"])
    row = session.execute(query.returning(_STATEMENT.c.seq)).first()
    return None if row is None else int(row[0])


def _stored_now(session: Session) -> Any:
    """The moment of storing. On PostgreSQL the server's clock, the one `consistent_through`
    compares with transaction start times; SQLite has one clock, this machine's."""
    if session.get_bind().dialect.name == "postgresql":
        return func.clock_timestamp()
    return datetime.now(UTC)


def _index(session: Session, seq: int, statement: NewLrsStatement) -> None:
    data = statement.data
    keys = lrs_keys.statement_keys(data, statement.authority)
    target_id = _target_of(data)
    voiding = target_id is not None and data["verb"]["id"] == VOIDED_VERB
    if target_id is not None:
        target = session.execute(
            select(_STATEMENT.c.seq, _STATEMENT.c.voiding).where(
                _STATEMENT.c.statement_id == target_id
            )
        ).first()
        if target is not None:
            keys.update(_keys_of(session, target.seq))
            if voiding and not target.voiding:
                session.execute(
                    update(_STATEMENT).where(_STATEMENT.c.seq == target.seq).values(voided=True)
                )
    _add_keys(session, seq, keys)
    # Statements stored earlier that refer to this one: found by its keys too, and voiding it.
    referrers = session.execute(
        select(_STATEMENT.c.seq, _STATEMENT.c.voiding).where(
            _STATEMENT.c.target_id == _normal_id(statement.statement_id), _STATEMENT.c.seq != seq
        )
    ).all()
    if any(r.voiding for r in referrers) and not voiding:
        session.execute(update(_STATEMENT).where(_STATEMENT.c.seq == seq).values(voided=True))
    _spread(session, [r.seq for r in referrers], keys)


def _spread(session: Session, seqs: Sequence[int], keys: set[str]) -> None:
    """Gives statements (and, in turn, those referring to them) these keys."""
    seen: set[int] = set()
    while seqs:
        for seq in seqs:
            _add_keys(session, seq, keys)
        seen.update(seqs)
        ids = session.execute(
            select(_STATEMENT.c.statement_id).where(_STATEMENT.c.seq.in_(seqs))
        ).scalars()
        seqs = [
            s
            for s in session.execute(
                select(_STATEMENT.c.seq).where(_STATEMENT.c.target_id.in_(list(ids)))
            ).scalars()
            if s not in seen
        ]


def _target_of(data: Mapping[str, Any]) -> str | None:
    target = data["object"]
    return _normal_id(target["id"]) if target.get("objectType") == "StatementRef" else None


def _keys_of(session: Session, seq: int) -> set[str]:
    return set(session.execute(select(_KEY.c.key).where(_KEY.c.seq == seq)).scalars())


def _add_keys(session: Session, seq: int, keys: Iterable[str]) -> None:
    rows = [{"key": k, "seq": seq} for k in sorted(set(keys))]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(maker(_KEY).on_conflict_do_nothing(), rows)


def _remember_definitions(session: Session, statements: Iterable[Mapping[str, Any]]) -> None:
    """The activity definitions these statements carry, in one INSERT (each once)."""
    rows = {}
    seen_at = datetime.now(UTC)
    for data in statements:
        for activity in lrs_keys.activities(data):
            definition = activity.get("definition")
            if not definition:
                continue
            text_ = json.dumps(definition, sort_keys=True, separators=(",", ":"))
            activity_key = lrs_keys.digest(activity["id"])
            definition_hash = lrs_keys.digest(text_)
            rows[(activity_key, definition_hash)] = {
                "activity_key": activity_key,
                "definition_hash": definition_hash,
                "activity_id": activity["id"],
                "definition": text_,
                "seen_at": seen_at,
            }
    if rows:
        dialect = session.get_bind().dialect.name
        _insert_ignoring(_DEFINITION, dialect).run_many(session, list(rows.values()))


def _link_attachments(session: Session, seq: int, hashes: Sequence[str]) -> None:
    session.execute(insert(_LINK), [{"seq": seq, "sha2": h} for h in dict.fromkeys(hashes)])


def keep_attachments(session: Session, attachments: Iterable[Attachment]) -> None:
    """Stores attachment bytes once per hash (an identical one is already there)."""
    rows = [
        {"sha2": a.sha2, "content_type": a.content_type, "content": a.content}
        for a in {a.sha2: a for a in attachments}.values()
    ]
    if rows:
        dialect = session.get_bind().dialect.name
        maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(maker(_ATTACHMENT).on_conflict_do_nothing(), rows)


# Reading -----------------------------------------------------------------------------------------


_COLUMNS = (
    _STATEMENT.c.seq,
    _STATEMENT.c.statement_id,
    _STATEMENT.c.body,
    _STATEMENT.c.stored,
    _STATEMENT.c.authority,
    _STATEMENT.c.voided,
    _STATEMENT.c.fills,
)


def _stored(row: Any) -> StoredStatement:
    return StoredStatement(
        row.seq,
        row.statement_id,
        row.body,
        row.stored,
        row.authority,
        row.voided,
        row.fills,
    )


def by_ids(session: Session, statement_ids: Sequence[str]) -> dict[str, StoredStatement]:
    """Stored statements with these ids (voided or not), by lowercase id."""
    if not statement_ids:
        return {}
    rows = session.execute(
        select(*_COLUMNS).where(
            _STATEMENT.c.statement_id.in_([_normal_id(i) for i in statement_ids])
        )
    )
    return {row.statement_id: _stored(row) for row in rows}


def find(session: Session, wanted: StatementFilter, limit: int) -> list[StoredStatement]:
    """Statements matching every filter, voided ones left out, in `seq` order."""
    if session.get_bind().dialect.name == "postgresql":
        # Walk the first key's index newest first, fetching each statement by its primary key.
        # Assuming a key's statements spread evenly over time, the planner may otherwise merge
        # join from the statement table's newest row down to the key's (measured on a million
        # statements: 1.5 s for a page from the middle, against 3 ms).
        session.connection().exec_driver_sql(
            "SET LOCAL enable_mergejoin = off; SET LOCAL enable_hashjoin = off"
        )
    query = _query(wanted)
    return [_stored(row) for row in session.execute(query.limit(limit))]


def _query(wanted: StatementFilter) -> Select[Any]:
    keys = list(wanted.keys)
    if keys:
        first = _KEY.alias("k0")
        order = first.c.seq
        query = (
            select(*_COLUMNS)
            .select_from(first.join(_STATEMENT, _STATEMENT.c.seq == first.c.seq))
            .where(first.c.key == keys[0])
        )
        for number, other in enumerate(keys[1:], start=1):
            alias = _KEY.alias(f"k{number}")
            query = query.where(
                exists().where(and_(alias.c.seq == _STATEMENT.c.seq, alias.c.key == other))
            )
    else:
        order = _STATEMENT.c.seq
        query = select(*_COLUMNS)
    query = query.where(_STATEMENT.c.voided.is_(False))
    if wanted.since is not None:
        query = query.where(_STATEMENT.c.stored > wanted.since)
    if wanted.until is not None:
        query = query.where(_STATEMENT.c.stored <= wanted.until)
    if wanted.after is not None:
        query = query.where(order > wanted.after if wanted.ascending else order < wanted.after)
        if keys:  # the same bound on the statement side, for whatever plan reads it
            seq = _STATEMENT.c.seq
            query = query.where(seq > wanted.after if wanted.ascending else seq < wanted.after)
    return query.order_by(order.asc() if wanted.ascending else order.desc())


def attachments_by_statement(session: Session, seqs: Sequence[int]) -> dict[int, list[Attachment]]:
    """The stored attachments each of these statements carries."""
    found: dict[int, list[Attachment]] = {}
    if not seqs:
        return found
    rows = session.execute(
        select(_LINK.c.seq, _ATTACHMENT.c.sha2, _ATTACHMENT.c.content_type, _ATTACHMENT.c.content)
        .join(_ATTACHMENT, _ATTACHMENT.c.sha2 == _LINK.c.sha2)
        .where(_LINK.c.seq.in_(list(seqs)))
        .order_by(_LINK.c.seq, _ATTACHMENT.c.sha2)
    )
    for row in rows:
        found.setdefault(row.seq, []).append(
            Attachment(row.sha2, row.content_type, bytes(row.content))
        )
    return found


def definitions(session: Session, activity_id: str) -> list[dict[str, Any]]:
    """Every definition statements gave this activity, oldest first."""
    rows = session.execute(
        select(_DEFINITION.c.definition)
        .where(_DEFINITION.c.activity_key == lrs_keys.digest(activity_id))
        .order_by(_DEFINITION.c.seen_at, _DEFINITION.c.definition_hash)
    ).scalars()
    return [json.loads(row) for row in rows]


def consistent_through(session: Session) -> datetime:
    """A moment before which every statement stored is visible to reads that start now.

    PostgreSQL: the server's clock, or the start of the oldest transaction still writing if
    earlier (a statement it stores gets a later `stored`). SQLite takes one writer at a time,
    and a statement is written just before its transaction commits: this machine's clock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return datetime.now(UTC)
    moment = session.execute(
        text(
            "SELECT least(clock_timestamp(), ("
            "SELECT min(xact_start) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
            "AND datname = current_database() AND pid <> pg_backend_pid()))"
        )
    ).scalar_one()
    return moment.astimezone(UTC)


def after(session: Session, seq: int, limit: int) -> list[StoredStatement]:
    """Every statement, voided ones too, in the order stored, from just after `seq` (replay)."""
    rows = session.execute(
        select(*_COLUMNS).where(_STATEMENT.c.seq > seq).order_by(_STATEMENT.c.seq).limit(limit)
    )
    return [_stored(row) for row in rows]


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(_STATEMENT)).scalar_one())


# Erasure -----------------------------------------------------------------------------------------


def delete_statements(session: Session, statement_ids: Sequence[str]) -> int:
    """Deletes these statements, their keys and attachments no other statement carries."""
    if not statement_ids:
        return 0
    seqs = list(
        session.execute(
            select(_STATEMENT.c.seq).where(
                _STATEMENT.c.statement_id.in_([_normal_id(i) for i in statement_ids])
            )
        ).scalars()
    )
    return _delete_seqs(session, seqs)


def delete_about_agents(session: Session, agent_digests: Sequence[str]) -> int:
    """Deletes every statement an agent is related to (actor, object, authority, context…)."""
    if not agent_digests:
        return 0
    seqs = list(
        session.execute(
            select(_KEY.c.seq)
            .where(_KEY.c.key.in_([lrs_keys.RELATED_AGENT + d for d in agent_digests]))
            .distinct()
        ).scalars()
    )
    return _delete_seqs(session, seqs)


def _delete_seqs(session: Session, seqs: list[int]) -> int:
    """Deletes statements with what only they kept: keys, attachments, activity definitions."""
    if not seqs:
        return 0
    hashes = list(
        session.execute(select(_LINK.c.sha2).where(_LINK.c.seq.in_(seqs)).distinct()).scalars()
    )
    mentioned = {
        activity["id"]
        for body in session.execute(
            select(_STATEMENT.c.body).where(_STATEMENT.c.seq.in_(seqs))
        ).scalars()
        for activity in lrs_keys.activities(json.loads(body))
    }
    session.execute(delete(_KEY).where(_KEY.c.seq.in_(seqs)))
    session.execute(delete(_LINK).where(_LINK.c.seq.in_(seqs)))
    removed = session.execute(delete(_STATEMENT).where(_STATEMENT.c.seq.in_(seqs))).rowcount or 0
    if hashes:
        still = select(_LINK.c.sha2).where(_LINK.c.sha2.in_(hashes))
        session.execute(
            delete(_ATTACHMENT).where(
                _ATTACHMENT.c.sha2.in_(hashes), _ATTACHMENT.c.sha2.not_in(still.scalar_subquery())
            )
        )
    forgotten = [
        lrs_keys.digest(activity_id)
        for activity_id in mentioned
        if session.execute(
            select(_KEY.c.seq).where(
                _KEY.c.key == lrs_keys.key(lrs_keys.RELATED_ACTIVITY, activity_id)
            )
        ).first()
        is None
    ]
    if forgotten:
        session.execute(delete(_DEFINITION).where(_DEFINITION.c.activity_key.in_(forgotten)))
    return removed
