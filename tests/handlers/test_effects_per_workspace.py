"""Distributed with OAuth, the tick does what a workspace is owed with that workspace's own
token, and buries what is owed to a workspace that uninstalled guildbot instead of retrying
it. Signed requests into the real app, with Slack faked; the tick is run by hand on a
settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.effects import UNINSTALLED
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack

OWN_TOKEN = "xoxb-T0GUILD-own"


@pytest.fixture
async def clocked_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack), slack, clock).start()
    yield harness
    await harness.close()


async def kudos_slack_failed(bot: BotHarness) -> None:
    """A /kudos whose recognition post Slack failed right after the ack: owed to the tick."""
    bot.slack.fail_next("chat.postMessage", status=500, times=2)
    status, reply = await bot.command("/kudos", "<@U0BOB> for the runbook", "U0ANN")
    assert status == 200 and "Kudos sent" in reply["text"]
    bot.slack.calls.clear()


async def test_the_tick_posts_an_owed_recognition_with_its_workspaces_own_token(
    clocked_bot: BotHarness, clock: SettableClock
) -> None:
    await kudos_slack_failed(clocked_bot)
    asked: list[str] = []

    async def own_client(team_id: str) -> AsyncWebClient:
        asked.append(team_id)
        return AsyncWebClient(token=OWN_TOKEN, base_url=clocked_bot.slack.base_url)

    clocked_bot.effects.workspace_client = own_client
    clock.now += timedelta(minutes=11)
    assert await clocked_bot.effects.perform_due(clocked_bot.slack_client) == 1

    assert asked == [TEAM_ID]
    posts = [c for c in clocked_bot.slack.calls if c.method == "chat.postMessage"]
    assert posts and {c.token for c in posts} == {OWN_TOKEN}


async def test_what_an_uninstalled_workspace_is_owed_is_buried_not_retried(
    clocked_bot: BotHarness, clock: SettableClock
) -> None:
    await kudos_slack_failed(clocked_bot)

    async def uninstalled(team_id: str) -> None:
        return None

    clocked_bot.effects.workspace_client = uninstalled
    clock.now += timedelta(minutes=11)
    assert await clocked_bot.effects.perform_due(clocked_bot.slack_client) == 1

    assert not clocked_bot.slack.calls_to("chat.postMessage")
    [dead] = clocked_bot.services.effects.dead_effects()
    assert dead.kind == "kudos.recognition" and dead.reason == UNINSTALLED
    clock.now += timedelta(hours=1)
    assert await clocked_bot.effects.perform_due(clocked_bot.slack_client) == 0
