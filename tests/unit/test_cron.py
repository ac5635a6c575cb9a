"""DIGEST_CRON is standard cron (Sunday = 0 or 7), translated for APScheduler 3 (Monday = 0)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.base import BaseTrigger

from bot.config import ConfigError, load_settings
from bot.domain.digest import Period, last_period
from bot.scheduler import cron_trigger

BERLIN = ZoneInfo("Europe/Berlin")
SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the day before the harness's Monday


def fires(
    trigger: BaseTrigger, start: datetime, count: int, before: datetime | None = None
) -> list[datetime]:
    found: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(found) < count and (before is None or fire < before):
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return found


def weekdays(trigger: BaseTrigger, zone: ZoneInfo = BERLIN, days: int = 14) -> set[str]:
    """Names of the local weekdays it fires on in two weeks."""
    until = SUNDAY_NOON + timedelta(days=days)
    return {
        f.astimezone(zone).strftime("%a").lower()
        for f in fires(trigger, SUNDAY_NOON, 10_000, before=until)
    }


def test_the_default_fires_on_monday_at_nine_in_the_configured_zone() -> None:
    trigger = cron_trigger("0 9 * * 1", "Europe/Berlin")

    found = fires(trigger, SUNDAY_NOON, 30)
    first = found[0]

    assert first == datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    assert first.astimezone(UTC) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    # Every week, across the change to summer time (28 March 2027), 09:00 on the wall clock.
    for fire in found:
        local = fire.astimezone(BERLIN)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    gaps = [b.astimezone(UTC) - a.astimezone(UTC) for a, b in pairwise(found)]
    assert gaps.count(timedelta(days=7) - timedelta(hours=1)) == 1


def test_the_default_setting_is_monday_nine_in_timezone() -> None:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "TIMEZONE": "Asia/Tokyo"},
        env_file=None,
    )
    trigger = cron_trigger(settings.digest_cron, settings.timezone)

    [fire] = fires(trigger, SUNDAY_NOON, 1)

    assert fire == datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.mark.parametrize("sunday", ["0", "7", "sun", "SUN"])
def test_zero_and_seven_mean_sunday(sunday: str) -> None:
    assert weekdays(cron_trigger(f"* * * * {sunday}", "UTC"), ZoneInfo("UTC")) == {"sun"}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("1-5", {"mon", "tue", "wed", "thu", "fri"}),
        ("mon-fri", {"mon", "tue", "wed", "thu", "fri"}),
        ("0,6", {"sat", "sun"}),
        ("5-7", {"fri", "sat", "sun"}),
        ("fri-sun", {"fri", "sat", "sun"}),
        ("*/2", {"sun", "tue", "thu", "sat"}),
        ("1-5/2", {"mon", "wed", "fri"}),
        ("*", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}),
        ("3,1-2", {"mon", "tue", "wed"}),
    ],
)
def test_weekday_ranges_lists_and_steps_count_from_sunday(field: str, expected: set[str]) -> None:
    assert weekdays(cron_trigger(f"30 8 * * {field}", "Europe/Berlin")) == expected


def test_minute_steps_and_hour_ranges_pass_through() -> None:
    trigger = cron_trigger("*/15 9-10 * * *", "Europe/Berlin")

    found = fires(trigger, datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN), 9)

    assert [f.astimezone(BERLIN).strftime("%H:%M") for f in found] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "09:00",
    ]


def test_day_of_month_and_weekday_together_mean_either_as_in_cron() -> None:
    trigger = cron_trigger("0 9 1 * 5", "UTC")  # the 1st, and every Friday

    found = fires(trigger, datetime(2026, 11, 30, tzinfo=UTC), 4)

    assert [f.date().isoformat() for f in found] == [
        "2026-12-01",  # a Tuesday: the 1st
        "2026-12-04",
        "2026-12-11",
        "2026-12-18",
    ]


@pytest.mark.parametrize(
    "expression",
    ["0 9 * * 8", "61 9 * * 1", "0 25 * * 1", "0 9 * * funday", "0 9 * *", "0 9 * * 5-2"],
)
def test_a_malformed_expression_is_a_config_error_naming_the_setting(expression: str) -> None:
    with pytest.raises(ConfigError) as raised:
        cron_trigger(expression, "UTC")

    message = str(raised.value)
    assert message.startswith(f"DIGEST_CRON={expression!r}") and "\n" not in message


def test_the_last_period_ends_at_the_latest_fire_time() -> None:
    trigger = cron_trigger("0 9 * * 1", "Europe/Berlin")
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    week = timedelta(days=7)

    assert last_period(trigger, monday) == Period(monday - week, monday)
    assert last_period(trigger, monday + timedelta(seconds=30)) == Period(monday - week, monday)
    assert last_period(trigger, monday - timedelta(seconds=1)) == Period(
        monday - 2 * week, monday - week
    )
    # A schedule that fires rarely is looked back for far enough.
    yearly = cron_trigger("0 9 1 1 *", "UTC")
    assert last_period(yearly, datetime(2027, 6, 1, tzinfo=UTC)) == Period(
        datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2027, 1, 1, 9, tzinfo=UTC)
    )
