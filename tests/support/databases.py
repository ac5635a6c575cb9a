"""Storage fixtures: every storage test runs on a real SQLite file and on PostgreSQL.

PostgreSQL comes from `TEST_DATABASE_URL` (e.g. `postgresql://postgres@127.0.0.1:5432/test`);
each test gets a database of its own, created from that URL and dropped afterwards, so tests
never see each other's rows and can run in any order.

When the URL is unset, or no server answers there (a fresh machine), the PostgreSQL variants
skip with the reason shown. `REQUIRE_POSTGRES=1` (set by CI) turns that skip into a failure,
so CI can never pass while quietly testing SQLite alone.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.config import _database_url
from storage.database import Database
from storage.migrate import upgrade

TEST_DATABASE_URL = "TEST_DATABASE_URL"
REQUIRE_POSTGRES = "REQUIRE_POSTGRES"
SKIP_REASON = "TEST_DATABASE_URL is not set: PostgreSQL storage tests skipped"
DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_url() -> str:
    """The server to create scratch databases on (psycopg driver). Skips the test when unset or
    unreachable, or fails it when `REQUIRE_POSTGRES=1`."""
    raw = os.environ.get(TEST_DATABASE_URL, "").strip()
    problem = _unavailable(raw)
    if problem:
        if os.environ.get(REQUIRE_POSTGRES, "").strip() == "1":
            pytest.fail(f"{problem}, and {REQUIRE_POSTGRES}=1 forbids skipping them", pytrace=False)
        pytest.skip(problem)
    return _database_url(raw)


@functools.cache
def _unavailable(raw_url: str) -> str | None:
    """Why PostgreSQL tests cannot run (asked once per test run), or None when they can."""
    if not raw_url:
        return SKIP_REASON
    url = _database_url(raw_url)
    probe = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        where = make_url(url).render_as_string(hide_password=True)
        return (
            f"no PostgreSQL answered at {where} ({type(error).__name__}): "
            "PostgreSQL storage tests skipped"
        )
    finally:
        probe.dispose()
    return None


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[str]:
    """Creates `guildbot_t_<random>` on the server, yields its URL, then drops it."""
    name = f"guildbot_t_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def empty_database(dialect: str, directory: Path) -> Iterator[Database]:
    """A database with no tables yet: SQLite in `directory`, or a scratch PostgreSQL one."""
    if dialect == "sqlite":
        database = Database(f"sqlite:///{directory / 'guildbot-test.db'}")
        try:
            yield database
        finally:
            database.dispose()
        return
    with scratch_postgres(postgres_url()) as url:
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()


def dialect_of(request: pytest.FixtureRequest) -> str:
    """The fixture's parameter; PostgreSQL skips the test when TEST_DATABASE_URL is unset."""
    if request.param == "postgresql":
        postgres_url()
    return str(request.param)


@pytest.fixture(params=DIALECTS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database, on SQLite (a file in tmp_path) and on PostgreSQL (a scratch one)."""
    with empty_database(dialect_of(request), tmp_path) as db:
        upgrade(db)
        yield db
