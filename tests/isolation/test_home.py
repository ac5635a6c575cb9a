"""App Home shows a person their own workspace's record only: another workspace's skills,
kudos, questions, sessions and routing pause of the same person id stay out of it, and an
L&D admin sees (and retries) only their own workspace's undelivered statements and posts."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from storage.models import OutboxStatement
from storage.repositories import outbox as outbox_repo
from tests.isolation.conftest import Side
from tests.isolation.test_search import answered_and_accepted
from tests.support.clock import SettableClock
from tests.support.lunch import schedule_values

pytestmark = pytest.mark.usefixtures("no_listener_failures")

_EVENTS = itertools.count(1)


async def open_home(side: Side, user: str) -> dict[str, Any]:
    before = len(side.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    await side.event(event, f"Ev0HOME{next(_EVENTS):04d}")
    [call] = side.slack.calls_to("views.publish")[before:]
    assert call["user_id"] == user
    return call["view"] if isinstance(call["view"], dict) else json.loads(call["view"])


def section(view: dict[str, Any], heading: str) -> str:
    [found] = [
        b["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith(f"*{heading}*")
    ]
    return found


def buttons(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def schedule(side: Side, title: str, clock: SettableClock, view_id: str) -> None:
    """Ann, the L&D admin, schedules a session tomorrow through the form."""
    before = len(side.slack.calls_to("views.open"))
    await side.command("/lunchlearn", "", "U0ANN")
    [view] = [c["view"] for c in side.slack.calls_to("views.open")[before:]]
    start = clock.now + timedelta(days=1)
    values = schedule_values(start, title=title, presenter="U0CAT", capacity=None)
    ack = await side.submit(view, values, "U0ANN", view_id)
    assert "response_action" not in ack, ack


async def test_a_persons_home_holds_only_their_own_workspaces_record(
    a: Side, b: Side, clock: SettableClock
) -> None:
    # Everything Ann does and gets in B…
    await b.command("/skills", "add rust:expert", "U0ANN")
    await b.command("/kudos", "<@U0ANN> for the borrow checker clinic", "U0ZED")
    await b.command("/kudos", "<@U0ANN> for the lifetimes cheat sheet", "U0YAN")
    await b.command("/kudos", "<@U0ZED> for the release notes", "U0ANN")
    await b.command("/ask", "Where is the zookeeper runbook kept?", "U0ANN")
    await b.command("/skills", "add python:expert", "U0ANN")
    await b.command("/ask", "Which python wheels does zookeeper need? #python", "U0ZED")
    await schedule(b, "Zookeeper in production", clock, "V0FORMB")
    # …and one kudos received in A.
    await a.command("/kudos", "<@U0ANN> for the onboarding guide", "U0BOB")

    view = await open_home(a, "U0ANN")
    seen = json.dumps(view)

    assert "rust" not in seen and "wheels" not in seen
    assert "zookeeper" not in seen.lower()
    kudos = section(view, "Kudos this month").split("\n")[1]
    assert kudos.startswith("1 received · 0 given · 50 of 50 left")
    assert section(view, "Your open questions").split("\n")[1] == "None."
    assert section(view, "Your open questions").endswith("Nothing right now.")
    assert "wheels" in json.dumps(await open_home(b, "U0ANN"))
    assert "None scheduled." in section(view, "Lunch-and-learns coming up")


async def test_pausing_routed_questions_in_one_workspace_leaves_the_other(a: Side, b: Side) -> None:
    view_in_b = await open_home(b, "U0BOB")
    action = {"type": "button", "action_id": "home_pause_routing", "block_id": "home"}
    await b.view_action(view_in_b, action, {}, "U0BOB")

    assert "paused until" in json.dumps(await open_home(b, "U0BOB"))
    view_in_a = await open_home(a, "U0BOB")
    assert "paused until" not in json.dumps(view_in_a)
    assert "home_pause_routing" in buttons(view_in_a)


async def test_an_admin_sees_and_retries_only_their_own_workspaces_failures(
    a: Side, b: Side, clock: SettableClock
) -> None:
    # In B, a recognition Slack refused for good, and a statement the LRS refused.
    b.slack.fail_next("chat.postMessage", body={"ok": False, "error": "msg_too_long"})
    await b.command("/kudos", "<@U0YAN> for the thorough review", "U0ZED")
    bot = b.bot
    with bot.database.transaction() as session:
        query = select(OutboxStatement).where(OutboxStatement.team_id == b.team_id)
        letter = session.exec(query).first()
        assert letter is not None
        outbox_repo.mark_dead(session, letter.statement_id, "LRS said 400: zed@b.example")
    assert bot.services.effects.counts().dead == 1

    view = await open_home(a, "U0ANN")
    outbox = section(view, "xAPI outbox")
    owed = section(view, "Slack posts and messages owed")

    assert "0 dead-lettered" in outbox and "zed@b.example" not in json.dumps(view)
    assert owed.endswith("0 that Slack refused")
    assert "home_retry_dead" not in buttons(view)
    assert "home_retry_effects" not in buttons(view)

    # A forged press of A's retry buttons leaves B's failures dead.
    for retry in ("home_retry_dead", "home_retry_effects"):
        action = {"type": "button", "action_id": retry, "block_id": "home"}
        await a.view_action(view, action, {}, "U0ANN")
    assert bot.services.effects.counts().dead == 1
    with bot.database.reading() as session:
        assert outbox_repo.counts(session).dead == 1

    in_b = await open_home(b, "U0ANN")
    assert "1 dead-lettered" in section(in_b, "xAPI outbox")
    assert section(in_b, "Slack posts and messages owed").endswith("1 that Slack refused")


async def test_learn_from_suggests_only_people_of_the_persons_own_workspace(
    a: Side, b: Side
) -> None:
    # In B, Zed is a python expert who answered Ann's question; in both, Ann is learning it.
    await b.command("/skills", "add python:expert", "U0ZED")
    await b.command("/skills", "add python:learning", "U0ANN")
    await answered_and_accepted(
        b, "U0ANN", "U0ZED", "How do I pin a python dependency? #python", "With a lock file."
    )
    await a.command("/skills", "add python:learning", "U0ANN")

    assert "U0ZED" in json.dumps(await open_home(b, "U0ANN"))
    assert "U0ZED" not in json.dumps(await open_home(a, "U0ANN"))


async def test_guild_me_and_export_hold_only_the_workspaces_own_record(a: Side, b: Side) -> None:
    await b.command("/skills", "add rust:expert", "U0ANN")
    await b.command("/kudos", "<@U0ZED> for the release notes", "U0ANN")
    await a.command("/kudos", "<@U0BOB> for the onboarding guide", "U0ANN")

    me = await a.command("/guild", "me", "U0ANN")
    await a.command("/guild", "export", "U0ANN")

    assert "rust" not in me["text"]
    [upload] = a.slack.files.values()
    exported = json.loads(upload["content"])
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in exported] == ["give"]
    assert b"U0ZED" not in upload["content"] and b"rust" not in upload["content"]
