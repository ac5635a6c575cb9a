"""Schema migrations: what start-up runs on every replica, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.domain.people import PeopleDirectory
from storage.database import SQLITE_BUSY_TIMEOUT_MS, Database
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import metadata
from storage.repositories import people, workspaces
from storage.repositories.faq import autogenerate_sees
from storage.types import UTCDateTime
from tests.support.databases import DIALECTS, dialect_of, empty_database

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = {"kudos", "outbox", "person", "processed_event", "workspace"}


@pytest.fixture(params=DIALECTS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database that has never been migrated."""
    with empty_database(dialect_of(request), tmp_path) as database:
        yield database


def test_a_fresh_database_gets_every_table_and_the_head_revision(fresh: Database) -> None:
    assert current_revision(fresh) is None

    upgrade(fresh)

    assert set(inspect(fresh.engine).get_table_names()) >= TABLES
    assert head_revision() is not None
    assert current_revision(fresh) == head_revision()


def test_upgrading_again_changes_nothing_and_keeps_the_data(database: Database) -> None:
    with database.transaction() as session:
        workspaces.remember(session, "T1", "https://acme.slack.com/", None, "B1", NOW)
    tables_before = set(inspect(database.engine).get_table_names())

    upgrade(database)
    upgrade(database)

    assert current_revision(database) == head_revision()
    assert set(inspect(database.engine).get_table_names()) == tables_before
    with database.reading() as session:
        kept = workspaces.get(session, "T1")
    assert kept is not None
    assert kept.home_page == "https://acme.slack.com/"


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        # As env.py: the full-text-search objects of migration 0005 are not the models'.
        opts = {"compare_type": True, "include_name": autogenerate_sees}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_profiles_cached_by_display_name_are_looked_up_again_after_the_upgrade(
    fresh: Database,
) -> None:
    """Before 0012 the cache held display names ("Dan"); statements now name people by
    their full names, so a profile cached before the upgrade is fetched from Slack again."""
    upgrade(fresh, "0011")
    person = sa.table(
        "person",
        *(sa.column(name) for name in ("team_id", "user_id", "display_name", "email", "tz")),
        sa.column("is_bot", sa.Boolean()),
        sa.column("deleted", sa.Boolean()),
        sa.column("refreshed_at", UTCDateTime()),
    )
    with fresh.engine.begin() as connection:
        connection.execute(
            person.insert().values(
                team_id="T1",
                user_id="U0DAN",
                display_name="Dan",
                email="dan@acme.test",
                tz="UTC",
                is_bot=False,
                deleted=False,
                refreshed_at=NOW,
            )
        )

    upgrade(fresh)

    assert PeopleDirectory(fresh, lambda: NOW).fresh("T1", ["U0DAN"]) == {}
    with fresh.reading() as session:
        kept = people.get_many(session, "T1", ["U0DAN"])["U0DAN"]
    # Kept until then: erasure finds statements by the cached e-mail address.
    assert (kept.full_name, kept.email) == ("Dan", "dan@acme.test")


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        upgrade(database)
        with database.engine.connect() as connection:
            journal_mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    finally:
        database.dispose()

    assert str(journal_mode).lower() == "wal"
    assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS
    assert busy_timeout > 0


def test_sqlite_writers_queue_instead_of_failing_with_database_is_locked(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'queue.db'}")
    upgrade(database)
    first_holds_lock = threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with database.transaction() as session:
                workspaces.remember(session, "T1", "https://one.slack.com/", None, None, NOW)
                first_holds_lock.set()
                threading.Event().wait(0.5)  # hold the write lock for a while
        except BaseException as error:
            errors.append(error)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert first_holds_lock.wait(5)
        # Starts while the other writer holds the lock: must wait, then succeed.
        with database.transaction() as session:
            workspaces.remember(session, "T2", "https://two.slack.com/", None, None, NOW)
    finally:
        writer.join()
        database.dispose()

    assert errors == []
    database = Database(f"sqlite:///{tmp_path / 'queue.db'}")
    try:
        with database.reading() as session:
            assert workspaces.get(session, "T1") is not None
            assert workspaces.get(session, "T2") is not None
    finally:
        database.dispose()


def test_two_replicas_migrating_a_fresh_postgresql_database_at_once_both_succeed(
    tmp_path: Path,
) -> None:
    with empty_database("postgresql", tmp_path) as first:
        second = Database(first.url)
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def replica(database: Database) -> None:
            try:
                start.wait(5)
                upgrade(database)
            except BaseException as error:
                errors.append(error)

        try:
            threads = [threading.Thread(target=replica, args=(db,)) for db in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        finally:
            second.dispose()

        assert errors == []
        assert current_revision(first) == head_revision()
        assert set(inspect(first.engine).get_table_names()) >= TABLES
        with first.engine.connect() as connection:
            versions = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar()
        assert versions == 1
