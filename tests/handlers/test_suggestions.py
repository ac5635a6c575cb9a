"""App Home's "Learn from": people with strong evidence in what someone is learning (not
themselves, nor people who opted out or paused), communities to join, refreshed daily on the
tick, and turned off and on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from bot.views.suggestions import STOP_ACTION
from tests.handlers.test_questions import ask, check, reply
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack, block_action_body, sign

pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    for user_id, name in (("U0DAN", "Dan"), ("U0EVE", "Eve"), ("U0FAY", "Fay")):
        slack.add_user(user_id, name)
    settings = settings_for(tmp_path, slack, QA_CHANNEL="C0QA")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


async def home(bot: BotHarness, user: str) -> str:
    await bot.event(
        {"type": "app_home_opened", "user": user, "tab": "home"}, f"H{len(bot.slack.calls)}"
    )
    return json.dumps(home_blocks(bot, user))


def home_blocks(bot: BotHarness, user: str) -> list[dict[str, Any]]:
    [*_, last] = [c for c in bot.slack.calls_to("views.publish") if c["user_id"] == user]
    view = last["view"]
    return (json.loads(view) if isinstance(view, str) else view)["blocks"]


def learn_from(shown: str) -> str:
    """The "Learn from" part of App Home, up to the next section's title."""
    start = shown.index("*Learn from*")
    end = shown.find("*Routed questions*", start)
    return shown[start:end]


async def people(bot: BotHarness) -> None:
    """Cat is learning python; Bob is an expert; Ann is only a practitioner; Dan is an expert
    who paused routed questions; Eve an expert who turned suggestions off; Fay an expert
    learning python too (so not suggested to herself)."""
    await bot.command("/skills", "add python:learning", "U0CAT")
    await bot.command("/skills", "add python:expert", "U0BOB")
    await bot.command("/skills", "add python:practitioner", "U0ANN")
    for expert in ("U0DAN", "U0EVE"):
        await bot.command("/skills", "add python:expert", expert)
    await bot.services.run(bot.services.routing.pause, TEAM_ID, "U0DAN")
    await home(bot, "U0EVE")
    await bot.press(STOP_ACTION, "", "U0EVE")


async def test_a_learner_is_pointed_to_the_right_people_and_communities(bot: BotHarness) -> None:
    await people(bot)
    await bot.command("/community", "create pythonistas #python", "U0ANN")
    await bot.command("/community", "create rustaceans #rust", "U0ANN")

    shown = learn_from(await home(bot, "U0CAT"))

    assert "<@U0BOB>: expert (declared) on #python" in shown
    for left_out in ("U0ANN", "U0DAN", "U0EVE", "U0CAT"):
        assert f"<@{left_out}>" not in shown, left_out
    assert "expert_ask" in shown and "Say hi" in shown and "/team/U0BOB" in shown
    assert "*pythonistas*" in shown and "community_join" in shown
    assert "rustaceans" not in shown


async def test_suggestions_refresh_daily_on_the_tick(bot: BotHarness, clock: SettableClock) -> None:
    await people(bot)
    assert "<@U0ANN>" not in learn_from(await home(bot, "U0CAT"))
    await bot.command("/skills", "add python:expert", "U0ANN")

    assert "<@U0ANN>" not in learn_from(await home(bot, "U0CAT"))  # worked out today already
    clock.now += timedelta(days=1, minutes=1)
    await bot.services.run(bot.services.suggestions.refresh_due)

    assert "<@U0ANN>: expert (declared) on #python" in learn_from(await home(bot, "U0CAT"))


async def test_turning_suggestions_off_and_on(bot: BotHarness) -> None:
    await people(bot)
    await home(bot, "U0CAT")

    await bot.press(STOP_ACTION, "", "U0CAT")

    assert "You turned suggestions off" in json.dumps(home_blocks(bot, "U0CAT"))
    await bot.press("suggestions_resume", "", "U0CAT")
    assert "<@U0BOB>" in learn_from(json.dumps(home_blocks(bot, "U0CAT")))


async def test_joining_a_suggested_community_from_app_home(bot: BotHarness) -> None:
    await people(bot)
    await bot.command("/community", "create pythonistas #python", "U0ANN")
    shown = json.loads(await home(bot, "U0CAT"))
    [join] = [
        b["accessory"] for b in shown if b.get("accessory", {}).get("action_id") == "community_join"
    ]

    await press_in_home(bot, "community_join", join["value"], "U0CAT")

    assert "U0CAT" in bot.slack.members[bot.slack.channel_names["pythonistas"]]
    # App Home is drawn again: the community is no longer suggested.
    assert "pythonistas" not in learn_from(json.dumps(home_blocks(bot, "U0CAT")))


async def press_in_home(bot: BotHarness, action_id: str, value: str, user: str) -> None:
    """A button in App Home: Slack sends no response URL, and names the home view."""
    body = block_action_body(action_id, value, user, "")
    payload = json.loads(parse_qs(body)["payload"][0])
    payload.pop("response_url")
    payload.pop("channel")
    payload["container"] = {"type": "view", "view_id": "V0HOME"}
    payload["view"] = {"id": "V0HOME", "type": "home"}
    signed = urlencode({"payload": json.dumps(payload)})
    status, _ = await bot.post(signed, sign(signed))
    assert status == 200
    await bot.settle()


async def test_expert_says_whom_people_learning_the_skill_learned_from(bot: BotHarness) -> None:
    await bot.command("/skills", "add python:expert", "U0BOB")
    await bot.command("/skills", "add python:learning", "U0CAT")
    await bot.command("/skills", "add python:learning", "U0DAN")
    _, before = await bot.command("/expert", "python", "U0EVE")
    assert "also learned from" not in json.dumps(before["blocks"])
    # Cat and Dan asked about python; Bob's answers helped both, Ann's helped Dan.
    for asker, helper, n in (("U0CAT", "U0BOB", 1), ("U0DAN", "U0BOB", 2), ("U0DAN", "U0ANN", 3)):
        question_ts, _ = await ask(bot, asker, f"Python question number {n} please? #python")
        answer_ts = await reply(bot, helper, "Like this", question_ts, f"A{n}")
        await check(bot, asker, answer_ts, f"C{n}")

    _, found = await bot.command("/expert", "python", "U0EVE")

    shown = json.dumps(found["blocks"])
    assert "People learning `#python` like you also learned from: <@U0BOB> (2 of them), " in shown
    assert "<@U0ANN> (1 of them)" in shown
