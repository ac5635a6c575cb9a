"""Engine and transactions for SQLite (default) and PostgreSQL (psycopg)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

F = TypeVar("F", bound=Callable[..., Any])

# Slack waits 3 s for an ack; a write stuck behind another writer for longer is a lost cause.
SQLITE_BUSY_TIMEOUT_MS = 2500
POOL_SIZE = 8


def batchable(fn: F) -> F:
    """Marks a short write whose transactions may share a commit with other requests' writes
    (the executor runs it in a `Database.batch`). Only for work that may run again when its
    batch fails (it then runs alone), and that lets every database error it meets propagate."""
    fn.batchable = True  # type: ignore[attr-defined]
    return fn


class Database:
    """One engine per process; `transaction()` is the unit of work repositories run in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                pool_size=POOL_SIZE,
                max_overflow=0,
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(
                url, pool_size=POOL_SIZE, max_overflow=4, pool_pre_ping=True
            )
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        # SQLite takes one writer at a time; writers waiting in its busy handler sleep in
        # growing steps and are not woken when the lock frees, so queue them here instead.
        self._write_queue = threading.Lock() if self.is_sqlite else nullcontext()
        # The batch (see `batch()`) this thread is running, if any.
        self._local = threading.local()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on any exception.

        On SQLite writers of this process queue on a lock, and the transaction starts with
        BEGIN IMMEDIATE so a writer in another process makes it wait on the busy timeout
        instead of failing half-way with "database is locked".
        """
        batch: Session | None = getattr(self._local, "batch", None)
        if batch is not None:
            yield batch  # part of the batch's transaction (see `batch()`)
            return
        with (
            self._write_queue,
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (deferred transaction: readers never block writers in WAL).
        Inside a batch it reads the batch's transaction, so a unit sees its own writes."""
        batch: Session | None = getattr(self._local, "batch", None)
        if batch is not None:
            yield batch
            return
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def batch(self) -> Iterator[Session]:
        """One write transaction for many units of work (a group commit): every `transaction()`
        and `reading()` this thread opens meanwhile is part of it, and all of them commit
        together when the block ends (or none, when it raises)."""
        with self.transaction() as session:
            self._local.batch = session
            try:
                yield session
            finally:
                self._local.batch = None

    def ping(self) -> None:
        """Raises when the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def checkpoint(self) -> bool:
        """SQLite: copies the write-ahead log into the file and empties it, so pages that held
        erased rows are gone from the -wal file too. False when readers kept it from finishing
        (the next checkpoint does). PostgreSQL: nothing to do."""
        if not self.is_sqlite:
            return True
        with self.engine.connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        return busy == 0

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from pysqlite so `transaction()` can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros instead of lingering in free space (erasure
        # must not leave text behind); some builds default to off.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
