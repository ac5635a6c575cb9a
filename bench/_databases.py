"""The two databases a storage bench runs on: a temporary SQLite file and a scratch
PostgreSQL database (created on the given server, dropped afterwards)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError

from bot.config import _database_url
from storage.database import Database
from tests.support.databases import scratch_postgres


@contextmanager
def sqlite_database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="guildbot-bench-") as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.db'}")
        try:
            yield database
        finally:
            database.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[Database | None]:
    """A scratch database on the server, or None (after saying why) when it is unreachable."""
    server = _database_url(server_url)
    shown = make_url(server).render_as_string(hide_password=True)
    probe = create_engine(server)
    try:
        with probe.connect():
            pass
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        print(f"postgresql: {shown} is unreachable ({reason}): skipped")
        yield None
        return
    finally:
        probe.dispose()
    with scratch_postgres(server) as url:
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()
