"""Dialect helpers shared by repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignoring_duplicates(
    session: Session, model: type[SQLModel], values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was new.

    Used wherever a redelivered request must not count twice: the unique key decides, in the
    same transaction as the effect, with no read-then-write race.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing()
    result = session.execute(statement)
    return bool(result.rowcount)
