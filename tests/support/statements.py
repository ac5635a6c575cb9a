"""Hand-built, valid xAPI 1.0.3 statements and outbox helpers for forwarder tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from storage.database import Database
from storage.migrate import upgrade
from storage.models import OutboxStatement
from storage.repositories import outbox

HOME_PAGE = "https://guild-test.slack.com"
ACTIVITY_BASE = "https://guildbot.example.com/xapi"
GIVE = "http://activitystrea.ms/give"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
BASE_TIME = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Built:
    """A statement as the outbox holds it: its id and the bytes serialised once."""

    id: str
    body: str
    voiding: bool = False

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


def timestamp(when: datetime) -> str:
    # xAPI house rule: UTC, "Z", millisecond precision.
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _actor(user: str) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "name": f"Person {user}",
        "account": {"homePage": HOME_PAGE, "name": user},
    }


def give(
    n: int = 0,
    *,
    user: str = "U0TESTER1",
    note: str | None = None,
    statement_id: str | None = None,
    when: datetime | None = None,
) -> Built:
    """A kudos `give` statement; `note` lands in an extension (fake LRSs look for markers)."""
    statement_id = statement_id or str(uuid.uuid4())
    activity: dict[str, Any] = {
        "objectType": "Activity",
        "id": f"{ACTIVITY_BASE}/kudos/{statement_id}",
        "definition": {"name": {"en-US": f"Kudos #{n} – merci ✓"}},
    }
    statement: dict[str, Any] = {
        "id": statement_id,
        "actor": _actor(user),
        "verb": {"id": GIVE, "display": {"en-US": "gave"}},
        "object": activity,
        "timestamp": timestamp(when or BASE_TIME + timedelta(seconds=n)),
        "context": {"platform": "Slack"},
    }
    if note is not None:
        statement["context"]["extensions"] = {f"{ACTIVITY_BASE}/extensions/note": note}
    # Non-ASCII kept as is and compact separators: the forwarder must send these exact bytes.
    return Built(statement_id, json.dumps(statement, ensure_ascii=False, separators=(",", ":")))


def void(target: Built, *, user: str = "U0TESTER1", when: datetime | None = None) -> Built:
    statement_id = str(uuid.uuid4())
    statement = {
        "id": statement_id,
        "actor": _actor(user),
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target.id},
        "timestamp": timestamp(when or BASE_TIME + timedelta(hours=1)),
    }
    return Built(statement_id, json.dumps(statement, separators=(",", ":")), voiding=True)


def new_database(directory: Any) -> Database:
    """A migrated SQLite database in `directory` (a pytest tmp_path)."""
    database = Database(f"sqlite:///{directory}/t.db")
    upgrade(database)
    return database


def enqueue(database: Database, statements: Iterable[Built], now: datetime) -> None:
    with database.transaction() as session:
        outbox.add(
            session,
            [
                outbox.NewStatement(
                    statement_id=s.id,
                    team_id="T0TEST",
                    actor_id=s.data["actor"]["account"]["name"],
                    body=s.body,
                    timestamp=datetime.fromisoformat(s.data["timestamp"]),
                    voiding=s.voiding,
                )
                for s in statements
            ],
            now,
        )


def counts(database: Database) -> outbox.OutboxCounts:
    with database.reading() as session:
        return outbox.counts(session)


def statuses(database: Database, statements: Iterable[Built]) -> dict[str, str]:
    ids = [s.id for s in statements]
    with database.reading() as session:
        rows = session.exec(
            select(OutboxStatement.statement_id, OutboxStatement.status).where(
                col(OutboxStatement.statement_id).in_(ids)
            )
        )
        return dict(rows.all())


def dead_letters(database: Database) -> list[outbox.DeadLetter]:
    with database.reading() as session:
        return outbox.dead_letters(session, limit=1000)
