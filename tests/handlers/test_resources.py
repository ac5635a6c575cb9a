"""Shared resources through signed requests into the real app: a link and a file posted in a
community's channel, `/share` from anywhere, `/resources` finding them, and the Open button
recording who opened what."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.views.resource_list import OPEN_ACTION
from storage.models import OutboxStatement, Resource, ResourceOpen
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack, reaction_event

pytestmark = pytest.mark.usefixtures("no_listener_failures")

SHARE = "http://activitystrea.ms/share"
VIEWED = "http://id.tincanapi.com/verb/viewed"
GUIDE = "https://docs.python.org/3/howto/logging.html"


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack), slack).start()
    yield harness
    await harness.close()


def statements(bot: BotHarness, verb: str) -> list[dict[str, Any]]:
    with bot.database.reading() as session:
        bodies = session.exec(select(OutboxStatement.body).order_by(OutboxStatement.seq)).all()
    return [s for s in map(json.loads, bodies) if s["verb"]["id"] == verb]


def resources(bot: BotHarness) -> list[Resource]:
    with bot.database.reading() as session:
        return list(session.exec(select(Resource).order_by(Resource.seq)))


async def community(bot: BotHarness) -> str:
    await bot.command("/community", "create pythonistas #python", "U0ANN")
    return bot.slack.channel_names["pythonistas"]


async def post(bot: BotHarness, channel: str, user: str, text: str, **extra: Any) -> str:
    ts = bot.slack.write(channel, user, text)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts}
    await bot.event({**event, **extra}, f"Ev{ts}")
    return ts


async def test_a_link_posted_in_a_community_is_shared_once_with_its_skills(
    bot: BotHarness,
) -> None:
    channel = await community(bot)

    ts = await post(bot, channel, "U0BOB", f"Read this <{GUIDE}|Logging HOWTO> before Friday")
    await post(bot, channel, "U0CAT", f"Same as <{GUIDE}>")

    [resource] = resources(bot)
    assert (resource.title, resource.kind, resource.tags) == ("Logging HOWTO", "link", "python")
    assert (resource.shared_by, resource.channel_id, resource.message_ts) == ("U0BOB", channel, ts)
    [shared] = statements(bot, SHARE)
    assert shared["actor"]["account"]["name"] == "U0BOB"
    assert shared["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/link"
    assert shared["object"]["definition"]["moreInfo"] == GUIDE
    context = shared["context"]["contextActivities"]
    assert any("/communities/" in a["id"] for a in context["grouping"])
    assert [a["definition"]["name"]["en-US"] for a in context["other"]] == ["#python"]
    assert "before Friday" not in json.dumps(shared)


async def test_a_file_posted_in_a_community_is_a_resource_by_its_file_id(bot: BotHarness) -> None:
    channel = await community(bot)
    file = {
        "id": "F0DECK",
        "title": "Typing in practice",
        "mimetype": "video/mp4",
        "permalink": "https://acme.slack.com/files/U0BOB/F0DECK/typing.mp4",
    }

    await post(bot, channel, "U0BOB", "", subtype="file_share", files=[file])

    [resource] = resources(bot)
    assert (resource.key, resource.kind, resource.url) == (
        "file:F0DECK",
        "video",
        file["permalink"],
    )
    [shared] = statements(bot, SHARE)
    assert shared["object"]["definition"]["type"] == (
        "https://w3id.org/xapi/video/activity-type/video"
    )


async def test_share_from_anywhere_and_bad_input_is_refused(bot: BotHarness) -> None:
    _, shared = await bot.command("/share", f"<{GUIDE}> Logging done right #python", "U0CAT")
    _, again = await bot.command("/share", f"<{GUIDE}> #python", "U0BOB")
    _, refused = await bot.command("/share", "Logging done right #python", "U0CAT")

    assert "Shared *Logging done right*" in shared["text"]
    assert "shared already" in again["text"]
    assert "Start with the address" in refused["text"]
    [resource] = resources(bot)
    assert (resource.title, resource.tags, resource.community_id) == (
        "Logging done right",
        "python",
        None,
    )


async def test_finding_a_resource_and_opening_it_records_the_opener(bot: BotHarness) -> None:
    await bot.command("/share", f"<{GUIDE}> Logging done right #python", "U0CAT")
    await bot.command("/share", "<https://youtu.be/abc> Async talk #asyncio", "U0CAT")

    _, found = await bot.command("/resources", "python", "U0BOB")
    _, nothing = await bot.command("/resources", "knitting", "U0BOB")

    [_, block] = found["blocks"]
    button = block["accessory"]
    assert (button["action_id"], button["url"], button["text"]["text"]) == (
        OPEN_ACTION,
        GUIDE,
        "Open",
    )
    assert "Logging done right" in block["text"]["text"]
    assert "No shared resource matches" in nothing["text"]

    await bot.press(OPEN_ACTION, button["value"], "U0BOB")
    await bot.press(OPEN_ACTION, button["value"], "U0BOB")

    with bot.database.reading() as session:
        [opened] = session.exec(select(ResourceOpen)).all()
    assert (opened.user_id, opened.count) == ("U0BOB", 2)
    assert resources(bot)[0].opens == 1
    views = statements(bot, VIEWED)
    assert [s["actor"]["account"]["name"] for s in views] == ["U0BOB", "U0BOB"]
    assert views[0]["object"]["id"].endswith(f"/resources/{button['value']}")


async def test_opens_and_reactions_rank_resources(bot: BotHarness) -> None:
    channel = await community(bot)
    await post(bot, channel, "U0BOB", "<https://example.com/a|Python tips A>")
    ts = await post(bot, channel, "U0BOB", "<https://example.com/b|Python tips B>")
    await post(bot, channel, "U0BOB", "<https://example.com/c|Python tips C>")

    bot.slack.react(channel, ts, "eyes", "U0CAT")
    await bot.event(reaction_event("reaction_added", "U0CAT", "eyes", channel, ts, "U0BOB"), "R1")
    _, found = await bot.command("/resources", "tips", "U0BOB")

    titles = [b["text"]["text"].split("*")[1] for b in found["blocks"][1:]]
    assert titles == ["Python tips B", "Python tips C", "Python tips A"]
    assert resources(bot)[1].reactions == 1
