"""Standard five-field cron (the digest's schedule: `DIGEST_CRON`, and each workspace's own) as
APScheduler triggers. Knows nothing of where the expression came from: a bad one is a
ValueError saying what is wrong, for the caller to name."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_STEP = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


def cron_schedule(expression: str, timezone: str) -> BaseTrigger:
    """An APScheduler trigger for a standard five-field cron expression, in `timezone`;
    ValueError (what is wrong) for anything else.

    APScheduler 3 numbers weekdays from Monday = 0 (`from_crontab` passes the field through),
    while cron counts from Sunday = 0, with 7 also Sunday: the weekday field is rewritten as
    the names of the days it means. As in cron, when both day of month and day of week are
    restricted (neither starts with `*`), either one matching is enough.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("expected five fields (minute hour day month weekday)")
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
        raise ValueError(str(problem).rstrip(".")) from None


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
