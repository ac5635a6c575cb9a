"""One LRS query returns a community's whole life: its creation, memberships, contributions,
the resources shared in it and opened, and the sessions scheduled from it, all driven the way
Slack would and stored by a real LRS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.views.communities import SCHEDULE_ACTION
from bot.views.resource_list import OPEN_ACTION
from tests.support.harness import BotHarness, settings_for
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.lunch import schedule_values
from tests.support.slack import TEAM_ID, FakeSlack
from tests.support.xapi_profile import off_profile

pytestmark = pytest.mark.lrs


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, real_lrs: RealLrs) -> AsyncIterator[BotHarness]:
    settings = settings_for(
        tmp_path,
        slack,
        LND_ADMINS="U0ANN",
        LRS_ENDPOINT=real_lrs.endpoint,
        LRS_KEY=real_lrs.key,
        LRS_SECRET=real_lrs.secret,
    )
    harness = await BotHarness(settings, slack).start()
    yield harness
    await harness.close()


async def message(bot: BotHarness, channel: str, user: str, text: str) -> str:
    ts = bot.slack.write(channel, user, text)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts}
    await bot.event(event, f"Ev{ts}")
    return ts


async def test_one_query_returns_a_communitys_whole_life(
    bot: BotHarness, real_lrs: RealLrs
) -> None:
    await bot.command("/community", "create typing-club #python Typed Python", "U0ANN")
    channel = bot.slack.channel_names["typing-club"]
    _, page = await bot.command("/community", "typing-club", "U0ANN")
    [card] = [b for b in page["blocks"] if b.get("accessory", {}).get("action_id")]
    community_id = card["accessory"]["value"]
    await bot.press("community_join", community_id, "U0BOB")
    await bot.event({"type": "member_joined_channel", "user": "U0CAT", "channel": channel}, "J1")
    await message(bot, channel, "U0CAT", "Has anyone tried the new TypeVar syntax?")
    await message(bot, channel, "U0BOB", "<https://peps.python.org/pep-0695/|PEP 695>")
    _, found = await bot.command("/resources", "pep 695", "U0CAT")
    await bot.press(OPEN_ACTION, found["blocks"][1]["accessory"]["value"], "U0CAT")
    await bot.event({"type": "member_left_channel", "user": "U0CAT", "channel": channel}, "L1")
    await bot.press(SCHEDULE_ACTION, community_id, "U0ANN")
    start = bot.clock() + timedelta(days=2)
    values = schedule_values(start, title="Generics, new style", tags="", channel=channel)
    await bot.submit(bot.opened_views()[-1], values, "U0ANN", view_id="V0TYPING")
    while await bot.services.forwarder.drain_once():
        pass

    community = bot.services.statements.for_team(TEAM_ID).activity_id("communities", community_id)
    status, page = await real_lrs.get(activity=community, related_activities="true", limit="200")

    assert status == 200, page
    assert off_profile(page["statements"]) == []
    lived = sorted(
        (s["actor"]["account"]["name"], s["verb"]["id"].rsplit("/", 1)[-1])
        for s in page["statements"]
    )
    assert lived == sorted(
        [
            ("U0ANN", "create"),
            ("U0ANN", "join"),
            ("U0BOB", "join"),
            ("U0CAT", "join"),
            ("U0CAT", "commented"),
            ("U0BOB", "commented"),
            ("U0BOB", "share"),
            ("U0CAT", "viewed"),
            ("U0CAT", "leave"),
            ("U0ANN", "schedule"),
        ]
    )
