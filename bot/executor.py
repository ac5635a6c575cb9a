"""One bounded thread pool for every blocking call (database work) made from async code, and
the group commit that writes on the hot path go through."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from storage.database import Database

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("guildbot.executor")

# Units of work per transaction at most: a batch holds its locks until it commits, and one that
# fails runs again unit by unit.
MAX_BATCH = 64


class BlockingExecutor:
    """Runs sync functions off the event loop, at most `workers` at a time.

    Sized to the database pool so a burst of requests queues here instead of timing out
    waiting for a connection. With a `database`, work marked `@batchable` runs as group
    commits on `writers` threads of their own instead.
    """

    def __init__(self, workers: int, database: Database | None = None, writers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="guildbot-db")
        self._group = GroupCommit(database, writers) if database is not None else None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._group is not None and getattr(fn, "batchable", False):
            return await self._group.run(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        # In the caller's context (as asyncio.to_thread does), so what the work logs carries
        # the request's log fields.
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, call)

    def shutdown(self) -> None:
        if self._group is not None:
            self._group.stop()
        self._pool.shutdown(wait=True)


@dataclass
class _Unit:
    call: Callable[[], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


@dataclass(frozen=True)
class _Outcome:
    value: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Writer threads that each take every unit waiting (up to `MAX_BATCH`), run them one after
    the other in one transaction (`Database.batch`: each unit's own transactions join it),
    commit once, and then wake the event loop once for the whole batch.

    On one core, one commit and one wake-up per batch instead of per request is most of the
    cost of a write. Each unit still gets its own result or exception, and only after the
    commit that holds its writes: the ack still follows the commit. When a unit raises (a
    refusal, or a database error: a deadlock, a lost connection) or the commit fails, the
    batch is rolled back and every unit runs again alone, so one bad unit never fails the
    others and each ends as it would have on its own. No savepoint per unit: they cost more
    than the rare rerun.
    """

    def __init__(self, database: Database, writers: int) -> None:
        self._database = database
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._drain, name=f"guildbot-writer-{n}", daemon=True)
            for n in range(writers)
        ]
        for thread in self._threads:
            thread.start()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        self._queue.put(_Unit(call, future, loop))
        return await future

    def stop(self) -> None:
        """Finishes what is queued, then ends the writer threads."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def _drain(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            units = [first]
            while len(units) < MAX_BATCH:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
                if unit is None:
                    stopping = True
                    break
                units.append(unit)
            _deliver(units, self._outcomes(units))

    def _outcomes(self, units: list[_Unit]) -> list[_Outcome]:
        if len(units) == 1:
            return [_alone(units[0])]
        outcomes = []
        try:
            with self._database.batch() as session:
                for unit in units:
                    outcomes.append(_Outcome(unit.call()))
                    session.expunge_all()  # the next unit starts with no rows of this one
        except SQLAlchemyError:
            log.info("a group commit of %d failed; each runs alone", len(units), exc_info=True)
        except Exception:
            pass  # a unit refused (a quota, a rule): it may have written half; each runs alone
        else:
            return outcomes
        return [_alone(unit) for unit in units]


def _alone(unit: _Unit) -> _Outcome:
    try:
        return _Outcome(unit.call())
    except Exception as error:
        return _Outcome(error=error)


def _deliver(units: list[_Unit], outcomes: list[_Outcome]) -> None:
    """One wake-up per event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], _Outcome]]] = {}
    for unit, outcome in zip(units, outcomes, strict=True):
        by_loop.setdefault(unit.loop, []).append((unit.future, outcome))
    for loop, settled in by_loop.items():
        # RuntimeError: the loop closed, nobody waits for these any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[Any], _Outcome]]) -> None:
    for future, outcome in settled:
        if future.done():
            continue  # its caller gave up (cancelled)
        if outcome.error is not None:
            future.set_exception(outcome.error)
        else:
            future.set_result(outcome.value)
