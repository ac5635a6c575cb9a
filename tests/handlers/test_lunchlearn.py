"""Lunch-and-learns (/lunchlearn, the schedule form, the announcement's RSVP buttons, calendar
files, cancelling, the tick's reminders, check-in and feedback) through signed requests into
the real app, with Slack faked."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.slack_client import build_web_client
from bot.xapi.statements import derived_id
from handlers import tick_jobs
from handlers.lunchlearn import run_session_jobs
from storage.models import LunchSession, OutboxStatement, Rsvp, SessionJob, SlackEffect
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.lunch import rating_values, schedule_values
from tests.support.process import eventually
from tests.support.slack import TEAM_ID, FakeSlack

LUNCH = "C0LUNCH"
START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # Thursday noon; the clock says Monday noon
SCHEDULE = "http://activitystrea.ms/schedule"
REGISTERED = "http://adlnet.gov/expapi/verbs/registered"
UNREGISTERED = "http://id.tincanapi.com/verb/unregistered"
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
PRESENT = "http://activitystrea.ms/present"
RATED = "http://id.tincanapi.com/verb/rated"
CANCEL = "http://activitystrea.ms/cancel"
MEETING_ID = re.compile(r"/sessions/([0-9a-f-]{36})$")
_PLACE = re.compile(r"^\*(\d+)\. <@([UW][A-Z0-9]+)>\*\n(.*)$", re.DOTALL)
SHORT_ID = re.compile(r"^[A-HJ-NP-Z2-9]{4}$")
CHECKIN_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")


pytestmark = pytest.mark.usefixtures("no_listener_failures")


def add_people(slack: FakeSlack) -> None:
    slack.add_user("U0DAN", "Dan")
    slack.add_user("U0EVE", "Eve")
    slack.add_user("U0FAY", "Fay")


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    """Ann is the L&D admin; the clock is the test's."""
    add_people(slack)
    harness = BotHarness(settings_for(tmp_path, slack, LND_ADMINS="U0ANN"), slack, clock)
    await harness.start()
    yield harness
    await harness.close()


@pytest.fixture
async def code_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """As `bot`, with check-in codes (LUNCHLEARN_CHECKIN_CODE=true)."""
    add_people(slack)
    settings = settings_for(tmp_path, slack, LND_ADMINS="U0ANN", LUNCHLEARN_CHECKIN_CODE="true")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


# Helpers ---------------------------------------------------------------------------------------


def form(**typed: Any) -> dict[str, Any]:
    """The schedule form's state values as Slack sends them; a field given as None is empty."""
    return schedule_values(typed.pop("start", START), **typed)


async def open_form(bot: BotHarness, user: str = "U0ANN") -> dict[str, Any]:
    before = len(bot.opened_views())
    status, reply = await bot.command("/lunchlearn", "", user)
    assert status == 200 and not reply.get("text"), reply
    [view] = bot.opened_views()[before:]
    return view


async def schedule(bot: BotHarness, view_id: str = "V0FORM", **typed: Any) -> LunchSession:
    """Ann fills in the form and submits it; returns the stored session."""
    view = await open_form(bot)
    status, ack = await bot.submit(view, form(**typed), "U0ANN", view_id=view_id)
    assert status == 200 and "response_action" not in ack, ack
    return stored(bot, derived_id(TEAM_ID, "lunch-session", f"form:{view_id}"))


def stored(bot: BotHarness, session_id: str) -> LunchSession:
    with bot.database.reading() as db:
        found = db.get(LunchSession, session_id)
    assert found is not None
    return found


def sessions(bot: BotHarness) -> list[LunchSession]:
    with bot.database.reading() as db:
        return list(db.exec(select(LunchSession)))


def rsvps(bot: BotHarness, session_id: str) -> dict[str, Rsvp]:
    with bot.database.reading() as db:
        return {r.user_id: r for r in db.exec(select(Rsvp).where(Rsvp.session_id == session_id))}


def statuses(bot: BotHarness, session_id: str) -> dict[str, str]:
    return {user: r.status for user, r in rsvps(bot, session_id).items()}


def jobs(bot: BotHarness, session_id: str) -> dict[str, SessionJob]:
    with bot.database.reading() as db:
        found = db.exec(select(SessionJob).where(SessionJob.session_id == session_id))
        return {job.kind: job for job in found}


def statements(bot: BotHarness, verb: str | None = None) -> list[dict[str, Any]]:
    with bot.database.reading() as db:
        rows = db.exec(select(OutboxStatement).order_by(OutboxStatement.seq))
        bodies = [json.loads(row.body) for row in rows]
    return [s for s in bodies if verb is None or s["verb"]["id"] == verb]


def actor(statement: dict[str, Any]) -> str:
    return statement["actor"]["account"]["name"]


def skill_ids(statement: dict[str, Any]) -> list[str]:
    others = statement.get("context", {}).get("contextActivities", {}).get("other") or []
    return [a["id"].rsplit("/skills/", 1)[1] for a in others if "/skills/" in a["id"]]


def about(statement: dict[str, Any], lunch: LunchSession) -> bool:
    """The statement is about this session: it is the object and the registration."""
    found = MEETING_ID.search(statement["object"]["id"])
    return (
        found is not None
        and found[1] == lunch.id
        and statement["context"]["registration"] == lunch.id
    )


def dms(slack: FakeSlack) -> list[tuple[str, dict[str, Any]]]:
    """(user, chat.postMessage call) of every DM: posts to the `D…` channel that
    `conversations.open` gave for the user."""
    opened: dict[str, str] = {}
    found = []
    for call in slack.calls:
        if call.method == "conversations.open":
            opened["D" + call.args["users"].lstrip("UW")] = call.args["users"]
        elif call.method == "chat.postMessage" and call.args.get("channel", "").startswith("D"):
            assert call.args["channel"] in opened
            found.append((opened[call.args["channel"]], call.args))
    return found


def dm_texts(slack: FakeSlack, since: int = 0) -> list[tuple[str, str]]:
    return [(user, call["text"]) for user, call in dms(slack)[since:]]


def delivered_dms(slack: FakeSlack) -> list[tuple[str, str]]:
    """(DM channel, text) of the DMs Slack accepted (a failed call delivers nothing)."""
    return [(c, m["text"]) for (c, _), m in slack.messages.items() if c.startswith("D")]


def owed(bot: BotHarness, kind: str | None = None) -> list[SlackEffect]:
    """The Slack effects lunch-and-learns owe or owed (of one kind), oldest first."""
    with bot.database.reading() as db:
        rows = db.exec(select(SlackEffect).order_by(SlackEffect.seq))
        return [e for e in rows if e.kind.startswith("lunch.") and kind in (None, e.kind)]


def non_reminders(slack: FakeSlack) -> list[tuple[str, str]]:
    return [(user, text) for user, text in dm_texts(slack) if ":alarm_clock:" not in text]


def said(slack: FakeSlack) -> str:
    """The last ephemeral reply (a lazy listener's response_url post)."""
    reply = slack.responses[-1]
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False, reply
    return reply["text"]


def announcement(bot: BotHarness, lunch: LunchSession) -> dict[str, Any]:
    """The announcement as people see it now: the post (the last try: a failed one is
    retried, a landed one never), then its latest chat.update."""
    *_, post = [
        call
        for call in bot.slack.calls_to("chat.postMessage")
        if call["channel"] == lunch.channel_id
        and any(f"id `{lunch.short_id}`" in text for text in context_texts(call["blocks"]))
    ]
    shown = post
    for update in bot.slack.calls_to("chat.update"):
        if (update["channel"], update["ts"]) == (lunch.channel_id, lunch.message_ts):
            shown = update
    return shown


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def context_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def count_line(bot: BotHarness, lunch: LunchSession) -> str:
    [line] = context_texts(announcement(bot, lunch)["blocks"])
    return line


def uploads(slack: FakeSlack) -> list[dict[str, Any]]:
    return list(slack.files.values())


def ics_properties(content: bytes) -> dict[str, str]:
    text = re.sub(r"\r\n[ \t]", "", content.decode())
    found: dict[str, str] = {}
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        found.setdefault(name, value)
    return found


def date_token(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^"


async def tick(bot: BotHarness) -> int:
    return await run_session_jobs(
        bot.services, bot.effects, build_web_client(bot.settings), TEAM_ID
    )


async def tick_all(bot: BotHarness) -> None:
    """The whole database tick, as every process runs it: owed effects, then session jobs."""
    for job in tick_jobs(bot.services, bot.effects, bot.installed):
        await job()


def expert_places(reply: dict[str, Any]) -> dict[str, str]:
    found = {}
    for block in reply["blocks"]:
        if block["type"] == "section" and (line := _PLACE.match(block["text"]["text"])):
            found[line[2]] = line[3]
    return found


def code_values(code: str) -> dict[str, Any]:
    return {"code": {"value": {"type": "plain_text_input", "value": code}}}


# /lunchlearn -----------------------------------------------------------------------------------


async def test_only_lnd_admins_open_the_form_and_the_refusal_names_them(
    bot: BotHarness, slack: FakeSlack
) -> None:
    status, reply = await bot.command("/lunchlearn", "", "U0BOB")

    assert status == 200
    assert "Only L&D admins" in reply["text"] and "<@U0ANN>" in reply["text"]
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert slack.calls_to("views.open") == []

    status, reply = await bot.command("/lunchlearn", "", "U0ANN", trigger_id="1234.5678.abcd")

    assert status == 200 and not reply.get("text")
    [opened] = slack.calls_to("views.open")
    assert opened["trigger_id"] == "1234.5678.abcd"
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "lunchlearn_schedule"
    assert [b["block_id"] for b in view["blocks"]] == [
        "title",
        "description",
        "tags",
        "presenter",
        "start",
        "duration",
        "place",
        "capacity",
        "channel",
    ]
    assert all(b["element"]["action_id"] == "value" for b in view["blocks"])
    assert statements(bot) == [] and sessions(bot) == []


async def test_help_and_unknown_words_explain_the_command(
    bot: BotHarness, slack: FakeSlack
) -> None:
    _, helped = await bot.command("/lunchlearn", "help", "U0BOB")
    _, unknown = await bot.command("/lunchlearn", "frobnicate now", "U0ANN")

    for usage in ("/lunchlearn list", "/lunchlearn cancel &lt;id&gt;", "/lunchlearn help"):
        assert usage in helped["text"]
        assert usage in unknown["text"]
    assert unknown["text"].startswith("I don't know `/lunchlearn frobnicate now`.")
    assert slack.calls_to("views.open") == []
    assert sessions(bot) == []


# The form --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"start": "past"}, "start", "Pick a time in the future."),
        ({"start": "now"}, "start", "Pick a time in the future."),
        ({"duration": "0"}, "duration", "at least 1"),
        ({"duration": "forty"}, "duration", "at least 1"),
        ({"capacity": "0"}, "capacity", "at least 1 person"),
        ({"capacity": "-3"}, "capacity", "at least 1 person"),
        ({"title": "   "}, "title", "Give the session a title."),
        ({"title": "x" * 151}, "title", "under 150 characters"),
        ({"place": None}, "place", "a room or a call link"),
        ({"presenter": None}, "presenter", "Pick who presents."),
        ({"channel": None}, "channel", "Pick the channel"),
        ({"start": None}, "start", "Pick when the session starts."),
    ],
)
async def test_a_bad_field_is_reported_on_the_field_and_nothing_is_saved(
    bot: BotHarness,
    slack: FakeSlack,
    clock: SettableClock,
    typed: dict[str, Any],
    field: str,
    message: str,
) -> None:
    when = {"past": clock.now - timedelta(hours=1), "now": clock.now}
    typed = {k: when.get(v, v) if isinstance(v, str) else v for k, v in typed.items()}
    view = await open_form(bot)

    status, ack = await bot.submit(view, form(**typed), "U0ANN")

    assert status == 200
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [field]
    assert message in ack["errors"][field]
    assert sessions(bot) == [] and statements(bot) == []
    assert slack.calls_to("chat.postMessage") == []


async def test_every_missing_field_is_reported_at_once(bot: BotHarness) -> None:
    view = await open_form(bot)
    empty = form(
        title=None, presenter=None, start=None, duration=None, place=None, channel=None, tags=None
    )
    empty["description"] = {"value": {"type": "plain_text_input", "value": None}}
    empty["capacity"] = {"value": {"type": "number_input", "value": None}}

    _, ack = await bot.submit(view, empty, "U0ANN")

    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"title", "start", "duration", "presenter", "place", "channel"}
    assert sessions(bot) == [] and statements(bot) == []


async def test_a_valid_form_stores_the_session_and_its_jobs_and_announces_it(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    view = await open_form(bot)

    status, ack = await bot.submit(view, form(tags="#python, #Testing"), "U0ANN", "V0FORM")

    assert status == 200 and "response_action" not in ack
    [lunch] = sessions(bot)
    assert lunch.id == derived_id(TEAM_ID, "lunch-session", "form:V0FORM")
    assert (lunch.title, lunch.description, lunch.place) == (
        "Intro to pytest",
        "Fixtures, parametrize and plugins.",
        "Room 4",
    )
    assert lunch.tags == ["python", "testing"]
    assert (lunch.organiser_id, lunch.presenter_id, lunch.channel_id) == ("U0ANN", "U0CAT", LUNCH)
    assert (lunch.starts_at, lunch.duration_minutes, lunch.capacity) == (START, 45, 2)
    assert (lunch.status, lunch.sequence, lunch.checkin_code) == ("scheduled", 0, None)
    assert lunch.created_at == clock.now
    assert SHORT_ID.match(lunch.short_id), lunch.short_id

    due = {kind: (job.due_at, job.done_at) for kind, job in jobs(bot, lunch.id).items()}
    ends = START + timedelta(minutes=45)
    assert due == {
        "reminder:1440": (START - timedelta(hours=24), None),
        "reminder:15": (START - timedelta(minutes=15), None),
        "checkin-open": (START - timedelta(minutes=15), None),
        "start": (START, None),
        "end": (ends, None),
        "checkin-close": (ends + timedelta(minutes=30), None),
    }

    [scheduled] = statements(bot)
    assert scheduled["verb"]["id"] == SCHEDULE
    assert scheduled["id"] == lunch.scheduled_statement_id
    assert actor(scheduled) == "U0ANN"
    assert about(scheduled, lunch)
    assert scheduled["object"]["definition"]["name"]["en-US"] == "Intro to pytest"
    assert "python" in skill_ids(scheduled)

    [post] = slack.calls_to("chat.postMessage")
    assert post["channel"] == LUNCH
    assert "Intro to pytest" in post["text"] and date_token(START) in post["text"]
    blocks = post["blocks"]
    assert buttons(blocks) == ["lunch_going", "lunch_not_going", "lunch_calendar"]
    assert all(
        e["value"] == lunch.id for b in blocks if b["type"] == "actions" for e in b["elements"]
    )
    details = json.dumps(blocks)
    assert date_token(START) in details and date_token(ends) in details
    assert "<@U0CAT>" in details and "Room 4" in details
    assert context_texts(blocks) == [f"0 going of 2 · id `{lunch.short_id}`"]
    # The announcement is remembered, so later changes update it.
    [posted_ts] = [ts for channel, ts in slack.messages if channel == LUNCH]
    assert stored(bot, lunch.id).message_ts == posted_ts

    # Slack resending the same submission schedules nothing more.
    await bot.submit(view, form(), "U0ANN", "V0FORM")
    assert len(sessions(bot)) == 1 and len(statements(bot)) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_no_capacity_means_no_limit_and_no_waitlist(bot: BotHarness) -> None:
    lunch = await schedule(bot, capacity=None)
    assert lunch.capacity is None

    for person in ("U0BOB", "U0CAT", "U0DAN", "U0EVE"):
        await bot.press("lunch_going", lunch.id, person)

    assert set(statuses(bot, lunch.id).values()) == {"going"}
    assert count_line(bot, lunch) == f"4 going · id `{lunch.short_id}`"


async def test_an_admin_scheduling_into_a_channel_without_the_bot_is_told(
    bot: BotHarness, slack: FakeSlack
) -> None:
    slack.unreachable_channels.add(LUNCH)

    lunch = await schedule(bot)

    assert lunch.message_ts is None
    [(to, text)] = dm_texts(slack)
    assert to == "U0ANN" and "couldn't announce it" in text and f"<#{LUNCH}>" in text
    # Slack refuses it for good: not retried, and L&D admins see why in App Home.
    [announce] = owed(bot, "lunch.announce")
    assert (announce.status, announce.last_error) == ("dead", "Slack said channel_not_found")


# RSVPs -----------------------------------------------------------------------------------------


async def test_the_waitlist_fills_when_full_and_moves_up_when_a_place_frees(
    bot: BotHarness, slack: FakeSlack
) -> None:
    lunch = await schedule(bot, capacity="1")

    await bot.press("lunch_going", lunch.id, "U0BOB")

    assert said(slack).startswith("You're going to “Intro to pytest”")
    assert count_line(bot, lunch) == f"1 going of 1 · id `{lunch.short_id}`"
    [bob_registered] = statements(bot, REGISTERED)
    assert actor(bob_registered) == "U0BOB" and about(bob_registered, lunch)
    assert rsvps(bot, lunch.id)["U0BOB"].registered_statement_id == bob_registered["id"]

    await bot.press("lunch_going", lunch.id, "U0CAT")

    assert "is full, so you're on the waitlist" in said(slack)
    assert count_line(bot, lunch) == f"1 going of 1 · 1 on the waitlist · id `{lunch.short_id}`"
    assert statuses(bot, lunch.id) == {"U0BOB": "going", "U0CAT": "waitlist"}
    assert len(statements(bot, REGISTERED)) == 1  # a waitlist spot is no registration
    assert dms(slack) == []

    # Pressing Going again changes nothing: same answer, no update, no statement.
    updates, recorded = len(slack.calls_to("chat.update")), len(statements(bot))
    await bot.press("lunch_going", lunch.id, "U0CAT")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    assert said(slack).startswith("You're going to")
    assert "waitlist" in slack.responses[-2]["text"]
    assert len(slack.calls_to("chat.update")) == updates
    assert len(statements(bot)) == recorded
    assert statuses(bot, lunch.id) == {"U0BOB": "going", "U0CAT": "waitlist"}

    # Bob can't go: Cat takes his place, is told, and so is the organiser.
    await bot.press("lunch_not_going", lunch.id, "U0BOB")

    assert said(slack) == "You're not going to “Intro to pytest”. Thanks for letting people know."
    assert statuses(bot, lunch.id) == {"U0BOB": "not going", "U0CAT": "going"}
    assert count_line(bot, lunch) == f"1 going of 1 · id `{lunch.short_id}`"
    told = dm_texts(slack)
    assert [to for to, _ in told] == ["U0CAT", "U0ANN"]
    assert "a place freed up" in told[0][1] and "it's yours" in told[0][1]
    assert date_token(START) in told[0][1]
    assert told[1][1] == (
        "<@U0BOB> can't come to “Intro to pytest” any more. <@U0CAT> moved up from the waitlist."
    )
    [unregistered] = statements(bot, UNREGISTERED)
    assert actor(unregistered) == "U0BOB" and about(unregistered, lunch)
    registered = statements(bot, REGISTERED)
    assert [actor(s) for s in registered] == ["U0BOB", "U0CAT"]
    assert about(registered[1], lunch)
    assert rsvps(bot, lunch.id)["U0CAT"].registered_statement_id == registered[1]["id"]

    # Pressing Can't go again changes nothing.
    updates, recorded = len(slack.calls_to("chat.update")), len(statements(bot))
    await bot.press("lunch_not_going", lunch.id, "U0BOB")
    assert said(slack).startswith("You're not going")
    assert len(statements(bot)) == recorded
    assert len(slack.calls_to("chat.update")) == updates
    assert len(dms(slack)) == 2
    assert statuses(bot, lunch.id) == {"U0BOB": "not going", "U0CAT": "going"}


async def test_leaving_the_waitlist_frees_the_spot_without_a_statement(
    bot: BotHarness, slack: FakeSlack
) -> None:
    lunch = await schedule(bot, capacity="1")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0CAT")
    await bot.press("lunch_going", lunch.id, "U0DAN")
    recorded = len(statements(bot))

    await bot.press("lunch_not_going", lunch.id, "U0CAT")

    assert statuses(bot, lunch.id) == {"U0BOB": "going", "U0CAT": "not going", "U0DAN": "waitlist"}
    assert len(statements(bot)) == recorded
    assert count_line(bot, lunch) == f"1 going of 1 · 1 on the waitlist · id `{lunch.short_id}`"
    # The organiser hears about it; nobody was promoted.
    assert dm_texts(slack) == [("U0ANN", "<@U0CAT> can't come to “Intro to pytest” any more.")]

    # Dan is next when Bob drops out.
    await bot.press("lunch_not_going", lunch.id, "U0BOB")
    assert statuses(bot, lunch.id)["U0DAN"] == "going"


# Calendar files and cancelling -----------------------------------------------------------------


async def test_add_to_calendar_sends_an_ics_to_the_persons_dm(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)

    await bot.press("lunch_calendar", lunch.id, "U0BOB")

    assert "calendar file in a DM" in said(slack)
    [opened] = slack.calls_to("conversations.open")
    assert opened["users"] == "U0BOB"
    [file] = uploads(slack)
    assert file["channel"] == "D0BOB"
    assert file["filename"] == "lunch-and-learn.ics" and file["title"] == "Intro to pytest"
    assert "open this file to add it" in file["comment"]
    content = file["content"]
    assert content.endswith(b"\r\n") and b"\n" not in content.replace(b"\r\n", b"")
    found = ics_properties(content)
    assert found["UID"] == f"{lunch.id}@guildbot"
    assert found["SEQUENCE"] == "0"
    assert found["DTSTART"] == "20261203T120000Z"
    assert found["DTEND"] == "20261203T124500Z"
    assert found["DTSTAMP"] == "20261130T120000Z"
    assert (found["METHOD"], found["STATUS"]) == ("PUBLISH", "CONFIRMED")
    # Taking the file is no RSVP.
    assert statuses(bot, lunch.id) == {"U0BOB": "none"}
    assert rsvps(bot, lunch.id)["U0BOB"].calendar_sequence == 0
    assert count_line(bot, lunch) == f"0 going of 2 · id `{lunch.short_id}`"

    # Going afterwards keeps the calendar file on record.
    await bot.press("lunch_going", lunch.id, "U0BOB")
    assert rsvps(bot, lunch.id)["U0BOB"].calendar_sequence == 0


async def test_cancelling_tells_everyone_and_replaces_the_calendar_files(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot, capacity="1")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0CAT")  # waitlisted
    await bot.press("lunch_going", lunch.id, "U0EVE")  # waitlisted, then leaves
    await bot.press("lunch_not_going", lunch.id, "U0EVE")
    await bot.press("lunch_calendar", lunch.id, "U0BOB")
    await bot.press("lunch_calendar", lunch.id, "U0DAN")  # no RSVP, only the file
    first_files = set(slack.files)
    dm_count = len(dms(slack))
    recorded = len(statements(bot))

    # Only L&D cancels; an unknown id is explained.
    _, refused = await bot.command("/lunchlearn", f"cancel {lunch.short_id}", "U0BOB")
    assert "Only L&D admins" in refused["text"] and "<@U0ANN>" in refused["text"]
    _, unknown = await bot.command("/lunchlearn", "cancel ZZZZ", "U0ANN")
    assert unknown["text"].startswith("I don't know a session `ZZZZ`")
    assert "/lunchlearn list" in unknown["text"]
    assert stored(bot, lunch.id).status == "scheduled"
    assert len(statements(bot)) == recorded and len(dms(slack)) == dm_count

    clock.now += timedelta(hours=1)
    status, reply = await bot.command("/lunchlearn", f"cancel {lunch.short_id.lower()}", "U0ANN")

    assert status == 200
    assert reply["text"] == (
        "Cancelled “Intro to pytest”; I'm telling the 2 people who were going or waiting."
    )
    row = stored(bot, lunch.id)
    assert (row.status, row.sequence, row.cancelled_at) == ("cancelled", 1, clock.now)
    assert all(job.done_at is not None for job in jobs(bot, lunch.id).values())
    [cancelled] = statements(bot, CANCEL)
    assert actor(cancelled) == "U0ANN" and about(cancelled, lunch)

    # Those going or waiting are told; Eve (not going) and Dan (file only) get no DM.
    told = dm_texts(slack, dm_count)
    assert sorted(to for to, _ in told) == ["U0BOB", "U0CAT"]
    assert all("was cancelled" in text and date_token(START) in text for _, text in told)

    # Everyone with the file gets the cancelled one, at a higher SEQUENCE.
    new_files = [f for file_id, f in slack.files.items() if file_id not in first_files]
    assert sorted(f["channel"] for f in new_files) == ["D0BOB", "D0DAN"]
    for file in new_files:
        found = ics_properties(file["content"])
        assert found["UID"] == f"{lunch.id}@guildbot"
        assert found["SEQUENCE"] == "1"
        assert (found["METHOD"], found["STATUS"]) == ("CANCEL", "CANCELLED")
        assert "take it off your calendar" in file["comment"]

    # The announcement shows it, with no buttons left.
    shown = announcement(bot, lunch)
    assert "This session was cancelled" in json.dumps(shown["blocks"])
    assert buttons(shown["blocks"]) == []

    # Cancelled is final: a second cancel, RSVPs and check-in are refused.
    _, again = await bot.command("/lunchlearn", f"cancel {lunch.short_id}", "U0ANN")
    assert again["text"] == "“Intro to pytest” was already cancelled."
    await bot.press("lunch_going", lunch.id, "U0FAY")
    assert said(slack) == "This session was cancelled."
    assert "U0FAY" not in statuses(bot, lunch.id)
    assert len(statements(bot, CANCEL)) == 1


async def test_cancelling_a_session_nobody_signed_up_for(bot: BotHarness, slack: FakeSlack) -> None:
    lunch = await schedule(bot)

    _, reply = await bot.command("/lunchlearn", f"cancel  {lunch.short_id} ", "U0ANN")

    assert reply["text"] == "Cancelled “Intro to pytest”; nobody was signed up."
    assert dms(slack) == [] and slack.files == {}


# /lunchlearn list ------------------------------------------------------------------------------


async def test_list_shows_upcoming_sessions_with_your_status_and_their_ids(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    _, nothing = await bot.command("/lunchlearn", "list", "U0BOB")
    assert "No lunch-and-learns coming up" in json.dumps(nothing["blocks"])

    later = await schedule(
        bot, "V0LATER", title="Property testing", start=START + timedelta(days=1)
    )
    soon = await schedule(bot, "V0SOON", title="Intro to pytest", capacity="1")
    dropped = await schedule(
        bot, "V0DROP", title="Mutation testing", start=START + timedelta(days=2)
    )
    full = await schedule(
        bot, "V0FULL", title="Fuzzing", start=START + timedelta(hours=2), capacity="1"
    )
    await bot.press("lunch_going", soon.id, "U0BOB")
    await bot.press("lunch_going", full.id, "U0CAT")
    await bot.press("lunch_going", full.id, "U0BOB")
    await bot.command("/lunchlearn", f"cancel {dropped.short_id}", "U0ANN")

    status, reply = await bot.command("/lunchlearn", "list", "U0BOB")

    assert status == 200 and reply.get("response_type", "ephemeral") == "ephemeral"
    [header, section] = reply["blocks"]
    assert header["text"]["text"] == "Coming up"
    lines = section["text"]["text"].split("\n")
    assert lines == [
        f"`{soon.short_id}` *Intro to pytest*, {date_token(START)}"
        + "{date_long_pretty} at {time}|2026-12-03 12:00 UTC>, <@U0CAT> · you're going",
        f"`{full.short_id}` *Fuzzing*, {date_token(START + timedelta(hours=2))}"
        + "{date_long_pretty} at {time}|2026-12-03 14:00 UTC>, <@U0CAT> · you're on the waitlist",
        f"`{later.short_id}` *Property testing*, {date_token(START + timedelta(days=1))}"
        + "{date_long_pretty} at {time}|2026-12-04 12:00 UTC>, <@U0CAT> · not signed up",
    ]

    # Once a session is over it is no longer listed.
    clock.now = START + timedelta(minutes=45)
    _, reply = await bot.command("/lunchlearn", "list", "U0DAN")
    text = reply["blocks"][1]["text"]["text"]
    assert "Intro to pytest" not in text and "Mutation testing" not in text
    assert "Fuzzing" in text and "Property testing" in text and "not signed up" in text


# The tick: reminders ---------------------------------------------------------------------------


async def test_reminders_go_once_to_those_going_only(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot, capacity="2")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0EVE")
    await bot.press("lunch_going", lunch.id, "U0DAN")  # waitlisted, then promoted
    await bot.press("lunch_going", lunch.id, "U0FAY")  # stays on the waitlist
    await bot.press("lunch_not_going", lunch.id, "U0EVE")
    await bot.press("lunch_calendar", lunch.id, "U0CAT")  # the file only
    assert statuses(bot, lunch.id) == {
        "U0BOB": "going",
        "U0EVE": "not going",
        "U0DAN": "going",
        "U0FAY": "waitlist",
        "U0CAT": "none",
    }
    sent = len(dms(slack))

    clock.now = START - timedelta(hours=24, seconds=1)
    assert await tick(bot) == 0
    assert len(dms(slack)) == sent

    clock.now = START - timedelta(hours=24)
    assert await tick(bot) == 1
    day_before = dm_texts(slack, sent)
    assert sorted(to for to, _ in day_before) == ["U0BOB", "U0DAN"]
    for _, text in day_before:
        assert "“Intro to pytest” starts in 24 hours" in text
        assert date_token(START) in text and "Room 4" in text
    assert jobs(bot, lunch.id)["reminder:1440"].done_at == clock.now
    assert await tick(bot) == 0

    clock.now = START - timedelta(hours=1)
    assert await tick(bot) == 0
    sent = len(dms(slack))

    clock.now = START - timedelta(minutes=15)
    assert await tick(bot) == 2  # the 15-minute reminder and the check-in button
    soon = dm_texts(slack, sent)
    assert sorted(to for to, _ in soon) == ["U0BOB", "U0DAN"]
    assert all("starts in 15 minutes" in text for _, text in soon)
    assert await tick(bot) == 0
    assert len(dms(slack)) == sent + 2


async def test_a_reminder_already_past_when_scheduling_is_never_sent(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    starts = clock.now + timedelta(hours=3)
    lunch = await schedule(bot, start=starts)
    await bot.press("lunch_going", lunch.id, "U0BOB")

    assert "reminder:1440" not in jobs(bot, lunch.id)
    assert jobs(bot, lunch.id)["reminder:15"].due_at == starts - timedelta(minutes=15)
    sent = len(dms(slack))
    assert await tick(bot) == 0

    for at in (timedelta(hours=-2), timedelta(minutes=-15), timedelta(0), timedelta(hours=2)):
        clock.now = starts + at
        await tick(bot)

    reminders = [text for _, text in dm_texts(slack, sent) if ":alarm_clock:" in text]
    assert len(reminders) == 1 and "in 15 minutes" in reminders[0]


async def test_a_session_starting_within_15_minutes_has_check_in_from_the_first_tick(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    starts = clock.now + timedelta(minutes=10)
    lunch = await schedule(bot, start=starts)

    assert set(jobs(bot, lunch.id)) == {"checkin-open", "start", "end", "checkin-close"}
    assert jobs(bot, lunch.id)["checkin-open"].due_at == clock.now
    assert await tick(bot) == 1
    assert buttons(announcement(bot, lunch)["blocks"])[0] == "lunch_checkin"


async def test_a_reminder_missed_while_down_goes_on_the_first_tick_before_the_start_only(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    early = await schedule(bot, "V0EARLY")
    late = await schedule(
        bot, "V0LATE", title="Property testing", start=START + timedelta(hours=12)
    )
    for lunch in (early, late):
        await bot.press("lunch_going", lunch.id, "U0BOB")
    sent = len(dms(slack))

    # Nothing ticked until 10 minutes before the first session's start.
    clock.now = START - timedelta(minutes=10)
    await tick(bot)

    reminded = [text for to, text in dm_texts(slack, sent) if ":alarm_clock:" in text]
    # The early session's last due reminder only (late but still useful, and saying how long
    # is really left), and the late session's day-before one.
    assert sum("Intro to pytest" in text for text in reminded) == 1
    assert any("Intro to pytest” starts in 10 minutes" in text for text in reminded)
    assert sum("Property testing" in text for text in reminded) == 1
    assert await tick(bot) == 0

    # No reminder once the session has started.
    sent = len(dms(slack))
    clock.now = START + timedelta(hours=12, minutes=1)
    await tick(bot)
    assert [t for _, t in dm_texts(slack, sent) if ":alarm_clock:" in t] == []
    assert jobs(bot, late.id)["reminder:15"].done_at == clock.now


async def test_a_late_reminder_does_not_claim_more_time_than_is_left(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    await bot.press("lunch_going", lunch.id, "U0BOB")
    sent = len(dms(slack))

    clock.now = START - timedelta(minutes=10)
    await tick(bot)

    reminded = [text for _, text in dm_texts(slack, sent) if ":alarm_clock:" in text]
    assert reminded
    assert all("in 24 hours" not in text for text in reminded), reminded


# The tick: check-in, the start, feedback -------------------------------------------------------


async def test_check_in_opens_15_minutes_before_and_closes_30_minutes_after(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    await bot.press("lunch_going", lunch.id, "U0BOB")

    clock.now = START - timedelta(minutes=16)
    await tick(bot)
    assert "lunch_checkin" not in buttons(announcement(bot, lunch)["blocks"])
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    assert said(slack) == "Check-in opens 15 minutes before the start. See you then!"
    assert statements(bot, ATTENDED) == []

    clock.now = START - timedelta(minutes=15)
    await tick(bot)
    shown = announcement(bot, lunch)["blocks"]
    assert buttons(shown) == ["lunch_checkin", "lunch_going", "lunch_not_going", "lunch_calendar"]
    assert count_line(bot, lunch) == f"1 going of 2 · id `{lunch.short_id}`"

    await bot.press("lunch_checkin", lunch.id, "U0BOB")

    assert said(slack) == "Checked in to “Intro to pytest”. Enjoy the session!"
    [attended] = statements(bot, ATTENDED)
    assert actor(attended) == "U0BOB" and about(attended, lunch)
    assert rsvps(bot, lunch.id)["U0BOB"].attended_at == clock.now

    # Again: no second statement. Someone who never RSVP'd can check in too.
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    assert said(slack) == "You're already checked in to “Intro to pytest”."
    clock.now = START + timedelta(minutes=75) - timedelta(seconds=1)  # the window's last second
    await bot.press("lunch_checkin", lunch.id, "U0DAN")
    assert said(slack).startswith("Checked in")
    assert statuses(bot, lunch.id)["U0DAN"] == "none"
    assert rsvps(bot, lunch.id)["U0DAN"].attended_at == clock.now

    # Past end + 30 minutes: refused, and the tick takes the button away.
    clock.now = START + timedelta(minutes=75, seconds=1)
    await bot.press("lunch_checkin", lunch.id, "U0EVE")
    assert said(slack) == "Check-in for this session has closed."
    await tick(bot)
    assert "lunch_checkin" not in buttons(announcement(bot, lunch)["blocks"])
    assert buttons(announcement(bot, lunch)["blocks"]) == [
        "lunch_going",
        "lunch_not_going",
        "lunch_calendar",
    ]
    assert "U0EVE" not in rsvps(bot, lunch.id)


async def test_the_check_in_button_goes_when_the_close_job_runs_on_time(
    bot: BotHarness, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    clock.now = START - timedelta(minutes=15)
    await tick(bot)
    clock.now = START + timedelta(minutes=45)
    await tick(bot)

    clock.now = START + timedelta(minutes=75)  # the checkin-close job's due time
    assert await tick(bot) == 1
    assert jobs(bot, lunch.id)["checkin-close"].done_at == clock.now

    clock.now += timedelta(minutes=1)
    await tick(bot)
    assert "lunch_checkin" not in buttons(announcement(bot, lunch)["blocks"])


async def test_the_start_records_the_presenter_and_counts_for_expert(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot, tags="#python #pizza")
    _, before = await bot.command("/expert", "python", "U0ANN")
    assert "U0CAT" not in expert_places(before)

    clock.now = START - timedelta(seconds=1)
    await tick(bot)
    assert statements(bot, PRESENT) == []

    clock.now = START
    await tick(bot)

    [present] = statements(bot, PRESENT)
    assert actor(present) == "U0CAT" and about(present, lunch)
    assert skill_ids(present) == ["python"]
    assert stored(bot, lunch.id).presented_at == START
    _, reply = await bot.command("/expert", "python", "U0ANN")
    assert expert_places(reply)["U0CAT"] == "not declared · presented 1 session on #python"

    # Later ticks don't present it again; no code DM without codes.
    clock.now = START + timedelta(days=1)
    await tick(bot)
    assert len(statements(bot, PRESENT)) == 1
    assert [to for to, _ in dms(slack)] == []


async def test_after_the_end_attendees_are_asked_for_feedback_and_ratings_are_recorded(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0DAN")  # going, but never checks in
    clock.now = START - timedelta(minutes=15)
    await tick(bot)
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    clock.now = START + timedelta(minutes=5)
    await tick(bot)
    await bot.press("lunch_checkin", lunch.id, "U0EVE")  # no RSVP, but came
    sent = len(dms(slack))

    clock.now = START + timedelta(minutes=44)
    assert await tick(bot) == 0
    clock.now = START + timedelta(minutes=45)
    assert await tick(bot) == 1

    asked = dms(slack)[sent:]
    assert sorted(to for to, _ in asked) == ["U0BOB", "U0EVE"]
    for _, call in asked:
        assert "How useful was “Intro to pytest”" in call["text"]
        rate_buttons = [e for b in call["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [e["action_id"] for e in rate_buttons] == [f"lunch_rate_{n}" for n in range(1, 6)]
        assert [e["value"] for e in rate_buttons] == [f"{lunch.id}|{n}" for n in range(1, 6)]
    assert await tick(bot) == 0

    # Bob presses 4: a modal opens with 4 chosen; he sends it.
    await bot.press("lunch_rate_4", f"{lunch.id}|4", "U0BOB")
    view = bot.opened_views()[-1]
    assert view["callback_id"] == "lunch_rate" and view["private_metadata"] == lunch.id
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "4"

    status, ack = await bot.submit(view, rating_values(4, "Great examples"), "U0BOB")

    assert status == 200 and ack["response_action"] == "update"
    assert "Thanks for your feedback" in json.dumps(ack["view"])
    [rated] = statements(bot, RATED)
    assert actor(rated) == "U0BOB" and about(rated, lunch)
    assert rated["result"]["score"] == {"raw": 4, "min": 1, "max": 5, "scaled": 0.75}
    assert "response" not in rated["result"]  # no typed text without XAPI_INCLUDE_TEXT
    row = rsvps(bot, lunch.id)["U0BOB"]
    assert (row.rating, row.comment) == (4, "Great examples")

    # Changing one's mind replaces the rating the LRS holds: the first is voided.
    await bot.submit(view, rating_values(2), "U0BOB", view_id="V0AGAIN")
    assert rsvps(bot, lunch.id)["U0BOB"].rating == 2
    first, second = statements(bot, RATED)
    assert second["result"]["score"]["raw"] == 2 and actor(second) == "U0BOB"
    [void] = statements(bot, "http://adlnet.gov/expapi/verbs/voided")
    assert void["object"] == {"objectType": "StatementRef", "id": first["id"]}
    # Sending the same again changes nothing.
    await bot.submit(view, rating_values(2), "U0BOB", view_id="V0SAME")
    assert len(statements(bot, RATED)) == 2

    # Dan went but didn't check in; Fay was never there: neither can rate.
    for person in ("U0DAN", "U0FAY"):
        _, refused = await bot.submit(view, rating_values(5), person, view_id=f"V0{person}")
        assert refused["response_action"] == "errors"
        assert refused["errors"] == {"rating": "Only people who checked in can rate a session."}
    assert len(statements(bot, RATED)) == 2


async def test_with_codes_the_presenter_gets_the_code_and_check_in_asks_for_it(
    code_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    bot = code_bot
    lunch = await schedule(bot)
    # Six characters people can read aloud: no 0/O, no 1/I.
    assert lunch.checkin_code is not None and CHECKIN_CODE.fullmatch(lunch.checkin_code)
    await bot.press("lunch_going", lunch.id, "U0BOB")

    clock.now = START - timedelta(minutes=15)
    await tick(bot)
    assert non_reminders(slack) == []  # the code comes at the start, not before

    responses = len(slack.responses)
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    view = bot.opened_views()[-1]
    assert view["callback_id"] == "lunch_checkin_code" and view["private_metadata"] == lunch.id
    assert len(slack.responses) == responses  # the modal asks; no ephemeral answer

    clock.now = START
    await tick(bot)
    [(to, text)] = non_reminders(slack)
    assert to == "U0CAT" and f"*{lunch.checkin_code}*" in text

    status, ack = await bot.submit(view, code_values(wrong_code()), "U0BOB")
    assert status == 200 and ack["response_action"] == "errors"
    assert list(ack["errors"]) == ["code"] and "isn't the session's code" in ack["errors"]["code"]
    assert statements(bot, ATTENDED) == []

    # Read aloud and typed in lower case, with a space: still the code.
    typed = f" {lunch.checkin_code[:3].lower()} {lunch.checkin_code[3:]} "
    _, ack = await bot.submit(view, code_values(typed), "U0BOB")
    assert ack["response_action"] == "update"
    assert "Checked in to “Intro to pytest”" in json.dumps(ack["view"], ensure_ascii=False)
    [attended] = statements(bot, ATTENDED)
    assert actor(attended) == "U0BOB" and about(attended, lunch)


def wrong_code(n: int = 0) -> str:
    """Six letters that are never a session's code: codes have no O."""
    return f"WRONG{'ABCDEFGH'[n]}"


async def open_code_form(bot: BotHarness, lunch: LunchSession, user: str) -> dict[str, Any]:
    await bot.press("lunch_checkin", lunch.id, user)
    view = bot.opened_views()[-1]
    assert view["callback_id"] == "lunch_checkin_code"
    return view


async def test_after_five_wrong_codes_a_person_is_told_to_ask_the_presenter(
    code_bot: BotHarness, clock: SettableClock
) -> None:
    bot = code_bot
    lunch = await schedule(bot)
    clock.now = START
    view = await open_code_form(bot, lunch, "U0BOB")

    told = []
    for n in range(5):
        _, ack = await bot.submit(view, code_values(wrong_code(n)), "U0BOB")
        assert ack["response_action"] == "errors"
        told.append(ack["errors"]["code"])

    assert all("isn't the session's code" in text for text in told[:4])
    assert "4 tries left" in told[0] and "1 try left" in told[3]
    assert "ask the presenter" in told[4] and len(told[4]) <= 150
    # Even the right code is refused now, on this form or a new one, with the same advice.
    for form in (view, await open_code_form(bot, lunch, "U0BOB")):
        _, ack = await bot.submit(form, code_values(lunch.checkin_code or ""), "U0BOB")
        assert ack["response_action"] == "errors"
        assert "ask the presenter" in ack["errors"]["code"]
    assert statements(bot, ATTENDED) == []
    assert rsvps(bot, lunch.id)["U0BOB"].attended_at is None

    # The limit is per person: Dan's tries are his own.
    _, ack = await bot.submit(view, code_values(lunch.checkin_code or ""), "U0DAN")
    assert ack["response_action"] == "update"
    assert [actor(s) for s in statements(bot, ATTENDED)] == ["U0DAN"]


async def test_the_code_limit_is_per_session(code_bot: BotHarness, clock: SettableClock) -> None:
    bot = code_bot
    first = await schedule(bot, view_id="V0FIRST")
    second = await schedule(bot, view_id="V0SECOND")
    clock.now = START
    view = await open_code_form(bot, first, "U0BOB")
    for n in range(5):
        await bot.submit(view, code_values(wrong_code(n)), "U0BOB")

    other = await open_code_form(bot, second, "U0BOB")
    _, ack = await bot.submit(other, code_values(second.checkin_code or ""), "U0BOB")

    assert ack["response_action"] == "update"
    [attended] = statements(bot, ATTENDED)
    assert actor(attended) == "U0BOB" and about(attended, second)


async def test_with_codes_check_in_is_still_refused_outside_the_window(
    code_bot: BotHarness, clock: SettableClock
) -> None:
    lunch = await schedule(code_bot)
    assert lunch.checkin_code
    clock.now = START - timedelta(hours=1)
    await code_bot.press("lunch_checkin", lunch.id, "U0BOB")
    view = code_bot.opened_views()[-1]

    _, ack = await code_bot.submit(view, code_values(lunch.checkin_code), "U0BOB")

    assert ack["response_action"] == "errors"
    assert ack["errors"]["code"].startswith("Check-in opens 15 minutes before the start.")
    assert statements(code_bot, ATTENDED) == []


# Statements of several people ------------------------------------------------------------------


async def test_each_attendee_gets_an_attended_statement(
    bot: BotHarness, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    clock.now = START
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    clock.now = START + timedelta(minutes=3)
    await bot.press("lunch_checkin", lunch.id, "U0DAN")

    assert all(r.attended_at for r in rsvps(bot, lunch.id).values())
    assert sorted(actor(s) for s in statements(bot, ATTENDED)) == ["U0BOB", "U0DAN"]


async def test_each_rating_gets_a_rated_statement(bot: BotHarness, clock: SettableClock) -> None:
    lunch = await schedule(bot)
    clock.now = START
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    await bot.press("lunch_checkin", lunch.id, "U0DAN")
    clock.now = START + timedelta(minutes=50)
    await bot.press("lunch_rate_5", f"{lunch.id}|5", "U0BOB")
    view = bot.opened_views()[-1]
    await bot.submit(view, rating_values(5), "U0BOB", view_id="V0BOB")
    clock.now += timedelta(minutes=2)
    await bot.submit(view, rating_values(3), "U0DAN", view_id="V0DAN")

    assert {u: r.rating for u, r in rsvps(bot, lunch.id).items()} == {"U0BOB": 5, "U0DAN": 3}
    rated = {actor(s): s["result"]["score"]["raw"] for s in statements(bot, RATED)}
    assert rated == {"U0BOB": 5, "U0DAN": 3}


async def test_two_people_registering_at_the_same_instant_get_a_statement_each(
    bot: BotHarness,
) -> None:
    lunch = await schedule(bot)
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0DAN")

    rows = rsvps(bot, lunch.id)
    assert rows["U0BOB"].registered_statement_id != rows["U0DAN"].registered_statement_id
    assert sorted(actor(s) for s in statements(bot, REGISTERED)) == ["U0BOB", "U0DAN"]


async def test_pressing_going_after_checking_in_keeps_the_check_in(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    clock.now = START - timedelta(minutes=10)
    await bot.press("lunch_checkin", lunch.id, "U0BOB")
    assert rsvps(bot, lunch.id)["U0BOB"].attended_at == clock.now

    await bot.press("lunch_going", lunch.id, "U0BOB")

    assert rsvps(bot, lunch.id)["U0BOB"].attended_at == START - timedelta(minutes=10)
    sent = len(dms(slack))
    clock.now = START + timedelta(minutes=45)
    await tick(bot)
    assert [to for to, _ in dms(slack)[sent:]] == ["U0BOB"]  # asked for feedback


async def test_a_failure_while_answering_a_press_apologises_once(
    bot: BotHarness, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    lunch = await schedule(bot)
    slack.fail_next("users.info")

    await bot.press("lunch_going", lunch.id, "U0EVE")

    failed = [r.getMessage() for r in caplog.records if r.exc_info]
    apologies = [r["text"] for r in slack.responses if "something went wrong" in r["text"]]
    caplog.clear()  # the failure is this test's subject
    assert statuses(bot, lunch.id) == {}
    assert len(apologies) == 1, apologies
    assert len(failed) == 1 and "rsvp failed" in failed[0], failed


# Slack failing: what was acknowledged is owed, and done once when Slack is back ---------------


async def test_an_announcement_slack_failed_is_posted_once_when_slack_is_back(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    slack.fail_next("chat.postMessage", status=500, times=2)  # the client retries a 500 once

    lunch = await schedule(bot)

    assert lunch.message_ts is None
    assert delivered_dms(slack) == []  # a passing fault: the organiser is not told it failed

    clock.now += timedelta(minutes=1)
    await tick_all(bot)
    await tick_all(bot)

    posted = [message for (channel, _), message in slack.messages.items() if channel == LUNCH]
    assert len(posted) == 1
    assert stored(bot, lunch.id).message_ts == posted[0]["ts"]
    assert context_texts(announcement(bot, lunch)["blocks"]) == [
        f"0 going of 2 · id `{lunch.short_id}`"
    ]


async def test_a_reminder_slack_failed_is_sent_once_by_a_later_tick(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    await bot.press("lunch_going", lunch.id, "U0BOB")
    clock.now = START - timedelta(hours=24)
    slack.fail_next("chat.postMessage", status=500, times=2)

    await tick_all(bot)

    assert delivered_dms(slack) == []
    clock.now += timedelta(minutes=1)
    await tick_all(bot)
    await tick_all(bot)
    [(to, text)] = delivered_dms(slack)
    assert to == "D0BOB" and "“Intro to pytest” starts in 24 hours" in text


async def test_every_effect_of_a_session_is_done_once_however_often_people_click(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot, capacity="1")
    for _ in range(2):
        await bot.press("lunch_going", lunch.id, "U0BOB")
    for _ in range(2):
        await bot.press("lunch_going", lunch.id, "U0CAT")  # waitlisted
    for _ in range(2):
        await bot.press("lunch_calendar", lunch.id, "U0DAN")
    for _ in range(2):
        await bot.press("lunch_not_going", lunch.id, "U0BOB")  # Cat moves up
    for _ in range(2):
        await bot.command("/lunchlearn", f"cancel {lunch.short_id}", "U0ANN")
    clock.now += timedelta(minutes=1)
    await tick_all(bot)

    posted = [message for (channel, _), message in slack.messages.items() if channel == LUNCH]
    assert len(posted) == 1
    # One redraw per change: Bob going, Cat waitlisted, Bob leaving, the cancellation.
    assert len(slack.calls_to("chat.update")) == 4
    assert "This session was cancelled" in json.dumps(announcement(bot, lunch)["blocks"])
    told = [(to, text.split(" ")[0]) for to, text in delivered_dms(slack)]
    assert sorted(told) == [("D0ANN", "<@U0BOB>"), ("D0CAT", "Good"), ("D0CAT", "“Intro")]
    files = sorted((f["channel"], ics_properties(f["content"])["SEQUENCE"]) for f in uploads(slack))
    assert files == [("D0DAN", "0"), ("D0DAN", "1")]
    assert {e.status for e in owed(bot)} == {"done"}


async def test_a_redraw_owed_twice_while_slack_fails_is_done_once_with_the_latest_state(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    slack.fail_next("chat.update", times=2)

    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0DAN")

    assert len(slack.calls_to("chat.update")) == 2  # both failed
    [redraw] = owed(bot, "lunch.redraw")  # one owed redraw for the session, not one per click
    assert redraw.status == "pending"

    clock.now += timedelta(minutes=1)
    await tick_all(bot)
    await tick_all(bot)

    assert len(slack.calls_to("chat.update")) == 3
    assert count_line(bot, lunch) == f"2 going of 2 · id `{lunch.short_id}`"
    assert [e.status for e in owed(bot, "lunch.redraw")] == ["done"]


async def test_a_change_while_the_announcement_is_being_redrawn_is_shown_after_that_redraw(
    bot: BotHarness, slack: FakeSlack
) -> None:
    lunch = await schedule(bot)
    slack.delay_s["chat.update"] = 0.5
    bob = asyncio.create_task(bot.press("lunch_going", lunch.id, "U0BOB"))
    await eventually(lambda: slack.calls_to("chat.update"), what="Bob's redraw to start")

    # Dan presses while Bob's redraw is on its way to Slack: that redraw shows 1 going, and
    # a second one at the same time could land first and leave it on show.
    await bot.press("lunch_going", lunch.id, "U0DAN")
    await bob

    first, _ = slack.calls_to("chat.update")
    assert f"1 going of 2 · id `{lunch.short_id}`" in context_texts(first["blocks"])
    assert count_line(bot, lunch) == f"2 going of 2 · id `{lunch.short_id}`"
    assert [e.status for e in owed(bot, "lunch.redraw")] == ["done"]


async def test_a_calendar_file_slack_failed_arrives_once_when_slack_is_back(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    slack.fail_next("files.getUploadURLExternal")

    await bot.press("lunch_calendar", lunch.id, "U0DAN")

    assert "calendar file in a DM" in said(slack)
    assert uploads(slack) == []
    clock.now += timedelta(minutes=1)
    await tick_all(bot)
    await tick_all(bot)
    [file] = uploads(slack)
    assert file["channel"] == "D0DAN"
    assert ics_properties(file["content"])["UID"] == f"{lunch.id}@guildbot"


async def test_cancellation_dms_reach_everyone_once_when_one_failed(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot, capacity=None)
    for person in ("U0BOB", "U0CAT", "U0DAN"):
        await bot.press("lunch_going", lunch.id, person)
    slack.fail_next("chat.postMessage")  # the first DM

    await bot.command("/lunchlearn", f"cancel {lunch.short_id}", "U0ANN")

    assert len(delivered_dms(slack)) == 2
    clock.now += timedelta(minutes=1)
    await tick_all(bot)
    await tick_all(bot)
    told = sorted(to for to, text in delivered_dms(slack) if "was cancelled" in text)
    assert told == ["D0BOB", "D0CAT", "D0DAN"]


async def test_a_place_given_up_again_before_the_dm_went_is_not_announced_to_them(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot, capacity="1")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0CAT")
    slack.fail_next("conversations.open")  # Cat's “it's yours” DM fails

    await bot.press("lunch_not_going", lunch.id, "U0BOB")
    await bot.press("lunch_not_going", lunch.id, "U0CAT")  # before the DM is retried
    clock.now += timedelta(minutes=1)
    await tick_all(bot)

    assert [to for to, text in delivered_dms(slack) if "a place freed up" in text] == []
    assert {e.status for e in owed(bot, "lunch.promoted")} == {"done"}


async def test_a_reminder_slack_failed_until_the_start_is_dropped_not_sent_late(
    bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    lunch = await schedule(bot)
    await bot.press("lunch_going", lunch.id, "U0BOB")
    clock.now = START - timedelta(minutes=15)
    slack.fail_next("chat.postMessage", times=20)
    await tick_all(bot)
    slack.failures.clear()

    clock.now = START + timedelta(minutes=1)
    await tick_all(bot)

    assert [text for _, text in delivered_dms(slack) if ":alarm_clock:" in text] == []
    [reminder] = owed(bot, "lunch.reminder")
    assert (reminder.status, reminder.last_error) == ("dropped", "its moment passed")
    assert jobs(bot, lunch.id)["reminder:15"].done_at is not None
