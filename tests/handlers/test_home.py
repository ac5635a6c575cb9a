"""App Home (the learning record, the routing pause, the admins' outbox) and `/guild me` /
`/guild export`, through signed requests into the real app, with Slack faked."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.models import LunchSession, OutboxStatement, Question, RoutePause
from storage.repositories import outbox as outbox_repo
from storage.repositories.effects import EffectCounts
from tests.handlers.test_lunchlearn import schedule
from tests.handlers.test_questions import check, reply
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack

QA = "C0QA"
PAUSE = "home_pause_routing"
RESUME = "home_resume_routing"
RETRY = "home_retry_dead"
RETRY_EFFECTS = "home_retry_effects"
_EVENT_IDS = itertools.count(1)


pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    """A Q&A channel, Ann the L&D admin, the test's clock (Monday 30 November 2026, noon UTC)."""
    settings = settings_for(tmp_path, slack, QA_CHANNEL=QA, LND_ADMINS="U0ANN")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


# Helpers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    bobs_question: Question
    routed_to_bob: Question
    lunch: LunchSession


def questions(bot: BotHarness) -> list[Question]:
    with bot.database.reading() as session:
        return list(session.exec(select(Question).order_by(Question.created_at)))


def outbox(bot: BotHarness) -> list[OutboxStatement]:
    with bot.database.reading() as session:
        return list(session.exec(select(OutboxStatement).order_by(OutboxStatement.seq)))


def pauses(bot: BotHarness) -> list[RoutePause]:
    with bot.database.reading() as session:
        return list(session.exec(select(RoutePause)))


async def ask(bot: BotHarness, user: str, text: str) -> Question:
    before = {q.id for q in questions(bot)}
    status, reply = await bot.command("/ask", text, user)
    assert status == 200 and reply["text"] == f"Posting your question in <#{QA}>…", reply
    [question] = [q for q in questions(bot) if q.id not in before]
    assert question.ts and question.permalink
    return question


def dmed(slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    """Posts to the person's DM channel (`D` + id without the `U`)."""
    channel = "D" + user.removeprefix("U")
    return [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == channel]


async def seed(bot: BotHarness, clock: SettableClock) -> Activity:
    """Bob active in all four capabilities; each step a minute after the one before."""

    def later() -> None:
        clock.now += timedelta(minutes=1)

    # Skills: Bob declares #python, Ann endorses it.
    _, reply = await bot.command("/skills", "add python:expert", "U0BOB")
    assert reply["text"].startswith("Added"), reply
    later()
    endorse = json.dumps({"user": "U0BOB", "skill": "python", "from": "profile"})
    status, _ = await bot.press("skill_endorse", endorse, "U0ANN")
    assert status == 200
    later()
    # Kudos: Ann → Bob (for #python), Bob → Cat.
    status, reply = await bot.command(
        "/kudos", "<@U0BOB> for pairing on the parser #python", "U0ANN"
    )
    assert status == 200 and "<@U0BOB>" in reply["text"], reply
    later()
    status, reply = await bot.command("/kudos", "<@U0CAT> for the great demo", "U0BOB")
    assert status == 200 and "<@U0CAT>" in reply["text"], reply
    later()
    # Q&A: Bob asks; Cat asks a #python question, which goes to Bob (the only #python person).
    bobs = await ask(bot, "U0BOB", "How do I set memory limits for a pod? #kubernetes")
    later()
    routed = await ask(bot, "U0CAT", "How do I profile a slow script? #python")
    assert len(dmed(bot.slack, "U0BOB")) == 1
    later()
    # Lunch-and-learn: Ann schedules one (Thursday noon), Bob is going.
    lunch = await schedule(bot)
    status, _ = await bot.press("lunch_going", lunch.id, "U0BOB")
    assert status == 200
    later()
    return Activity(bobs, routed, lunch)


async def open_home(bot: BotHarness, user: str, tab: str = "home") -> list[dict[str, Any]]:
    """Slack's `app_home_opened`; returns what was published to the person by it."""
    before = len(bot.slack.calls_to("views.publish"))
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user.removeprefix("U"),
        "tab": tab,
        "event_ts": f"{1764500000 + next(_EVENT_IDS)}.000200",
    }
    status, _ = await bot.event(event, f"Ev0HOME{next(_EVENT_IDS):04d}")
    assert status == 200
    return published_since(bot, before, user)


def published_since(bot: BotHarness, before: int, user: str) -> list[dict[str, Any]]:
    calls = bot.slack.calls_to("views.publish")[before:]
    assert all(c["user_id"] == user for c in calls), calls
    views = [c["view"] if isinstance(c["view"], dict) else json.loads(c["view"]) for c in calls]
    assert all(v["type"] == "home" for v in views)
    return views


async def press_in_home(bot: BotHarness, view: dict[str, Any], action_id: str, user: str) -> Any:
    """A button in the Home tab: block_actions from a `home` view (no message, no channel)."""
    before = len(bot.slack.calls_to("views.publish"))
    [button] = [e for e in elements(view) if e["action_id"] == action_id]
    action = {"type": "button", "action_id": action_id, "block_id": "home", **button}
    status, _ = await bot.view_action(view, action, {}, user)
    assert status == 200
    return published_since(bot, before, user)


def elements(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


# The "Learn from" section's own buttons (tests/handlers/test_suggestions.py covers them).
LEARN_FROM = {
    "suggestions_stop",
    "suggestions_resume",
    "suggestion_say_hi",
    "expert_ask",
    "community_join",
    "resource_open",
}


def buttons(view: dict[str, Any]) -> list[str]:
    """The record's buttons (pause, retry…), without those of "Learn from"."""
    return [e["action_id"] for e in elements(view) if e["action_id"] not in LEARN_FROM]


def sections(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def section(view: dict[str, Any], heading: str) -> str:
    """The section that starts with `*heading*`."""
    [found] = [t for t in sections(view) if t.startswith(f"*{heading}*")]
    return found


def lines(text: str) -> list[str]:
    return text.split("\n")[1:]


def date_token(moment: Any) -> str:
    return f"<!date^{int(moment.timestamp())}^"


def outbox_counts(bot: BotHarness) -> tuple[int, int, int]:
    with bot.database.reading() as session:
        counts = outbox_repo.counts(session)
    return counts.pending, counts.dead, counts.sent


# The learning record ---------------------------------------------------------------------------


async def test_home_shows_each_capability_of_the_record(
    bot: BotHarness, clock: SettableClock
) -> None:
    seeded = await seed(bot, clock)

    [view] = await open_home(bot, "U0BOB")

    [header] = [b for b in view["blocks"] if b["type"] == "header"]
    assert header["text"]["text"] == "Your learning record"
    assert lines(section(view, "Skills")) == ["• `#python` · expert · endorsed by 1 · 1 kudos"]
    # Bob (New York) got Ann's kudos and gave Cat one; 4 of his 5 a day are left.
    assert lines(section(view, "Kudos this month")) == [
        "1 received · 1 given · 4 of 5 left to give today"
    ]
    questions_text = section(view, "Your open questions")
    mine, waiting = questions_text.split("\n*Waiting for your answer*\n")
    assert lines(mine) == [f"• <{seeded.bobs_question.permalink}|{seeded.bobs_question.text}>"]
    assert waiting.split("\n") == [
        f"• <{seeded.routed_to_bob.permalink}|{seeded.routed_to_bob.text}>"
    ]
    assert "memory limits for a pod" in mine and "profile a slow script" in waiting
    [session_line] = lines(section(view, "Lunch-and-learns coming up"))
    assert session_line.startswith("• *Intro to pytest*, ")
    assert date_token(seeded.lunch.starts_at) in session_line
    assert session_line.endswith(" · you're going")
    assert section(view, "Routed questions").startswith(
        "*Routed questions*: you get up to a few a day"
    )
    assert buttons(view) == [PAUSE]
    assert [e["text"]["text"] for e in elements(view) if e["action_id"] not in LEARN_FROM] == [
        "Pause for a week"
    ]
    # Bob is no L&D admin: no outbox, no totals, no retry.
    shown = json.dumps(view)
    assert "xAPI outbox" not in shown and "Dead letters" not in shown
    assert "*This month*" not in shown and RETRY not in shown
    # The last context line ("Learn from" has one of its own).
    updated = [b for b in view["blocks"] if b["type"] == "context"][-1]
    assert date_token(clock.now) in updated["elements"][0]["text"]


async def test_an_empty_record_says_so(bot: BotHarness) -> None:
    [view] = await open_home(bot, "U0CAT")

    assert lines(section(view, "Skills")) == [
        "None yet. `/skills add python:expert` gets you started."
    ]
    assert lines(section(view, "Kudos this month")) == [
        "0 received · 0 given · 5 of 5 left to give today"
    ]
    assert section(view, "Your open questions") == (
        "*Your open questions*\nNone.\n*Waiting for your answer*\nNothing right now."
    )
    assert lines(section(view, "Lunch-and-learns coming up")) == ["None scheduled."]
    assert buttons(view) == [PAUSE]


async def test_a_kudos_given_the_moment_home_opens_is_counted(bot: BotHarness) -> None:
    """Given and received are counted over the same span: up to and including now."""
    await bot.command("/kudos", "<@U0CAT> for the great demo", "U0BOB")
    await bot.command("/kudos", "<@U0BOB> for the review", "U0CAT")

    [view] = await open_home(bot, "U0BOB")

    assert lines(section(view, "Kudos this month")) == [
        "1 received · 1 given · 4 of 5 left to give today"
    ]


async def test_answering_or_declining_takes_a_question_off_waiting(
    bot: BotHarness, clock: SettableClock
) -> None:
    seeded = await seed(bot, clock)
    second = await ask(bot, "U0ANN", "Which logging library should we use? #python")
    [view] = await open_home(bot, "U0BOB")
    waiting = section(view, "Your open questions").split("\n*Waiting for your answer*\n")[1]
    assert [seeded.routed_to_bob.permalink in waiting, second.permalink in waiting] == [True, True]

    # Bob answers the first in its thread and says the second is not his area.
    await reply(bot, "U0BOB", "Try py-spy.", seeded.routed_to_bob.ts, "Ev0ANSWER1")
    await bot.press("route_decline", second.id, "U0BOB")

    [view] = await open_home(bot, "U0BOB")
    assert section(view, "Your open questions").endswith(
        "*Waiting for your answer*\nNothing right now."
    )


async def test_an_accepted_answer_takes_the_question_off_your_open_ones(
    bot: BotHarness, clock: SettableClock
) -> None:
    seeded = await seed(bot, clock)
    bobs = seeded.bobs_question
    answer_ts = await reply(bot, "U0CAT", "Set resources.limits.memory.", bobs.ts, "Ev0ANSWER2")
    clock.now += timedelta(minutes=1)

    await check(bot, "U0BOB", answer_ts, "Ev0ACCEPT1")

    [view] = await open_home(bot, "U0BOB")
    assert section(view, "Your open questions").startswith("*Your open questions*\nNone.\n")
    _, reply_text = await bot.command("/guild", "me", "U0BOB")
    assert "• Questions: 0 of yours open, 1 waiting for your answer" in reply_text["text"]


async def test_this_month_and_today_are_the_persons_own(
    bot: BotHarness, clock: SettableClock
) -> None:
    """Kudos on Monday noon UTC; Tuesday 03:00 UTC is still Monday evening in New York
    (Bob) but already Tuesday noon, and a new month, in Tokyo (Cat)."""
    await bot.command("/kudos", "<@U0CAT> for the great demo", "U0BOB")
    await bot.command("/kudos", "<@U0BOB> for the review", "U0CAT")
    clock.now += timedelta(hours=15)

    [bobs] = await open_home(bot, "U0BOB")
    [cats] = await open_home(bot, "U0CAT")

    assert lines(section(bobs, "Kudos this month")) == [
        "1 received · 1 given · 4 of 5 left to give today"
    ]
    assert lines(section(cats, "Kudos this month")) == [
        "0 received · 0 given · 5 of 5 left to give today"
    ]


async def test_the_messages_tab_publishes_nothing(bot: BotHarness, clock: SettableClock) -> None:
    await seed(bot, clock)

    assert await open_home(bot, "U0BOB", tab="messages") == []


# For L&D admins --------------------------------------------------------------------------------


async def test_admins_also_see_the_outbox_and_the_months_totals(
    bot: BotHarness, clock: SettableClock
) -> None:
    await seed(bot, clock)
    pending, dead, sent = outbox_counts(bot)
    assert (dead, sent) == (0, 0)

    [view] = await open_home(bot, "U0ANN")

    assert section(view, "xAPI outbox") == (
        f"*xAPI outbox* (L&D)\n{pending} pending · 0 dead-lettered · 0 delivered · "
        "last delivery never"
    )
    assert "Dead letters" not in json.dumps(view)
    assert RETRY not in buttons(view)
    # Two kudos (Ann → Bob, Bob → Cat) and two questions this month.
    assert section(view, "This month") == "*This month*: 2 kudos · 2 questions asked"
    # Ann's own record is there too.
    assert lines(section(view, "Kudos this month")) == [
        "0 received · 1 given · 4 of 5 left to give today"
    ]


async def test_dead_letters_show_their_reasons_and_retry_requeues_them(
    bot: BotHarness, clock: SettableClock
) -> None:
    await seed(bot, clock)
    rows = outbox(bot)
    with bot.database.transaction() as session:
        outbox_repo.mark_sent(session, [rows[0].statement_id], clock.now)
        outbox_repo.mark_dead(session, rows[1].statement_id, "LRS said 400: bad verb display")
        outbox_repo.mark_dead(session, rows[2].statement_id, "LRS said 400: <odd|reason>")
    pending = len(rows) - 3
    assert outbox_counts(bot) == (pending, 2, 1)

    [view] = await open_home(bot, "U0ANN")

    assert section(view, "xAPI outbox") == (
        f"*xAPI outbox* (L&D)\n{pending} pending · 2 dead-lettered · 1 delivered · "
        f"last delivery <!date^{int(clock.now.timestamp())}^{{date_short_pretty}} {{time}}"
        "|recently>"
    )
    assert lines(section(view, "Dead letters")) == [
        f"• `{rows[1].statement_id[:8]}` LRS said 400: bad verb display",
        f"• `{rows[2].statement_id[:8]}` LRS said 400: &lt;odd|reason&gt;",
    ]
    assert buttons(view) == [PAUSE, RETRY]

    # Bob, no admin, can't retry (even with a forged press): nothing changes.
    [bobs] = await open_home(bot, "U0BOB")
    assert RETRY not in buttons(bobs)
    [redrawn] = await press_in_home(bot, view, RETRY, "U0BOB")
    assert outbox_counts(bot) == (pending, 2, 1)
    assert "xAPI outbox" not in json.dumps(redrawn)

    [redrawn] = await press_in_home(bot, view, RETRY, "U0ANN")

    assert outbox_counts(bot) == (pending + 2, 0, 1)
    assert section(redrawn, "xAPI outbox").startswith(
        f"*xAPI outbox* (L&D)\n{pending + 2} pending · 0 dead-lettered · 1 delivered"
    )
    assert "Dead letters" not in json.dumps(redrawn)
    assert buttons(redrawn) == [PAUSE]


# Pausing routed questions ----------------------------------------------------------------------


async def test_pause_from_home_stops_routing_and_resume_brings_it_back(
    bot: BotHarness, clock: SettableClock
) -> None:
    await seed(bot, clock)
    [view] = await open_home(bot, "U0BOB")

    [paused] = await press_in_home(bot, view, PAUSE, "U0BOB")

    until = clock.now + timedelta(days=7)
    [row] = pauses(bot)
    assert (row.user_id, row.paused_until) == ("U0BOB", until)
    assert section(paused, "Routed questions") == (
        f"*Routed questions* are paused until <!date^{int(until.timestamp())}"
        "^{date_short_pretty}|later>."
    )
    assert buttons(paused) == [RESUME]
    assert [e["text"]["text"] for e in elements(paused) if e["action_id"] not in LEARN_FROM] == [
        "Resume now"
    ]
    # Opening Home again shows the same.
    [again] = await open_home(bot, "U0BOB")
    assert buttons(again) == [RESUME]
    # A new #python question no longer reaches Bob.
    dms_before = len(dmed(bot.slack, "U0BOB"))
    await ask(bot, "U0CAT", "Which logging library should we use? #python")
    assert len(dmed(bot.slack, "U0BOB")) == dms_before

    [resumed] = await press_in_home(bot, paused, RESUME, "U0BOB")

    assert pauses(bot) == []
    assert section(resumed, "Routed questions").startswith(
        "*Routed questions*: you get up to a few a day"
    )
    assert buttons(resumed) == [PAUSE]
    await ask(bot, "U0CAT", "Is asyncio worth it for this service? #python")
    assert len(dmed(bot.slack, "U0BOB")) == dms_before + 1


async def test_a_pause_that_ran_out_is_not_shown(bot: BotHarness, clock: SettableClock) -> None:
    [view] = await open_home(bot, "U0BOB")
    await press_in_home(bot, view, PAUSE, "U0BOB")

    clock.now += timedelta(days=7)
    [later] = await open_home(bot, "U0BOB")

    assert buttons(later) == [PAUSE]


# /guild me and /guild export -------------------------------------------------------------------


async def test_guild_me_sums_up_the_same_record(bot: BotHarness, clock: SettableClock) -> None:
    await seed(bot, clock)

    status, reply = await bot.command("/guild", "me", "U0BOB")

    assert status == 200
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert reply["text"] == (
        "*Your learning record*\n• Skills: #python\n"
        "• Kudos this month: 1 received, 1 given; 4 left to give today\n"
        "• Questions: 1 of yours open, 1 waiting for your answer\n"
        "• Lunch-and-learns coming up: 1\n"
        "More in guildbot's Home tab."
    )


async def test_guild_export_sends_the_persons_own_statements_as_a_file_by_dm(
    bot: BotHarness, clock: SettableClock
) -> None:
    await seed(bot, clock)
    bobs = [json.loads(r.body) for r in outbox(bot) if r.actor_id == "U0BOB"]
    assert len(bobs) == 5

    status, reply = await bot.command("/guild", "export", "U0BOB")

    assert status == 200
    assert reply["text"] == "Preparing your learning record; I'll send it to you as a file by DM."
    [upload] = bot.slack.files.values()
    assert upload["filename"] == "my-learning-record.json"
    assert upload["channel"] == "D0BOB"
    assert upload["comment"].startswith("Your 5 learning records as xAPI statements")
    exported = json.loads(upload["content"])
    assert exported == bobs
    assert {s["actor"]["account"]["name"] for s in exported} == {"U0BOB"}
    verbs = [re.sub(r".*/", "", s["verb"]["id"]) for s in exported]
    assert verbs == ["add", "receive", "give", "asked", "registered"]


async def test_admins_see_slack_effects_slack_refused_and_can_try_them_again(
    bot: BotHarness, clock: SettableClock
) -> None:
    bot.slack.fail_next("chat.postMessage", body={"ok": False, "error": "msg_too_long"})
    await bot.command("/kudos", "<@U0BOB> for the thorough review", "U0CAT")

    [view] = await open_home(bot, "U0ANN")

    assert section(view, "Slack posts and messages owed") == (
        "*Slack posts and messages owed*\n0 waiting · 1 that Slack refused"
    )
    assert lines(section(view, "Refused")) == ["• kudos recognition: Slack said msg_too_long"]
    assert RETRY_EFFECTS in buttons(view)
    # Nobody else sees them, or can retry them.
    [bobs] = await open_home(bot, "U0BOB")
    assert "Slack posts and messages owed" not in json.dumps(bobs)
    await press_in_home(bot, view, RETRY_EFFECTS, "U0BOB")
    assert bot.services.effects.counts().dead == 1

    # Once the cause is fixed, an admin tries them again and the post goes out.
    [redrawn] = await press_in_home(bot, view, RETRY_EFFECTS, "U0ANN")
    assert section(redrawn, "Slack posts and messages owed").endswith(
        "1 waiting · 0 that Slack refused"
    )
    assert await bot.effects.perform_due(bot.slack_client, bot.team_id) == 1
    assert len(bot.slack.calls_to("chat.postMessage")) == 2
    assert bot.services.effects.counts() == EffectCounts(pending=0, dead=0)
