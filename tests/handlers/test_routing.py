"""Routing questions to people who know (DMs with Not my area / Pause for a week), the daily
cap, pausing and declining, through signed requests into the real app, with Slack faked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.domain.people import Profile
from storage.models import Question, QuestionRoute, QuestionSkill
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack

QA = "C0QA"
DECLINE = "route_decline"
PAUSE = "route_pause"

MakeBot = Callable[..., Awaitable[BotHarness]]


pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
def people(slack: FakeSlack) -> FakeSlack:
    """Ann, Bob and Cat (conftest) plus Dan, Eve and Fay."""
    slack.add_user("U0DAN", "Dan")
    slack.add_user("U0EVE", "Eve")
    slack.add_user("U0FAY", "Fay")
    return slack


@pytest.fixture
async def make_bot(
    tmp_path: Path, people: FakeSlack, clock: SettableClock
) -> AsyncIterator[MakeBot]:
    """A bot with a Q&A channel on the settable clock; settings overridable per test."""
    started: list[BotHarness] = []

    async def make(**overrides: str) -> BotHarness:
        settings = settings_for(tmp_path, people, QA_CHANNEL=QA, **overrides)
        harness = await BotHarness(settings, people, clock).start()
        started.append(harness)
        return harness

    yield make
    for harness in started:
        await harness.close()


# Helpers ---------------------------------------------------------------------------------------


def dms(slack: FakeSlack) -> list[tuple[str, dict[str, Any]]]:
    """(user, chat.postMessage call) of every DM, in order. A DM is a post to the `D…` channel
    that `conversations.open` gave for that user earlier."""
    opened: dict[str, str] = {}
    found = []
    for call in slack.calls:
        if call.method == "conversations.open":
            user = call.args["users"]
            opened["D" + user.lstrip("UW")] = user
        elif call.method == "chat.postMessage" and call.args.get("channel", "").startswith("D"):
            channel = call.args["channel"]
            assert channel in opened, f"DM to {channel} without conversations.open"
            found.append((opened[channel], call.args))
    return found


def routed(slack: FakeSlack, question: Question | None = None) -> list[str]:
    """Who was DMed a question (all questions, or one), in order."""
    return [
        user
        for user, call in dms(slack)
        if question is None or buttons(call).get(DECLINE) == question.id
    ]


def buttons(call: dict[str, Any]) -> dict[str, str]:
    """action_id → value of the buttons in a message."""
    return {
        element["action_id"]: element.get("value", "")
        for block in call.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    }


def questions(bot: BotHarness) -> list[Question]:
    with bot.database.reading() as session:
        return list(session.exec(select(Question).order_by(Question.created_at)))


def routes(bot: BotHarness) -> list[QuestionRoute]:
    with bot.database.reading() as session:
        return list(session.exec(select(QuestionRoute)))


async def declare(bot: BotHarness, user: str, skills: str) -> None:
    _, reply = await bot.command("/skills", f"add {skills}", user)
    assert reply["text"].startswith(("Added", "Updated")), reply


def endorse(bot: BotHarness, user: str, slug: str, times: int) -> None:
    """`times` colleagues endorse `user` for `slug` (one point each in /expert)."""
    for n in range(times):
        endorser = Profile(f"U0END{n}", f"Endorser {n}")
        assert bot.services.skills.endorse(
            TEAM_ID, endorser, Profile(user, user), slug, f"seed:{user}:{slug}:{n}"
        )


async def python_experts(bot: BotHarness) -> None:
    """#python standings, best first: Ann 6, Bob 5, Cat 4, Dan 3, Eve 2, Fay 1."""
    levels = {
        "U0ANN": ("expert", 3),
        "U0BOB": ("expert", 2),
        "U0CAT": ("expert", 1),
        "U0DAN": ("expert", 0),
        "U0EVE": ("practitioner", 0),
        "U0FAY": ("learning", 0),
    }
    for user, (level, endorsements) in levels.items():
        await declare(bot, user, f"python:{level}")
        endorse(bot, user, "python", endorsements)
    _, reply = await bot.command("/expert", "python", "U0ANN")
    # /expert lists five, Ann (searching) marked as herself.
    assert (
        reply["text"] == "Who knows #python: <@U0ANN> (you), <@U0BOB>, <@U0CAT>, <@U0DAN>, <@U0EVE>"
    )
    bot.slack.calls.clear()


async def ask(bot: BotHarness, user: str, text: str) -> Question:
    """`/ask` that goes through; returns the stored (posted) question."""
    before = {q.id for q in questions(bot)}
    status, reply = await bot.command("/ask", text, user)
    assert status == 200 and reply["text"] == f"Posting your question in <#{QA}>…", reply
    [question] = [q for q in questions(bot) if q.id not in before]
    assert question.ts and question.permalink
    return question


# Who gets a question ---------------------------------------------------------------------------


async def test_ask_dms_the_top_three_for_the_skill_best_first_never_the_asker(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot()
    await python_experts(bot)

    question = await ask(bot, "U0ANN", "How do I profile a slow script? #python")

    # Ann ranks first but asked; Eve and Fay rank below the top three.
    assert routed(bot.slack) == ["U0BOB", "U0CAT", "U0DAN"]
    opened = [c["users"] for c in bot.slack.calls_to("conversations.open")]
    assert opened == ["U0BOB", "U0CAT", "U0DAN"]
    for user, call in dms(bot.slack):
        assert call["channel"] == "D" + user[1:]
        assert "How do I profile a slow script?" in call["text"]
        assert "<@U0ANN>" in call["text"]
        shown = json.dumps(call["blocks"])
        assert "How do I profile a slow script?" in shown
        assert f"<{question.permalink}|" in shown
        assert "`#python`" in shown
        assert buttons(call) == {DECLINE: question.id, PAUSE: question.id}
    assert sorted((r.user_id, r.slug) for r in routes(bot)) == [
        ("U0BOB", "python"),
        ("U0CAT", "python"),
        ("U0DAN", "python"),
    ]


async def test_ties_are_broken_as_expert_ranks_them(make_bot: MakeBot) -> None:
    bot = await make_bot()
    # Everyone has 3 points; Eve's come from two pieces of evidence (level and endorsement).
    for user in ("U0BOB", "U0CAT", "U0DAN"):
        await declare(bot, user, "python:expert")
    await declare(bot, "U0EVE", "python:practitioner")
    endorse(bot, "U0EVE", "python", 1)
    _, reply = await bot.command("/expert", "python", "U0ANN")
    shown = reply["text"].removeprefix("Who knows #python: ").split(", ")
    assert shown == ["<@U0EVE>", "<@U0DAN>", "<@U0CAT>", "<@U0BOB>"]
    bot.slack.calls.clear()

    await ask(bot, "U0ANN", "How do I profile a slow script? #python")

    assert routed(bot.slack) == ["U0EVE", "U0DAN", "U0CAT"]


async def test_fewer_people_than_three_all_get_it(make_bot: MakeBot) -> None:
    bot = await make_bot()
    await declare(bot, "U0BOB", "python:expert")
    await declare(bot, "U0ANN", "python:expert")
    bot.slack.calls.clear()

    await ask(bot, "U0ANN", "How do I profile a slow script? #python")

    assert routed(bot.slack) == ["U0BOB"]


async def test_a_question_without_skills_is_dmed_to_nobody(make_bot: MakeBot) -> None:
    bot = await make_bot()
    await python_experts(bot)

    question = await ask(bot, "U0ANN", "Where is the team offsite this year?")

    with bot.database.reading() as session:
        assert list(session.exec(select(QuestionSkill))) == []
    assert dms(bot.slack) == []
    assert bot.slack.calls_to("conversations.open") == []
    assert routes(bot) == []
    assert question.status == "open"


async def test_a_question_asked_of_someone_from_expert_does_not_dm_them_again(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot()
    await python_experts(bot)
    _, reply = await bot.command("/expert", "python", "U0ANN")
    ask_bob = next(
        element
        for block in reply["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "expert_ask" and json.loads(element["value"])["user"] == "U0BOB"
    )
    await bot.press(ask_bob["action_id"], ask_bob["value"], "U0ANN")
    [form] = bot.opened_views()
    typed = "How do I profile a slow script?"
    values = {"question": {"question_input": {"type": "plain_text_input", "value": typed}}}

    await bot.submit(form, values, "U0ANN", view_id="V0ASK")

    [question] = questions(bot)
    assert question.addressed_to == "U0BOB"
    # Bob was asked in the channel already; the next three get the DM.
    assert routed(bot.slack) == ["U0CAT", "U0DAN", "U0EVE"]


# The daily cap ---------------------------------------------------------------------------------


async def test_the_daily_cap_sends_the_next_question_to_the_next_people(
    make_bot: MakeBot, clock: SettableClock
) -> None:
    bot = await make_bot(QA_MAX_ROUTED_PER_DAY="1")
    await python_experts(bot)

    first = await ask(bot, "U0ANN", "How do I profile a slow script? #python")
    assert routed(bot.slack, first) == ["U0BOB", "U0CAT", "U0DAN"]

    clock.now += timedelta(hours=2)
    second = await ask(bot, "U0ANN", "Which logging library should we use? #python")
    # Bob, Cat and Dan had their one question today: Eve and Fay are next.
    assert routed(bot.slack, second) == ["U0EVE", "U0FAY"]

    clock.now += timedelta(hours=21, minutes=59)
    third = await ask(bot, "U0ANN", "Is asyncio worth it for this service? #python")
    # 23:59 after the first question: still everyone's one of the day.
    assert routed(bot.slack, third) == []

    clock.now += timedelta(minutes=2)
    fourth = await ask(bot, "U0ANN", "How should we pin our dependencies? #python")
    # Over 24 h since Bob, Cat and Dan were sent one; Eve and Fay's was 22 h ago.
    assert routed(bot.slack, fourth) == ["U0BOB", "U0CAT", "U0DAN"]


async def test_exactly_24_hours_later_they_can_be_routed_to_again(
    make_bot: MakeBot, clock: SettableClock
) -> None:
    bot = await make_bot(QA_MAX_ROUTED_PER_DAY="1")
    await python_experts(bot)
    await ask(bot, "U0ANN", "How do I profile a slow script? #python")

    clock.now += timedelta(hours=24)
    again = await ask(bot, "U0ANN", "Which logging library should we use? #python")

    assert routed(bot.slack, again) == ["U0BOB", "U0CAT", "U0DAN"]


async def test_a_cap_of_zero_routes_nothing(make_bot: MakeBot) -> None:
    bot = await make_bot(QA_MAX_ROUTED_PER_DAY="0")
    await python_experts(bot)

    await ask(bot, "U0ANN", "How do I profile a slow script? #python")

    assert dms(bot.slack) == []


# Pause for a week ------------------------------------------------------------------------------


async def test_pause_for_a_week_replies_with_the_date_and_stops_routing_for_seven_days(
    make_bot: MakeBot, clock: SettableClock
) -> None:
    bot = await make_bot()
    await python_experts(bot)
    first = await ask(bot, "U0ANN", "How do I profile a slow script? #python")
    [(_, dm)] = [(u, c) for u, c in dms(bot.slack) if u == "U0BOB"]

    earlier = len(bot.slack.responses)

    status, _ = await bot.press(PAUSE, buttons(dm)[PAUSE], "U0BOB")

    assert status == 200
    [told] = bot.slack.responses[earlier:]
    until = int((clock.now + timedelta(days=7)).timestamp())
    assert told["replace_original"] is True
    assert f"<!date^{until}^" in told["text"]
    assert "Paused" in told["text"]
    # Pausing doesn't route the question on.
    assert routed(bot.slack, first) == ["U0BOB", "U0CAT", "U0DAN"]

    clock.now += timedelta(days=1)
    second = await ask(bot, "U0ANN", "Which logging library should we use? #python")
    assert routed(bot.slack, second) == ["U0CAT", "U0DAN", "U0EVE"]

    clock.now += timedelta(days=5, hours=23, minutes=59)
    third = await ask(bot, "U0ANN", "Is asyncio worth it for this service? #python")
    assert "U0BOB" not in routed(bot.slack, third)

    clock.now += timedelta(minutes=1)
    fourth = await ask(bot, "U0ANN", "How should we pin our dependencies? #python")
    assert routed(bot.slack, fourth) == ["U0BOB", "U0CAT", "U0DAN"]


# Not my area -----------------------------------------------------------------------------------


async def test_not_my_area_routes_the_question_on_and_skips_that_skill_later(
    make_bot: MakeBot, clock: SettableClock
) -> None:
    bot = await make_bot(QA_MAX_ROUTED_PER_DAY="5")
    await python_experts(bot)
    await declare(bot, "U0BOB", "postgresql:expert")
    bot.slack.calls.clear()
    first = await ask(bot, "U0ANN", "How do I profile a slow script? #python")
    assert routed(bot.slack, first) == ["U0BOB", "U0CAT", "U0DAN"]

    earlier = len(bot.slack.responses)

    status, _ = await bot.press(DECLINE, first.id, "U0BOB")

    assert status == 200
    [told] = bot.slack.responses[earlier:]
    assert told["replace_original"] is True
    assert "`#python`" in told["text"] and "won't send you" in told["text"]
    # One new DM: the next person for #python.
    assert routed(bot.slack, first) == ["U0BOB", "U0CAT", "U0DAN", "U0EVE"]

    # Pressed again (or Slack retried): no second re-route.
    await bot.press(DECLINE, first.id, "U0BOB")
    assert routed(bot.slack, first) == ["U0BOB", "U0CAT", "U0DAN", "U0EVE"]

    clock.now += timedelta(hours=1)
    second = await ask(bot, "U0ANN", "Which logging library should we use? #python")
    assert routed(bot.slack, second) == ["U0CAT", "U0DAN", "U0EVE"]

    third = await ask(bot, "U0ANN", "How do I read a slow query plan? #postgresql")
    assert routed(bot.slack, third) == ["U0BOB"]


async def test_not_my_area_on_one_skill_of_two_still_lets_the_other_reach_them(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot(QA_MAX_ROUTED_PER_DAY="5")
    await declare(bot, "U0BOB", "python:expert")
    await declare(bot, "U0BOB", "postgresql:practitioner")
    first = await ask(bot, "U0ANN", "How do I profile a slow script? #python")
    await bot.press(DECLINE, first.id, "U0BOB")

    # A question on both skills: Bob said #python is not his area, but #postgresql is.
    second = await ask(bot, "U0ANN", "How do I speed up this ORM query? #python #postgresql")

    assert routed(bot.slack, second) == ["U0BOB"]
