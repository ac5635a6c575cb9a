"""What the LRS holds stays true to what happened in Slack: when it happened, who it was (one
actor per person), which skill a session was for, and which channel it was in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.xapi import vocabulary as v
from bot.xapi.statements import derived_id
from tests.handlers.test_lunchlearn import (
    START,
    add_people,
    form,
    open_form,
    rating_values,
    statements,
    stored,
    tick,
)
from tests.handlers.test_questions import ask, message_event
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import (
    DEFAULT_SCOPES,
    TEAM_ID,
    FakeSlack,
    block_action_body,
    reaction_event,
    sign,
)

pytestmark = pytest.mark.usefixtures("no_listener_failures")
QA = "C0QA"


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    add_people(slack)
    settings = settings_for(tmp_path, slack, LND_ADMINS="U0ANN", QA_CHANNEL=QA)
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


@pytest.fixture
async def email_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """XAPI_ACTOR=email; everyone has a visible address."""
    add_people(slack)
    for user in slack.users.values():
        user.email = f"{user.id.lower()}@example.com"
    slack.scopes = DEFAULT_SCOPES + ",users:read.email"
    settings = settings_for(tmp_path, slack, LND_ADMINS="U0ANN", XAPI_ACTOR="email")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


async def schedule(bot: BotHarness, gap: str | None = None, **typed: Any) -> Any:
    """Ann schedules a session; from a knowledge gap, the form carries the gap's skill."""
    view = await open_form(bot)
    if gap:
        view = {**view, "private_metadata": json.dumps({"gap": gap})}
    status, ack = await bot.submit(view, form(**typed), "U0ANN")
    assert status == 200 and "response_action" not in ack, ack
    return stored(bot, derived_id(TEAM_ID, "lunch-session", "form:V0FORM"))


def skills_of(statement: dict[str, Any]) -> list[str]:
    others = statement["context"]["contextActivities"].get("other") or []
    return [a["id"].rsplit("/skills/", 1)[1] for a in others if "/skills/" in a["id"]]


async def a_whole_session(bot: BotHarness, clock: SettableClock, lunch: Any) -> None:
    """Bob goes, checks in, the session starts and ends, Bob rates it."""
    await bot.press("lunch_going", lunch.id, "U0BOB")
    clock.now = START - timedelta(minutes=10)
    await tick(bot)
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    clock.now = START + timedelta(minutes=1)
    await tick(bot)
    clock.now = START + timedelta(minutes=46)
    await tick(bot)
    await bot.press("lunch_rate_4", f"{lunch.id}|4", "U0BOB")
    await bot.submit(bot.opened_views()[-1], rating_values(4), "U0BOB", view_id="V0RATE")


# The gap skill ---------------------------------------------------------------------------------


async def test_a_session_scheduled_from_a_gap_tags_its_skill_on_every_statement(
    bot: BotHarness, clock: SettableClock
) -> None:
    lunch = await schedule(bot, gap="kafka", tags="#python")
    await a_whole_session(bot, clock, lunch)

    made = statements(bot)
    assert [s["verb"]["id"] for s in made] == [
        v.SCHEDULE.id,
        v.REGISTERED.id,
        v.ATTENDED.id,
        v.PRESENT.id,
        v.RATED.id,
    ]
    for statement in made:
        assert skills_of(statement) == ["python", "kafka"], statement["verb"]["id"]


# One actor per person --------------------------------------------------------------------------


async def test_with_email_actors_the_promoted_and_the_presenter_are_who_they_always_are(
    email_bot: BotHarness, clock: SettableClock
) -> None:
    """A registration promoted from the waitlist and the presenter's `present` were built from
    bare Slack ids, so they used `account` while the person's own statements used `mbox`."""
    bot = email_bot
    lunch = await schedule(bot, capacity="1")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0DAN")  # waitlisted: Dan's own press
    await bot.press("lunch_not_going", lunch.id, "U0BOB")  # Dan is promoted by Bob's
    clock.now = START + timedelta(minutes=1)
    await tick(bot)  # Cat, the presenter, presents

    made = statements(bot)
    registered = [s for s in made if s["verb"]["id"] == v.REGISTERED.id]
    assert [s["actor"] for s in registered] == [
        {"objectType": "Agent", "name": "Bob Baker", "mbox": "mailto:u0bob@example.com"},
        {"objectType": "Agent", "name": "Dan", "mbox": "mailto:u0dan@example.com"},
    ]
    cat = {"objectType": "Agent", "name": "Cat Carter", "mbox": "mailto:u0cat@example.com"}
    [present] = [s for s in made if s["verb"]["id"] == v.PRESENT.id]
    assert present["actor"] == cat
    for statement in made:
        assert statement["context"]["instructor"] == cat, statement["verb"]["id"]
        assert "account" not in json.dumps(statement)


# When it happened ------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def timestamp_of(statement: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(statement["timestamp"])


async def test_a_reaction_kudos_and_its_withdrawal_happen_when_slack_says(
    bot: BotHarness, clock: SettableClock
) -> None:
    """Slack redelivers events late, and the reaction is processed after the ack: neither may
    move the statement's time."""
    ts = bot.slack.write("C0GENERAL", "U0BOB", "Fixed the flaky build")
    added, removed = clock.now - timedelta(minutes=20), clock.now - timedelta(minutes=5)
    bot.slack.react("C0GENERAL", ts, "trophy", "U0ANN")
    event = reaction_event("reaction_added", "U0ANN", "trophy", "C0GENERAL", ts, "U0BOB")
    await bot.event({**event, "event_ts": stamp(added)}, "EvAdd")
    bot.slack.react("C0GENERAL", ts, "trophy", "U0ANN", add=False)
    event = reaction_event("reaction_removed", "U0ANN", "trophy", "C0GENERAL", ts, "U0BOB")
    await bot.event({**event, "event_ts": stamp(removed)}, "EvRemove")

    give, receive, *voids = statements(bot)
    assert timestamp_of(give) == timestamp_of(receive) == added.replace(microsecond=0)
    assert [timestamp_of(void) for void in voids] == [removed.replace(microsecond=0)] * 2


async def test_a_button_press_and_an_answer_happen_when_slack_says(
    bot: BotHarness, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    pressed = clock.now - timedelta(seconds=40)
    body = block_action_body(
        "lunch_going", lunch.id, "U0BOB", bot.slack.response_url, at=pressed.timestamp()
    )
    await bot.post(body, sign(body))
    q_ts, _ = await ask(bot, "U0ANN", "How do I pin a python dependency? #python")
    posted = clock.now - timedelta(seconds=10)
    answer_ts = bot.slack.write(QA, "U0BOB", "Use a constraints file", thread_ts=q_ts)
    await bot.event(
        message_event("U0BOB", "Use a constraints file", answer_ts, q_ts)
        | {"event_ts": stamp(posted)},
        "EvAnswer",
    )

    [registered] = statements(bot, v.REGISTERED.id)
    [answered] = statements(bot, v.ANSWERED.id)
    assert timestamp_of(registered) == pressed.replace(
        microsecond=pressed.microsecond // 1000 * 1000
    )
    assert timestamp_of(answered) == posted


async def test_a_time_slack_gives_in_the_future_is_now(
    bot: BotHarness, clock: SettableClock
) -> None:
    """A statement's timestamp is never in the future, whatever a client's clock says."""
    lunch = await schedule(bot)
    body = block_action_body(
        "lunch_going",
        lunch.id,
        "U0BOB",
        bot.slack.response_url,
        at=(clock.now + timedelta(hours=1)).timestamp(),
    )
    await bot.post(body, sign(body))

    [registered] = statements(bot, v.REGISTERED.id)
    assert timestamp_of(registered) == clock.now


# Where it happened -----------------------------------------------------------------------------


async def test_a_channel_is_named_once_a_request_from_it_said_its_name(bot: BotHarness) -> None:
    """Events never carry a channel's name; commands and buttons do, and it is kept."""
    ts = bot.slack.write("C0GENERAL", "U0BOB", "Fixed the flaky build")
    bot.slack.react("C0GENERAL", ts, "trophy", "U0ANN")
    await bot.event(
        reaction_event("reaction_added", "U0ANN", "trophy", "C0GENERAL", ts, "U0BOB"), "Ev1"
    )
    await bot.command("/kudos", "<@U0CAT> for the clear incident write-up", "U0ANN")  # in #general
    bot.slack.react("C0GENERAL", ts, "trophy", "U0CAT")
    await bot.event(
        reaction_event("reaction_added", "U0CAT", "trophy", "C0GENERAL", ts, "U0BOB"), "Ev2"
    )

    gives = [s for s in statements(bot) if s["verb"]["id"] == v.GIVE.id]
    names = [
        [
            a["definition"].get("name", {}).get("en-US")
            for a in s["context"]["contextActivities"]["parent"]
        ]
        for s in gives
    ]
    assert names == [
        [None, None],  # before any request named #general: the message, the channel
        ["#general"],
        ["Message in #general", "#general"],
    ]
