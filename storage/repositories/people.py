"""Cached Slack profile fields."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, delete, select

from storage.models import Person


def get_many(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Person]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Person).where(Person.team_id == team_id, col(Person.user_id).in_(ids))
    )
    return {row.user_id: row for row in rows}


def save(session: Session, person: Person) -> None:
    session.merge(person)


def delete_person(session: Session, team_id: str, user_id: str) -> int:
    result = session.exec(
        delete(Person).where(col(Person.team_id) == team_id, col(Person.user_id) == user_id)
    )
    return result.rowcount or 0
