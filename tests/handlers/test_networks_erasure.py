"""Erasure (`guildbot forget --user`) after a person used communities and resources: no row or
statement names them; a community they created stays, by nobody; what they shared goes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.views.resource_list import OPEN_ACTION
from storage.models import Community, Resource
from tests.handlers.test_erasure import deliver_all, naming, rows
from tests.support.harness import BotHarness, bot_env, settings_for
from tests.support.slack import FakeSlack, reaction_event

DANA, DANA_NAME = "U0DANA", "Dana Quintero"
SETTINGS = {"LND_ADMINS": "U0ANN", "XAPI_INCLUDE_TEXT": "true"}

pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def bot(
    tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotHarness]:
    slack.add_user(DANA, DANA_NAME)
    harness = await BotHarness(settings_for(tmp_path, slack, **SETTINGS), slack).start()
    monkeypatch.chdir(tmp_path)
    for name, value in bot_env(tmp_path, slack, **SETTINGS).items():
        monkeypatch.setenv(name, value)
    yield harness
    await harness.close()


async def post(bot: BotHarness, channel: str, user: str, text: str, **extra: object) -> str:
    ts = bot.slack.write(channel, user, text)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts}
    await bot.event({**event, **extra}, f"Ev{ts}")
    return ts


async def test_forget_covers_communities_contributions_and_resources(bot: BotHarness) -> None:
    await bot.command("/community", f"create dana-reads #python Picked by <@{DANA}>", DANA)
    await bot.command("/community", "create bobs-club #go", "U0BOB")
    mine = bot.slack.channel_names["dana-reads"]
    bobs = bot.slack.channel_names["bobs-club"]
    await bot.event({"type": "member_joined_channel", "user": DANA, "channel": bobs}, "EvJ")
    await post(bot, mine, DANA, "<https://example.com/dana|Dana's reading list>")
    await post(
        bot,
        mine,
        DANA,
        "",
        subtype="file_share",
        files=[
            {
                "id": "F0DANA",
                "title": "Dana notes",
                "permalink": "https://acme.slack.com/files/F0DANA",
            }
        ],
    )
    shared = await post(bot, bobs, "U0BOB", "<https://example.com/go|Go tour>")
    await bot.event(reaction_event("reaction_added", DANA, "eyes", bobs, shared, "U0BOB"), "EvR")
    _, found = await bot.command("/resources", "go", DANA)
    await bot.press(OPEN_ACTION, found["blocks"][1]["accessory"]["value"], DANA)
    # Suggestions to her and of her.
    await bot.command("/skills", "add go:learning, python:expert", DANA)
    await bot.command("/skills", "add go:expert", "U0BOB")
    await bot.command("/skills", "add python:learning", "U0CAT")
    for learner in (DANA, "U0CAT"):
        await bot.event({"type": "app_home_opened", "user": learner, "tab": "home"}, learner)
    deliver_all(bot)
    tables = naming(bot, DANA, DANA_NAME)
    for table in (
        "community",
        "community_member",
        "contribution",
        "resource",
        "resource_open",
        "suggestion",
        "suggestion_run",
    ):
        assert table in tables, table

    assert main(["forget", "--user", DANA]) == 0

    assert naming(bot, DANA, DANA_NAME, "Dana's reading list", "Dana notes") == {}
    communities = {c.name: c for c in rows(bot, Community)}
    assert communities["dana-reads"].created_by is None
    [go] = rows(bot, Resource)
    assert (go.title, go.opens) == ("Go tour", 0)
    _, page = await bot.command("/community", "dana-reads", "U0BOB")
    assert "Owners: nobody now" in json.dumps(page["blocks"])
    with bot.database.reading() as session:
        assert session.exec(select(Community)).all()
