"""The database tick: everything time-based lives in the database, and each process looks at
it every ~30 s. Due rows are claimed atomically, so with several replicas each one is acted on
once; work that fell due while every process was down is found on the first tick.

What the tick and the digest do is `handlers.tick_jobs` and `handlers.digest_job`: in each
workspace guildbot is installed in, with its own token.

The weekly digest is the one other job: a cron job at `DIGEST_CRON` in `TIMEZONE`."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import ConfigError

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


def start_tick(
    jobs: list[Job],
    digest: tuple[BaseTrigger, Job] | None = None,
    digest_grace: timedelta = timedelta(hours=6),
) -> Tick:
    """Runs `jobs` on start-up and every `TICK_SECONDS`, one run at a time; and `digest`'s job
    whenever its trigger fires.

    APScheduler's default grace of 1 s silently skips a late run; a late tick still matters,
    so the grace is a whole tick and missed runs coalesce into one. A late digest is still
    worth posting within `digest_grace`.
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
    if digest is not None:
        trigger, job = digest

        async def post_digest() -> None:
            try:
                await job()
            except Exception:
                log.exception("the digest job failed")

        scheduler.add_job(
            post_digest,
            trigger,
            id="digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(digest_grace.total_seconds()),
        )
    scheduler.start()
    return Tick(scheduler, running)


# DIGEST_CRON ------------------------------------------------------------------------------------

_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_STEP = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


def cron_trigger(expression: str, timezone: str) -> BaseTrigger:
    """An APScheduler trigger for a standard five-field cron expression, in `timezone`.

    APScheduler 3 numbers weekdays from Monday = 0 (`from_crontab` passes the field through),
    while cron counts from Sunday = 0, with 7 also Sunday: the weekday field is rewritten as
    the names of the days it means. As in cron, when both day of month and day of week are
    restricted (neither starts with `*`), either one matching is enough.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise _cron_error(expression, "expected five fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = (field.lower() for field in fields)
    zone = ZoneInfo(timezone)
    try:
        days = _weekdays(weekday)
        if not day.startswith("*") and not weekday.startswith("*"):
            return OrTrigger(
                [
                    CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=zone),
                    CronTrigger(
                        minute=minute, hour=hour, month=month, day_of_week=days, timezone=zone
                    ),
                ]
            )
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=days, timezone=zone
        )
    except ValueError as problem:
        raise _cron_error(expression, str(problem).rstrip(".")) from None


def _weekdays(field: str) -> str:
    """Cron's weekday field as APScheduler day names (`1-5` → `mon,tue,wed,thu,fri`)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        match = _STEP.match(part)
        if not match:
            raise ValueError(f"weekday {part!r} is not a day, a range or a step")
        step = int(match.group("step") or 1)
        if step == 0:
            raise ValueError(f"weekday {part!r} has a step of 0")
        if match.group("range") == "*":
            first, last = 0, 6
        else:
            bounds = match.group("range").split("-")
            first = _weekday(bounds[0])
            last = _weekday(bounds[-1]) if len(bounds) == 2 else first
            if len(bounds) == 2 and last == 0 and first > 0:
                last = 7  # `5-0`/`fri-sun`: up to Sunday
            if first > last:
                raise ValueError(f"weekday range {part!r} runs backwards")
            if match.group("step") and len(bounds) == 1:
                last = 7  # `1/2`: from Monday on, every other day
        days.update(number % 7 for number in range(first, last + 1, step))
    return ",".join(_WEEKDAY_NAMES[n] for n in sorted(days))


def _weekday(token: str) -> int:
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"weekday {token} is out of range (0-7, 0 or 7 = Sunday)")
        return number
    if token[:3] in _WEEKDAY_NAMES and len(token) == 3:
        return _WEEKDAY_NAMES.index(token)
    raise ValueError(f"weekday {token!r} is not a day (0-7 or sun-sat)")


def _cron_error(expression: str, problem: str) -> ConfigError:
    return ConfigError(
        f"DIGEST_CRON={expression!r} is not a valid cron expression ({problem}): expected e.g. "
        "'0 9 * * 1' (minute hour day month weekday; 0 or 7 = Sunday)"
    )
