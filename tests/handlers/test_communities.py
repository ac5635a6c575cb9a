"""Communities through signed requests into the real app, with Slack faked: created with
`/community create` (the bot makes the channel), linked by an L&D admin, listed, shown, and
joined or left by button and in Slack directly, each recorded once as an xAPI statement."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.views.communities import JOIN_ACTION, LEAVE_ACTION, SCHEDULE_ACTION
from storage.models import Community, CommunityMember, LunchSession, OutboxStatement
from tests.support.harness import BotHarness, settings_for
from tests.support.lunch import schedule_values
from tests.support.slack import FakeSlack

pytestmark = pytest.mark.usefixtures("no_listener_failures")

AS = "http://activitystrea.ms/"
COMMUNITY_SITE = "http://id.tincanapi.com/activitytype/community-site"


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack, LND_ADMINS="U0ANN"), slack).start()
    yield harness
    await harness.close()


def statements(bot: BotHarness) -> list[dict[str, Any]]:
    with bot.database.reading() as session:
        bodies = session.exec(select(OutboxStatement.body).order_by(OutboxStatement.seq)).all()
    return [json.loads(body) for body in bodies]


def of_verb(bot: BotHarness, verb: str) -> list[dict[str, Any]]:
    return [s for s in statements(bot) if s["verb"]["id"] == AS + verb]


def members(bot: BotHarness) -> set[str]:
    with bot.database.reading() as session:
        return set(session.exec(select(CommunityMember.user_id)).all())


async def create(bot: BotHarness, text: str = "Data Science #python #statistics Notebooks") -> str:
    """`/community create` by Ann; returns the channel the bot made."""
    status, body = await bot.command("/community", f"create {text}", "U0ANN")
    assert status == 200 and "Creating the community" in body["text"]
    return bot.slack.channel_names["data-science"]


async def community_id(bot: BotHarness) -> str:
    with bot.database.reading() as session:
        return session.exec(select(Community.id)).one()


async def test_creating_a_community_makes_its_channel_invites_the_creator_and_records_it(
    bot: BotHarness,
) -> None:
    channel = await create(bot)

    assert bot.slack.calls_to("conversations.create")[0]["name"] == "data-science"
    assert "U0ANN" in bot.slack.members[channel]
    assert any("is ready" in r["text"] and channel in r["text"] for r in bot.slack.responses)
    [created] = of_verb(bot, "create")
    [joined] = of_verb(bot, "join")
    for statement in (created, joined):
        assert statement["actor"]["account"]["name"] == "U0ANN"
        assert statement["object"]["definition"]["type"] == COMMUNITY_SITE
        assert statement["object"]["definition"]["name"] == {"en-US": "data-science"}
        context = statement["context"]["contextActivities"]
        assert statement["object"]["id"] in [a["id"] for a in context["grouping"]]
        assert [a["definition"]["name"]["en-US"] for a in context["other"]] == [
            "#python",
            "#statistics",
        ]
        assert context["parent"][0]["id"].endswith(f"/channels/{channel}")


async def test_a_name_slack_has_already_creates_nothing_and_says_why(bot: BotHarness) -> None:
    bot.slack.channel_names["data-science"] = "C0TAKEN"

    await bot.command("/community", "create data-science #python", "U0ANN")

    assert any("already has a channel" in r["text"] for r in bot.slack.responses)
    with bot.database.reading() as session:
        assert session.exec(select(Community)).all() == []
    assert statements(bot) == []


async def test_bad_input_gets_a_friendly_answer_and_changes_nothing(bot: BotHarness) -> None:
    _, no_name = await bot.command("/community", "create #python", "U0ANN")
    _, no_skill = await bot.command("/community", "create reading-club", "U0ANN")
    _, group = await bot.command("/community", "create x #y <!subteam^S1|devs>", "U0ANN")

    assert "name and at least one topic skill" in no_name["text"]
    assert "name and at least one topic skill" in no_skill["text"]
    assert "name people, not groups" in group["text"]
    assert bot.slack.calls_to("conversations.create") == [] and statements(bot) == []


async def test_join_and_leave_by_button_invite_and_remove_and_are_recorded_once(
    bot: BotHarness,
) -> None:
    channel = await create(bot)
    _, listed = await bot.command("/community", "", "U0BOB")
    [card] = [b for b in listed["blocks"] if b.get("accessory", {}).get("action_id")]
    assert card["accessory"]["action_id"] == JOIN_ACTION
    assert "1 member" in card["text"]["text"] and "#python" in card["text"]["text"]

    await bot.press(JOIN_ACTION, card["accessory"]["value"], "U0BOB")
    await bot.press(JOIN_ACTION, card["accessory"]["value"], "U0BOB")

    assert "U0BOB" in bot.slack.members[channel] and "U0BOB" in members(bot)
    assert [s["actor"]["account"]["name"] for s in of_verb(bot, "join")] == ["U0ANN", "U0BOB"]
    assert "already in" in bot.slack.responses[-1]["text"]
    _, listed = await bot.command("/community", "", "U0BOB")
    [card] = [b for b in listed["blocks"] if b.get("accessory", {}).get("action_id")]
    assert card["accessory"]["action_id"] == LEAVE_ACTION and "2 members" in card["text"]["text"]

    await bot.press(LEAVE_ACTION, card["accessory"]["value"], "U0BOB")

    assert "U0BOB" not in bot.slack.members[channel] and "U0BOB" not in members(bot)
    [left] = of_verb(bot, "leave")
    assert left["actor"]["account"]["name"] == "U0BOB"


async def test_joining_or_leaving_the_channel_in_slack_is_recorded_the_same_way(
    bot: BotHarness,
) -> None:
    channel = await create(bot)
    joined = {"type": "member_joined_channel", "user": "U0CAT", "channel": channel}
    left = {"type": "member_left_channel", "user": "U0CAT", "channel": channel}

    assert (await bot.event(joined, "Ev1"))[0] == 200
    assert (await bot.event(joined, "Ev1"))[0] == 200  # Slack's retry
    assert "U0CAT" in members(bot)
    await bot.event(left, "Ev2")
    # Neither the bot itself nor someone joining another channel is a member.
    await bot.event({**joined, "user": "UBOT0001"}, "Ev3")
    await bot.event({**joined, "channel": "C0ELSE"}, "Ev4")

    assert [s["actor"]["account"]["name"] for s in of_verb(bot, "join")] == ["U0ANN", "U0CAT"]
    [leave] = of_verb(bot, "leave")
    assert leave["actor"]["account"]["name"] == "U0CAT"
    assert members(bot) == {"U0ANN"}
    # It happened in Slack: nothing to do there.
    assert bot.slack.calls_to("conversations.kick") == []


async def test_an_admin_links_an_existing_channel_and_others_are_refused(bot: BotHarness) -> None:
    _, refused = await bot.command("/community", "link <#C0PY|python-guild> #python", "U0BOB")
    _, linked = await bot.command("/community", "link <#C0PY|python-guild> #python", "U0ANN")

    assert "Only L&D admins" in refused["text"]
    assert "is now the community python-guild" in linked["text"]
    assert [c["channel"] for c in bot.slack.calls_to("conversations.join")] == ["C0PY"]
    [created] = of_verb(bot, "create")
    assert created["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {
        "en-US": "#python-guild"
    }


async def test_a_communitys_page_shows_its_owners_and_skills(bot: BotHarness) -> None:
    await create(bot)

    _, page = await bot.command("/community", "data-science", "U0BOB")
    _, missing = await bot.command("/community", "knitting", "U0BOB")

    shown = json.dumps(page["blocks"])
    assert "Owners: <@U0ANN>" in shown and "`#statistics`" in shown and "Notebooks" in shown
    assert "no community called `knitting`" in missing["text"]


async def test_a_session_scheduled_from_a_community_is_tagged_and_announced_there(
    bot: BotHarness,
) -> None:
    channel = await create(bot)
    _, for_bob = await bot.command("/community", "data-science", "U0BOB")
    _, page = await bot.command("/community", "data-science", "U0ANN")
    assert SCHEDULE_ACTION not in json.dumps(for_bob["blocks"])
    [button] = [e for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]]

    await bot.press(button["action_id"], button["value"], "U0ANN")
    form = bot.opened_views()[-1]
    fields = {b["block_id"]: b["element"] for b in form["blocks"] if b["type"] == "input"}
    assert fields["tags"]["initial_value"] == "#python #statistics"
    assert fields["channel"]["initial_conversation"] == channel
    start = bot.clock() + timedelta(days=2)
    values = schedule_values(start, title="Pandas in practice", tags="#pandas", channel=channel)
    status, ack = await bot.submit(form, values, "U0ANN", view_id="V0COMM")

    assert status == 200 and "response_action" not in ack, ack
    with bot.database.reading() as session:
        [lunch] = session.exec(select(LunchSession)).all()
    assert lunch.community_id == button["value"]
    assert any(
        call["channel"] == channel and "Pandas in practice" in call["text"]
        for call in bot.slack.calls_to("chat.postMessage")
    )
    [scheduled] = [s for s in statements(bot) if s["verb"]["id"] == AS + "schedule"]
    context = scheduled["context"]["contextActivities"]
    assert any(a["id"].endswith(f"/communities/{button['value']}") for a in context["grouping"])
    assert {a["definition"]["name"]["en-US"] for a in context["other"]} >= {
        "#python",
        "#statistics",
    }
    _, page = await bot.command("/community", "data-science", "U0BOB")
    assert "Pandas in practice" in json.dumps(page["blocks"])
