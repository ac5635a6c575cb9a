"""What public /healthz answers, and the per-process details `guildbot status` shows.

/healthz must cost nothing: anyone may call it, as often as they like. So each process checks
itself every `CHECK_INTERVAL_S` in the background, and /healthz answers from that check alone:

- down: the last check could not write to the database, or no check succeeded for
  `OVERDUE_S` (a hung database);
- degraded: the database answers but the forwarder is paused (statements wait for the LRS;
  interactions still work);
- ok otherwise.

The check is a real write (this process's row in `process_status`, with the forwarder's state
and reason), since a database that reads but cannot write cannot keep an interaction either.
Those rows are how `guildbot status`, a separate process, sees every replica's forwarder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import utcnow
from bot.executor import BlockingExecutor
from bot.xapi.forwarder import PAUSED, Forwarder
from storage.database import Database
from storage.models import ProcessStatus
from storage.repositories import processes

log = logging.getLogger("guildbot.health")

CHECK_INTERVAL_S = 10.0
CHECK_TIMEOUT_S = 5.0
OVERDUE_S = 3 * CHECK_INTERVAL_S
STALE_AFTER = timedelta(seconds=3 * CHECK_INTERVAL_S)
"""A row older than this belongs to a process that stopped without saying so."""
FORGOTTEN_AFTER = timedelta(days=1)

OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass(frozen=True)
class Replica:
    """One process as its last check saw it."""

    process_id: str
    checked_at: datetime
    forwarder_state: str
    forwarder_detail: str | None
    last_delivery_at: datetime | None

    def stale(self, now: datetime) -> bool:
        return now - self.checked_at > STALE_AFTER


def replicas(database: Database) -> list[Replica]:
    """Every process that checked itself in the last day, by id."""
    with database.reading() as session:
        return [
            Replica(
                r.process_id,
                r.checked_at,
                r.forwarder_state,
                r.forwarder_detail,
                r.last_delivery_at,
            )
            for r in processes.every(session)
        ]


class Health:
    """This process's health, refreshed in the background; reading it costs nothing."""

    def __init__(self, database: Database, executor: BlockingExecutor, forwarder: Forwarder):
        self._database = database
        self._executor = executor
        self._forwarder = forwarder
        self.process_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._last_success: float | None = None
        self._failing = False
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> str:
        overdue = self._last_success is None or time.monotonic() - self._last_success > OVERDUE_S
        if self._failing or overdue:
            return DOWN
        return DEGRADED if self._forwarder.status.state == PAUSED else OK

    async def start(self) -> None:
        """Checks once (so the first /healthz is true), then every `CHECK_INTERVAL_S`."""
        await self.check()
        self._task = asyncio.create_task(self._every_interval())

    async def check(self) -> None:
        try:
            await asyncio.wait_for(self._executor.run(self._record), CHECK_TIMEOUT_S)
        except Exception as error:  # any failure to write means the database is not usable
            if not self._failing:
                log.warning("health check: database unavailable (%s)", type(error).__name__)
            self._failing = True
            return
        if self._failing:
            log.info("health check: database available again")
        self._failing = False
        self._last_success = time.monotonic()

    async def close(self) -> None:
        """Stops checking and removes this process's row (best effort: a row left behind is
        shown as stale, then forgotten)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._executor.run(self._forget), CHECK_TIMEOUT_S)

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            await self.check()

    def _record(self) -> None:
        forwarder = self._forwarder.status
        now = utcnow()
        with self._database.transaction() as session:
            processes.report(
                session,
                ProcessStatus(
                    process_id=self.process_id,
                    checked_at=now,
                    forwarder_state=forwarder.state,
                    forwarder_detail=forwarder.detail,
                    last_delivery_at=forwarder.last_delivery_at,
                ),
            )
            processes.forget_unchecked_since(session, now - FORGOTTEN_AFTER)

    def _forget(self) -> None:
        with self._database.transaction() as session:
            processes.forget(session, self.process_id)
