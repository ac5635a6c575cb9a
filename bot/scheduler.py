"""The database tick: everything time-based lives in the database, and each process looks at
it every ~30 s. Due rows are claimed atomically, so with several replicas each one is acted on
once; work that fell due while every process was down is found on the first tick.

What the tick does is `handlers.tick_jobs`: in each workspace guildbot is installed in, with
its own token. The weekly digest is one of those jobs, not a cron job of its own: each
workspace has its own schedule (`DIGEST_CRON` is the default), so the tick posts each one's
within `TICK_SECONDS` of its time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import ConfigError
from bot.cron import cron_schedule

log = logging.getLogger("guildbot.scheduler")

TICK_SECONDS = 30

Job = Callable[[], Awaitable[object]]


@dataclass
class Tick:
    """The running scheduler, and the tick it may be in the middle of."""

    scheduler: AsyncIOScheduler
    running: set[asyncio.Task[object]] = field(default_factory=set)

    async def stop(self, grace: float) -> None:
        """Schedules nothing more; a tick already running gets `grace` seconds to finish,
        then is cut short (whatever it was doing is in the database, for the next process)."""
        # Not shutdown() yet: APScheduler cancels the jobs still running when it shuts down.
        self.scheduler.pause()
        if self.running:
            await asyncio.wait(set(self.running), timeout=grace)
        self.scheduler.shutdown(wait=False)
        if self.running:
            await asyncio.wait(set(self.running))


def start_tick(jobs: list[Job]) -> Tick:
    """Runs `jobs` on start-up and every `TICK_SECONDS`, one run at a time.

    APScheduler's default grace of 1 s silently skips a late run; a late tick still matters,
    so the grace is a whole tick and missed runs coalesce into one.
    """

    running: set[asyncio.Task[object]] = set()

    async def tick() -> None:
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            for job in jobs:
                try:
                    await job()
                except Exception:
                    log.exception("tick job %s failed; it runs again next tick", job)
        except asyncio.CancelledError:
            # Shutdown cut it short: expected, and nothing is lost (see Tick.stop).
            log.info("the tick was cut short by shutdown")
        finally:
            running.discard(task)

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
    return Tick(scheduler, running)


# DIGEST_CRON ------------------------------------------------------------------------------------


def cron_trigger(expression: str, timezone: str) -> BaseTrigger:
    """`bot.cron.cron_schedule`, with a bad `DIGEST_CRON` a `ConfigError` naming it."""
    try:
        return cron_schedule(expression, timezone)
    except ValueError as problem:
        raise ConfigError(
            f"DIGEST_CRON={expression!r} is not a valid cron expression ({problem}): expected "
            "e.g. '0 9 * * 1' (minute hour day month weekday; 0 or 7 = Sunday)"
        ) from None
