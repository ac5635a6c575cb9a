"""Operator tasks behind the CLI and /healthz: outbox health and export (erasure is the
domain's: `bot.domain.erasure`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from storage.database import Database
from storage.repositories import lrs_credentials, lrs_statements
from storage.repositories import outbox as outbox_repo
from storage.repositories.outbox import DeadLetter, OutboxCounts


def outbox_counts(database: Database, team_id: str | None = None) -> OutboxCounts:
    """The outbox's statements by status: every workspace's, or `team_id`'s."""
    with database.reading() as session:
        return outbox_repo.counts(session, team_id)


def dead_letters(
    database: Database, limit: int = 20, team_id: str | None = None
) -> list[DeadLetter]:
    with database.reading() as session:
        return outbox_repo.dead_letters(session, limit, team_id)


def retry_dead(database: Database, now: datetime, team_id: str | None = None) -> int:
    with database.transaction() as session:
        return outbox_repo.retry_dead(session, now, team_id)


def export_statements(
    database: Database,
    since: datetime,
    until: datetime | None = None,
    team_id: str | None = None,
) -> Iterator[str]:
    """Every stored statement in the period (every workspace's, or `team_id`'s), as the exact
    JSON that went (or will go) out."""
    with database.reading() as session:
        yield from outbox_repo.bodies_since(session, since, until, team_id=team_id)


def statements_of(database: Database, team_id: str, user_id: str) -> list[str]:
    """The person's own statements (they are the actor), oldest first, as sent."""
    with database.reading() as session:
        return outbox_repo.bodies_by_actor(session, team_id, user_id)


def inbuilt_lrs_counts(database: Database) -> tuple[int, int]:
    """How many statements the inbuilt LRS holds, and how many keys can reach it."""
    with database.reading() as session:
        return lrs_statements.count(session), len(lrs_credentials.every(session))
