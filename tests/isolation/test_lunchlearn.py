"""Lunch-and-learns are each workspace's own: listed, cancelled and signed up for there only,
and only a session's own workspace's attendees are reminded of it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.domain.lunchlearn import REMINDER
from storage.models import LunchSession, Rsvp, SlackEffect
from tests.isolation.conftest import Side
from tests.support.clock import SettableClock
from tests.support.lunch import schedule_values

pytestmark = pytest.mark.usefixtures("no_listener_failures")


async def schedule(side: Side, title: str, view_id: str) -> LunchSession:
    """Ann, the L&D admin, schedules a session the day after tomorrow through the form."""
    before = len(side.slack.calls_to("views.open"))
    await side.command("/lunchlearn", "", "U0ANN")
    [view] = [c["view"] for c in side.slack.calls_to("views.open")[before:]]
    start = side.bot.clock() + timedelta(days=2)
    values = schedule_values(start, title=title, presenter="U0CAT", capacity=None)
    ack = await side.submit(view, values, "U0ANN", view_id)
    assert "response_action" not in ack, ack
    with side.bot.database.reading() as db:
        query = select(LunchSession).where(
            LunchSession.team_id == side.team_id, LunchSession.title == title
        )
        return db.exec(query).one()


def rsvps(side: Side, lunch: LunchSession) -> dict[str, str]:
    with side.bot.database.reading() as db:
        rows = db.exec(select(Rsvp).where(Rsvp.session_id == lunch.id))
        return {r.user_id: r.status for r in rows}


def owed_reminders(side: Side) -> list[tuple[str, str, str]]:
    """(workspace, session, person) of every reminder DM owed so far."""
    with side.bot.database.reading() as db:
        rows = db.exec(select(SlackEffect).where(SlackEffect.kind == REMINDER))
        payloads = [(r.team_id, json.loads(r.payload)) for r in rows]
    return sorted((team, p["session"], p["user"]) for team, p in payloads)


def said(side: Side, since: int) -> str:
    return json.dumps(side.slack.responses[since:])


async def test_the_list_shows_only_the_workspaces_own_sessions(a: Side, b: Side) -> None:
    await schedule(b, "Zookeeper in production", "V0B")
    await schedule(a, "Intro to pytest", "V0A")

    in_a = json.dumps(await a.command("/lunchlearn", "list", "U0BOB"))

    assert "Intro to pytest" in in_a and "Zookeeper" not in in_a


async def test_another_workspaces_session_cannot_be_cancelled_by_its_id(a: Side, b: Side) -> None:
    theirs = await schedule(b, "Zookeeper in production", "V0B")

    reply = json.dumps(await a.command("/lunchlearn", f"cancel {theirs.short_id}", "U0ANN"))

    assert "I don't know a session" in reply
    with b.bot.database.reading() as db:
        assert db.get(LunchSession, theirs.id).status == "scheduled"


@pytest.mark.parametrize("action", ["lunch_going", "lunch_calendar", "lunch_not_going"])
async def test_a_button_carrying_another_workspaces_session_changes_nothing(
    a: Side, b: Side, action: str
) -> None:
    theirs = await schedule(b, "Zookeeper in production", "V0B")
    await b.press("lunch_going", theirs.id, "U0ZED")
    since = len(a.slack.responses)

    await a.press(action, theirs.id, "U0BOB")

    assert rsvps(b, theirs) == {"U0ZED": "going"}
    assert "Zookeeper" not in said(a, since)
    assert "isn't one of this workspace's" in said(a, since)
    assert owed_dm_to(b, "U0BOB") == []


async def test_nobody_checks_in_to_another_workspaces_session(
    a: Side, b: Side, clock: SettableClock
) -> None:
    theirs = await schedule(b, "Zookeeper in production", "V0B")
    clock.now = theirs.starts_at - timedelta(minutes=5)
    since = len(a.slack.responses)

    await a.press("lunch_checkin", theirs.id, "U0BOB")

    assert rsvps(b, theirs) == {}
    assert "isn't one of this workspace's" in said(a, since)
    await b.press("lunch_checkin", theirs.id, "U0ZED")
    assert list(rsvps(b, theirs)) == ["U0ZED"]


def owed_dm_to(side: Side, user: str) -> list[Any]:
    with side.bot.database.reading() as db:
        rows = db.exec(select(SlackEffect))
        return [r.key for r in rows if json.loads(r.payload).get("user") == user]


async def test_reminders_go_only_to_the_sessions_own_workspaces_attendees(
    a: Side, b: Side, clock: SettableClock
) -> None:
    ours = await schedule(a, "Intro to pytest", "V0A")
    theirs = await schedule(b, "Intro to pytest", "V0B")
    await a.press("lunch_going", ours.id, "U0BOB")
    await b.press("lunch_going", theirs.id, "U0ZED")
    await b.press("lunch_going", theirs.id, "U0ANN")

    clock.now = ours.starts_at - timedelta(hours=24)
    lunchlearn = a.bot.services.lunchlearn
    ours_done = await a.bot.services.run(lunchlearn.due_jobs, a.team_id)
    assert ours_done.count == 1
    assert owed_reminders(a) == [(a.team_id, ours.id, "U0BOB")], "the tick claims per workspace"
    theirs_done = await a.bot.services.run(lunchlearn.due_jobs, b.team_id)

    assert theirs_done.count == 1
    assert owed_reminders(a) == sorted(
        [
            (a.team_id, ours.id, "U0BOB"),
            (b.team_id, theirs.id, "U0ANN"),
            (b.team_id, theirs.id, "U0ZED"),
        ]
    )


async def test_no_rating_form_opens_for_another_workspaces_session(a: Side, b: Side) -> None:
    theirs = await schedule(b, "Zookeeper in production", "V0B")
    opened = len(a.slack.calls_to("views.open"))

    await a.press("lunch_rate_4", f"{theirs.id}|4", "U0BOB")

    assert a.slack.calls_to("views.open")[opened:] == []
    await b.press("lunch_rate_4", f"{theirs.id}|4", "U0ZED")
    assert len(b.slack.calls_to("views.open")) == opened + 1
