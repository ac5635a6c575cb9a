"""The database tick: everything time-based lives in the database, and each process looks at
it every ~30 s. Due rows are claimed atomically, so with several replicas each one is acted on
once; work that fell due while every process was down is found on the first tick."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("guildbot.scheduler")

TICK_SECONDS = 30

Job = Callable[[], Awaitable[object]]


def start_tick(jobs: list[Job]) -> AsyncIOScheduler:
    """Runs `jobs` on start-up and every `TICK_SECONDS`, one run at a time.

    APScheduler's default grace of 1 s silently skips a late run; a late tick still matters,
    so the grace is a whole tick and missed runs coalesce into one.
    """

    async def tick() -> None:
        for job in jobs:
            try:
                await job()
            except Exception:
                log.exception("tick job %s failed; it runs again next tick", job)

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=TICK_SECONDS),
        id="database-tick",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=TICK_SECONDS,
    )
    scheduler.start()
    return scheduler
