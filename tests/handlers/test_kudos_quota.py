"""Daily kudos quotas, counted in the giver's own time zone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Kudos
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack, sign, slash_command_body


@pytest.fixture
async def quota_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    settings = settings_for(
        tmp_path,
        slack,
        KUDOS_DAILY_LIMIT="5",
        KUDOS_MANAGERS="U0CAT",
        KUDOS_MANAGER_DAILY_LIMIT="7",
    )
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


def given_by(bot: BotHarness, giver: str) -> int:
    with bot.database.reading() as session:
        return len(list(session.exec(select(Kudos).where(Kudos.giver_id == giver))))


async def test_the_confirmation_counts_down_and_the_sixth_kudos_is_refused(
    quota_bot: BotHarness,
) -> None:
    replies = [
        (await quota_bot.command("/kudos", f"<@U0BOB> for demo number {n}", "U0ANN"))[1]["text"]
        for n in range(6)
    ]

    assert "You have 4 kudos left today" in replies[0]
    assert "You have no kudos left today" in replies[4]
    assert "You've given all 5 of today's kudos" in replies[5]
    assert "<!date^" in replies[5]  # the reset time, shown in the reader's own zone
    assert given_by(quota_bot, "U0ANN") == 5
    assert len(quota_bot.slack.calls_to("chat.postMessage")) == 5


async def test_managers_get_their_own_limit(quota_bot: BotHarness) -> None:
    for n in range(8):
        await quota_bot.command("/kudos", f"<@U0BOB> for review number {n}", "U0CAT")

    assert given_by(quota_bot, "U0CAT") == 7


async def test_several_receivers_need_enough_quota_for_all(quota_bot: BotHarness) -> None:
    quota_bot.slack.add_user("U0DAN", "Dan")
    for n in range(3):
        await quota_bot.command("/kudos", f"<@U0BOB> for demo number {n}", "U0ANN")

    _, reply = await quota_bot.command(
        "/kudos", "<@U0BOB> <@U0CAT> <@U0DAN> for the launch party", "U0ANN"
    )

    assert "You have 2 kudos left today, not enough for 3 people" in reply["text"]
    assert given_by(quota_bot, "U0ANN") == 3


async def test_the_quota_resets_at_midnight_in_the_givers_time_zone(
    quota_bot: BotHarness, clock: SettableClock
) -> None:
    # Dan gives from Tokyo (UTC+9): his day ends while it is still mid-afternoon in UTC.
    quota_bot.slack.add_user("U0DAN", "Dan", tz="Asia/Tokyo")
    clock.now = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # 23:30 in Tokyo
    for n in range(5):
        await quota_bot.command("/kudos", f"<@U0BOB> for fix number {n}", "U0DAN")
    _, refused = await quota_bot.command("/kudos", "<@U0BOB> for one more fix", "U0DAN")

    clock.now += timedelta(minutes=40)  # 00:10 the next day in Tokyo, still the 30th in UTC
    _, accepted = await quota_bot.command("/kudos", "<@U0BOB> for the first fix today", "U0DAN")

    assert "You've given all 5" in refused["text"]
    assert "Kudos sent" in accepted["text"]
    assert given_by(quota_bot, "U0DAN") == 6


async def test_twenty_concurrent_kudos_from_one_giver_give_exactly_the_limit(
    quota_bot: BotHarness,
) -> None:
    bodies = [
        slash_command_body(
            "/kudos",
            f"<@U0BOB> for parallel work number {n}",
            "U0ANN",
            response_url=quota_bot.slack.response_url,
        )
        for n in range(20)
    ]

    results = await asyncio.gather(*(quota_bot.post(body, sign(body)) for body in bodies))
    await quota_bot.settle()

    assert [status for status, _ in results] == [200] * 20
    sent = [r for _, r in results if "Kudos sent" in r["text"]]
    refused = [r for _, r in results if "You've given all 5" in r["text"]]
    assert (len(sent), len(refused)) == (5, 15)
    assert given_by(quota_bot, "U0ANN") == 5
