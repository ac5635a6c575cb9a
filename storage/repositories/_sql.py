"""Dialect helpers shared by repositories."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Date, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, SQLModel

from storage.prepared import Prepared


@functools.cache
def _insert_or_ignore(table: Table, dialect: str) -> Prepared:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING tells new from ignored on both databases (psycopg reports rowcount -1 here).
    return Prepared(insert(table).on_conflict_do_nothing().returning(literal_column("1")))


def insert_ignoring_duplicates(
    session: Session, model: type[SQLModel], values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was new.

    Used wherever a redelivered request must not count twice: the unique key decides, in the
    same transaction as the effect, with no read-then-write race. One statement per table,
    run on the driver (this is on the ack path).
    """
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = _insert_or_ignore(table, session.get_bind().dialect.name)
    return bool(statement.rows(session, values))


@functools.cache
def _insert_many_or_ignore(table: Table, dialect: str, key: str) -> Prepared:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return Prepared(insert(table).on_conflict_do_nothing().returning(table.c[key]))


def insert_many_ignoring_duplicates(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], key: str
) -> set[Any]:
    """Like `insert_ignoring_duplicates` for many rows (one statement on PostgreSQL:
    `Prepared.rows_many`); returns the `key` values of the rows that were new."""
    if not rows:
        return set()
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = _insert_many_or_ignore(table, session.get_bind().dialect.name, key)
    return {found[0] for found in statement.rows_many(session, rows)}


def advisory_locks(session: Session, keys: list[str]) -> None:
    """Serialises work on the same keys until the transaction ends.

    PostgreSQL: transaction-scoped advisory locks, taken in sorted order so two transactions
    can't deadlock. SQLite: the write transaction (BEGIN IMMEDIATE) already serialises writers.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        _ADVISORY_LOCK.rows(session, {"key": key})


# Run on the driver: every /kudos takes its giver's before the ack.
_ADVISORY_LOCK = Prepared(select(func.pg_advisory_xact_lock(func.hashtext(bindparam("key")))))


class UtcDate(FunctionElement[Any]):
    """The UTC calendar day of a stored time, on either database."""

    type = Date()
    inherit_cache = True


@compiles(UtcDate)
@compiles(UtcDate, "sqlite")
def _utc_date_sqlite(element: UtcDate, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps times as UTC text (storage/types.py): its date() reads the day off. (Also
    # how the statement reads in logs.)
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(UtcDate, "postgresql")
def _utc_date_postgresql(element: UtcDate, compiler: SQLCompiler, **kw: Any) -> str:
    # Not the session's time zone: the day as UTC sees it, as on SQLite.
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS date)"
