"""Contributions: messages and thread replies in a community's channel are counted with
their permalinks (never their text), recorded as `commented` statements up to 3 a day per
person and community, and count as light evidence in `/expert`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.models import Contribution, OutboxStatement
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack

pytestmark = pytest.mark.usefixtures("no_listener_failures")

COMMENTED = "http://adlnet.gov/expapi/verbs/commented"
SECRET = "the quarterly numbers are in the vault"


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    settings = settings_for(tmp_path, slack, QA_CHANNEL="C0QA", XAPI_INCLUDE_TEXT="true")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


async def community(bot: BotHarness) -> str:
    await bot.command("/community", "create data-science #python", "U0ANN")
    return bot.slack.channel_names["data-science"]


async def say(
    bot: BotHarness,
    channel: str,
    user: str,
    n: int,
    thread_ts: str | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> str:
    ts = f"{bot.clock().timestamp() + n / 1000:.6f}"
    event = {"type": "message", "channel": channel, "user": user, "text": SECRET, "ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    await bot.event({**event, **extra}, event_id or f"Ev{ts}")
    return ts


def commented(bot: BotHarness) -> list[dict[str, Any]]:
    with bot.database.reading() as session:
        bodies = session.exec(select(OutboxStatement.body).order_by(OutboxStatement.seq)).all()
    return [s for s in map(json.loads, bodies) if s["verb"]["id"] == COMMENTED]


def contributions(bot: BotHarness) -> list[Contribution]:
    with bot.database.reading() as session:
        return list(session.exec(select(Contribution).order_by(Contribution.ts)))


async def test_messages_are_counted_and_at_most_three_a_day_recorded(
    bot: BotHarness, clock: SettableClock
) -> None:
    channel = await community(bot)

    first = await say(bot, channel, "U0CAT", 1)
    for n in range(2, 6):
        await say(bot, channel, "U0CAT", n)
    await say(bot, channel, "U0CAT", 1, event_id=f"Ev{first}")  # Slack's retry
    await say(bot, channel, "U0BOB", 7)

    assert [c.user_id for c in contributions(bot)] == ["U0CAT"] * 5 + ["U0BOB"]
    recorded = commented(bot)
    assert [s["actor"]["account"]["name"] for s in recorded] == ["U0CAT"] * 3 + ["U0BOB"]
    assert recorded[0]["result"]["response"] == contributions(bot)[0].permalink
    assert contributions(bot)[0].permalink.endswith(
        f"/archives/{channel}/p{first.replace('.', '')}"
    )

    clock.now += timedelta(days=1)
    await say(bot, channel, "U0CAT", 1)

    assert len(commented(bot)) == 5


async def test_no_message_text_is_kept_or_sent_even_with_text_in_statements(
    bot: BotHarness,
) -> None:
    channel = await community(bot)

    await say(bot, channel, "U0CAT", 1)

    assert SECRET not in json.dumps([c.model_dump(mode="json") for c in contributions(bot)])
    assert SECRET not in json.dumps(commented(bot))


async def test_a_thread_reply_names_its_thread_and_the_rest_are_not_contributions(
    bot: BotHarness,
) -> None:
    channel = await community(bot)
    parent = await say(bot, channel, "U0CAT", 1)

    await say(bot, channel, "U0BOB", 2, thread_ts=parent)
    await say(bot, channel, "U0BOB", 3, bot_id="B0OTHER")
    await say(bot, channel, "U0BOB", 4, subtype="channel_join")
    await say(bot, channel, "U0BOB", 5, subtype="message_changed")
    await say(bot, "C0ELSEWHERE", "U0BOB", 6)
    await say(bot, "C0QA", "U0BOB", 7)

    [reply] = [c for c in contributions(bot) if c.user_id == "U0BOB"]
    assert reply.thread_ts == parent
    statement = commented(bot)[-1]
    [thread, channel_activity] = statement["context"]["contextActivities"]["parent"]
    assert thread["id"].endswith(f"/messages/{channel}/{parent}")
    assert channel_activity["id"].endswith(f"/channels/{channel}")
    assert "thread_ts" in statement["result"]["response"]


async def test_contributing_counts_as_light_evidence_in_expert(
    bot: BotHarness, clock: SettableClock
) -> None:
    channel = await community(bot)
    for _day in range(3):
        await say(bot, channel, "U0CAT", 1)
        await say(bot, channel, "U0CAT", 2)
        clock.now += timedelta(days=1)
    await bot.command("/skills", "add python:learning", "U0BOB")

    _, found = await bot.command("/expert", "python", "U0ANN")

    shown = json.dumps(found["blocks"])
    assert "contributed to #python communities on 3 days" in shown
    # Three days of contributing (0.75) weigh less than a declared learning level (1).
    assert shown.index("U0BOB") < shown.index("U0CAT")
