"""/kudos leaderboard [week|month|all]."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack


@pytest.fixture
async def board_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    clock.now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
    settings = settings_for(tmp_path, slack, KUDOS_DAILY_LIMIT="50")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


def rankings(reply: dict) -> tuple[str, str]:
    fields = next(b for b in reply["blocks"] if b["type"] == "section")["fields"]
    return fields[0]["text"], fields[1]["text"]


async def give(bot: BotHarness, giver: str, receiver: str, times: int = 1) -> None:
    for n in range(times):
        await bot.command("/kudos", f"<@{receiver}> for helping out, round {n}", giver)


async def test_ranks_receivers_and_givers_with_counts(board_bot: BotHarness) -> None:
    await give(board_bot, "U0ANN", "U0BOB", 3)
    await give(board_bot, "U0CAT", "U0ANN", 1)

    status, reply = await board_bot.command("/kudos", "leaderboard", "U0ANN")

    assert status == 200
    receivers, givers = rankings(reply)
    assert receivers.splitlines()[1:] == ["1. <@U0BOB>: 3 kudos", "2. <@U0ANN>: 1 kudos"]
    assert givers.splitlines()[1:] == ["1. <@U0ANN>: 3 kudos", "2. <@U0CAT>: 1 kudos"]
    assert "this week" in json.dumps(reply["blocks"])


async def test_ties_go_to_whoever_reached_the_count_first(
    board_bot: BotHarness, clock: SettableClock
) -> None:
    for giver, receiver in [("U0ANN", "U0BOB"), ("U0ANN", "U0CAT"), ("U0BOB", "U0CAT")]:
        await give(board_bot, giver, receiver)  # Cat reaches 2 kudos first…
        clock.now += timedelta(minutes=5)
    await give(board_bot, "U0CAT", "U0BOB")  # …Bob only later

    _, reply = await board_bot.command("/kudos", "leaderboard week", "U0ANN")

    receivers, _ = rankings(reply)
    assert receivers.splitlines()[1:] == ["1. <@U0CAT>: 2 kudos", "2. <@U0BOB>: 2 kudos"]


async def test_week_and_month_are_calendar_periods(
    board_bot: BotHarness, clock: SettableClock
) -> None:
    clock.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await give(board_bot, "U0ANN", "U0CAT")  # last month
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await give(board_bot, "U0ANN", "U0BOB")  # this month, this week (Tuesday)
    clock.now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

    boards = {
        period: rankings((await board_bot.command("/kudos", f"leaderboard {period}", "U0ANN"))[1])[
            0
        ]
        for period in ("week", "month", "all")
    }

    assert "<@U0CAT>" not in boards["week"] and "<@U0BOB>" in boards["week"]
    assert "<@U0CAT>" not in boards["month"]
    assert "<@U0CAT>" in boards["all"] and "<@U0BOB>" in boards["all"]


async def test_empty_board_and_unknown_period_get_friendly_answers(board_bot: BotHarness) -> None:
    _, empty = await board_bot.command("/kudos", "leaderboard", "U0ANN")
    _, unknown = await board_bot.command("/kudos", "leaderboard year", "U0ANN")

    assert "No kudos this week yet" in json.dumps(empty["blocks"])
    assert "I don't know the period “year”" in unknown["text"]
