"""Communities in `python -m bot` with the real test LRS: created (the bot makes the channel),
joined by button and in Slack (with Slack's retries), contributed to past the daily cap, a
link and a file shared, a resource found and opened, a session scheduled from the community;
one query by the community then returns all of it from the LRS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.views.communities import JOIN_ACTION, SCHEDULE_ACTION
from bot.views.resource_list import OPEN_ACTION
from storage.models import Community, Contribution, Resource, ResourceOpen
from tests.support.blackbox import StartBot, deliver, lrs_env, new_person, outbox_drained
from tests.support.lrs import RealLrs
from tests.support.lunch import schedule_values
from tests.support.process import BotProcess, eventually
from tests.support.slack import FakeSlack, block_action_body, sign, view_submission_body

pytestmark = pytest.mark.lrs


async def press(bot: BotProcess, slack: FakeSlack, action: str, value: str, user: str) -> int:
    body = block_action_body(action, value, user, slack.response_url)
    status, _ = await bot.post(body, sign(body))
    return status


async def say(bot: BotProcess, slack: FakeSlack, channel: str, user: str, **extra: Any) -> None:
    text = str(extra.pop("text", "Anyone tried the new syntax?"))
    ts = slack.write(channel, user, text)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts}
    assert await deliver(bot, {**event, "event_ts": ts, **extra}, f"Ev{ts}") == 200


async def test_a_communitys_whole_life_reaches_the_lrs(
    start_bot: StartBot, slack: FakeSlack, real_lrs: RealLrs
) -> None:
    admin, member, talker = (new_person(slack, n) for n in ("Ada", "Ben", "Cy"))
    bot = await start_bot(LND_ADMINS=admin, **lrs_env(real_lrs.endpoint))
    name = "typing-" + admin[2:].lower()

    status, ack = await bot.command(
        "/community", f"create {name} #python", admin, response_url=slack.response_url
    )
    assert status == 200 and "Creating the community" in ack["text"]
    channel = await eventually(lambda: slack.channel_names.get(name), what="the channel")
    [community] = await eventually(lambda: [c for c in bot.rows(Community) if c.channel_id])
    await eventually(lambda: admin in slack.members.get(channel, set()), what="the invite")

    assert await press(bot, slack, JOIN_ACTION, community.id, member) == 200
    await eventually(lambda: member in slack.members[channel], what="the member's invite")
    joined = {"type": "member_joined_channel", "user": talker, "channel": channel}
    assert await deliver(bot, joined, "EvJ") == 200
    assert await deliver(bot, joined, "EvJ", retry=1) == 200
    for _ in range(4):
        await say(bot, slack, channel, talker)
    await say(bot, slack, channel, member, text="<https://peps.python.org/pep-0695/|PEP 695>")
    deck = {"id": "F" + admin[2:], "title": "Generics deck", "permalink": "https://x.example/f"}
    await say(bot, slack, channel, member, text="", subtype="file_share", files=[deck])
    await eventually(lambda: len(bot.rows(Contribution)) == 6, what="the contributions")
    await eventually(lambda: len(bot.rows(Resource)) == 2, what="the resources")

    status, found = await bot.command("/resources", "pep 695", talker)
    assert status == 200 and "PEP 695" in json.dumps(found["blocks"])
    assert await press(bot, slack, OPEN_ACTION, found["blocks"][1]["accessory"]["value"], talker)
    await eventually(lambda: [o.user_id for o in bot.rows(ResourceOpen)] == [talker])
    left = {"type": "member_left_channel", "user": talker, "channel": channel}
    assert await deliver(bot, left, "EvL") == 200

    assert await press(bot, slack, SCHEDULE_ACTION, community.id, admin) == 200
    form = await eventually(lambda: [c["view"] for c in slack.calls_to("views.open")])
    start = datetime.now(UTC) + timedelta(days=2)
    values = schedule_values(start, title="Generics, new style", tags="", channel=channel)
    body = view_submission_body(form[-1], "V0TYPING", values, admin)
    status, answer = await bot.post(body, sign(body))
    assert status == 200 and "errors" not in (answer or {}), answer
    await eventually(outbox_drained(bot), timeout=30, what="every statement sent")

    activity = f"https://acme.slack.com/guildbot/communities/{community.id}"
    status, page = await real_lrs.get(activity=activity, related_activities="true", limit="100")

    assert status == 200, page
    lived = sorted(
        (s["actor"]["account"]["name"], s["verb"]["id"].rsplit("/", 1)[-1])
        for s in page["statements"]
    )
    assert lived == sorted(
        [
            (admin, "create"),
            (admin, "join"),
            (member, "join"),
            (talker, "join"),
            *[(talker, "commented")] * 3,  # the 4th message of the day is counted only
            (member, "commented"),
            (member, "commented"),
            (member, "share"),
            (member, "share"),
            (talker, "viewed"),
            (talker, "leave"),
            (admin, "schedule"),
        ]
    )
