"""Cached Slack profile fields."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from storage.models import Person

_KEY = ("team_id", "user_id")


def get_many(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Person]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Person).where(Person.team_id == team_id, col(Person.user_id).in_(ids))
    )
    return {row.user_id: row for row in rows}


def identities(session: Session, team_id: str) -> list[tuple[str, str | None]]:
    """(user id, e-mail address) of everyone the workspace's cache knows."""
    query = select(Person.user_id, Person.email).where(Person.team_id == team_id)
    return [(user_id, email) for user_id, email in session.exec(query)]


def save(session: Session, person: Person) -> None:
    """Inserts or refreshes the cached profile in one statement: two processes caching the
    same person at once must not collide (a read-then-insert did)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = person.model_dump()
    statement = insert(Person).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={k: statement.excluded[k] for k in values if k not in _KEY},
        )
    )


def delete_person(session: Session, team_id: str, user_id: str) -> int:
    result = session.exec(
        delete(Person).where(col(Person.team_id) == team_id, col(Person.user_id) == user_id)
    )
    return result.rowcount or 0
