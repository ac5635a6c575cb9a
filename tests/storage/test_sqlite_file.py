"""What the SQLite file itself keeps: deleted text must not linger in its bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import col, delete

from storage.database import Database
from storage.migrate import upgrade
from storage.models import Kudos
from storage.repositories import kudos

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "zanzibar-quokka-7731"


def file_bytes(path: Path) -> bytes:
    """The database file and its WAL, as anyone copying the files would get them."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def a_kudos(kudos_id: str, reason: str) -> Kudos:
    return Kudos(
        id=kudos_id,
        team_id="T0ACME",
        giver_id="U0ANN",
        receiver_id="U0BOB",
        reason=reason,
        channel_id="C0GENERAL",
        source="command",
        source_key=f"trigger-{kudos_id}",
        give_statement_id=f"give-{kudos_id}",
        receive_statement_id=f"receive-{kudos_id}",
        created_at=NOW,
    )


def built_without_secure_delete(database: Database) -> Database:
    """As on SQLite builds whose default is to leave deleted content in place (Debian's
    turns it on at compile time, python.org's and Homebrew's do not)."""

    def default_off(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA secure_delete=OFF")

    event.listen(database.engine, "connect", default_off, insert=True)
    return database


def test_deleted_rows_leave_no_trace_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "guildbot.db"
    database = built_without_secure_delete(Database(f"sqlite:///{path}"))
    upgrade(database)
    with database.transaction() as session:
        kudos.add(session, **a_kudos("k1", "for the demo").model_dump())
        kudos.add(session, **a_kudos("k2", f"for the {SECRET} write-up").model_dump())
        kudos.add(session, **a_kudos("k3", "for the review").model_dump())
    with database.transaction() as session:
        session.exec(delete(Kudos).where(col(Kudos.id) == "k2"))
    # Closing the last connection checkpoints the WAL into the file.
    database.dispose()

    assert SECRET.encode() not in file_bytes(path)
