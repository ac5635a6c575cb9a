"""What Q&A owes Slack is owed with the state, done once, and done later when Slack fails: the
question's post and its routed DMs, answers, ✅ acceptances and their thanks, and the routed
DMs brought up to date once the question is answered (or reopens). Signed requests into the
real app, with Slack faked; the tick is run by hand on a settable clock."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from storage.models import SlackEffect
from tests.handlers.test_home import open_home
from tests.handlers.test_questions import (
    ACCEPT,
    ANSWERED,
    QA,
    answers,
    check,
    message_event,
    questions,
    reply,
    statements,
    thread_replies,
)
from tests.handlers.test_routing import DECLINE, PAUSE, buttons, declare, dms
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack

FAILS = {"ok": False, "error": "fatal_error"}


@pytest.fixture
async def qa_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """A bot with a Q&A channel on the settable clock, and #python people: Bob, Cat and Dan
    (experts, asked first), then Eve."""
    for user, name in (("U0DAN", "Dan"), ("U0EVE", "Eve")):
        slack.add_user(user, name)
    harness = await BotHarness(settings_for(tmp_path, slack, QA_CHANNEL=QA), slack, clock).start()
    for user in ("U0BOB", "U0CAT", "U0DAN"):
        await declare(harness, user, "python:expert")
    await declare(harness, "U0EVE", "python:practitioner")
    slack.calls.clear()
    yield harness
    await harness.close()


def owed(bot: BotHarness, kind: str) -> list[SlackEffect]:
    with bot.database.reading() as session:
        rows = session.exec(select(SlackEffect).where(SlackEffect.kind == kind))
        return list(rows)


async def next_tick(bot: BotHarness, clock: SettableClock) -> int:
    """The database tick once the retries are due; returns how many effects it tried."""
    clock.now += timedelta(minutes=11)
    return await bot.effects.perform_due(bot.slack_client, bot.team_id)


def posted_questions(bot: BotHarness) -> list[tuple[str, dict[str, Any]]]:
    """(ts, message) of each question in the Q&A channel, as Slack holds them."""
    return [
        (ts, message)
        for (channel, ts), message in bot.slack.messages.items()
        if channel == QA and message.get("bot_id") and not message.get("thread_ts")
    ]


def routed_to(slack: FakeSlack) -> list[str]:
    return sorted(user for user, call in dms(slack) if DECLINE in buttons(call))


def dm_now(slack: FakeSlack, user: str) -> dict[str, Any]:
    """The routed DM in the person's conversation with the bot, as it reads now."""
    [message] = [m for (channel, _), m in slack.messages.items() if channel == "D" + user[1:]]
    return message


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("guildbot") and r.levelno >= logging.ERROR
    ]


# Publishing a question ---------------------------------------------------------------------------


async def test_a_question_slack_failed_to_post_is_posted_with_its_dms_once_by_the_tick(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    slack.fail_next("chat.postMessage", body=FAILS)

    status, ack = await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")

    # Acknowledged and stored; the post is owed, not lost.
    assert status == 200 and ack["text"] == f"Posting your question in <#{QA}>…"
    [question] = questions(qa_bot)
    assert question.ts is None
    assert dms(slack) == [] and slack.responses == []
    [publish] = owed(qa_bot, "questions.publish")
    assert publish.status == "pending" and publish.last_error == "Slack said fatal_error"

    assert await next_tick(qa_bot, clock) >= 1

    [(ts, _)] = posted_questions(qa_bot)
    assert questions(qa_bot)[0].ts == ts
    assert routed_to(slack) == ["U0BOB", "U0CAT", "U0DAN"]
    [told] = slack.responses
    assert "I posted" in told["text"]
    # Nothing is done twice: the next ticks find nothing owed.
    assert await next_tick(qa_bot, clock) == 0
    assert len(posted_questions(qa_bot)) == 1 and len(dms(slack)) == 3
    assert {e.status for e in owed(qa_bot, "questions.routed_dm")} == {"done"}


async def test_a_post_whose_result_was_lost_is_found_and_not_posted_again(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    # Slack posts the question, then fails before its result is recorded.
    slack.fail_next("chat.getPermalink", body=FAILS)

    await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")

    [(ts, _)] = posted_questions(qa_bot)
    assert questions(qa_bot)[0].ts is None and dms(slack) == []

    await next_tick(qa_bot, clock)

    # The retry looked for the post by its key and found it.
    assert [t for t, _ in posted_questions(qa_bot)] == [ts]
    assert questions(qa_bot)[0].ts == ts
    assert slack.calls_to("conversations.history")[0]["channel"] == QA
    assert routed_to(slack) == ["U0BOB", "U0CAT", "U0DAN"]


async def test_a_routed_dm_slack_failed_is_sent_once_by_the_tick(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    # The question posts; the first DM fails (Slack won't open the conversation).
    slack.fail_next("conversations.open", body=FAILS)

    await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")

    assert len(routed_to(slack)) == 2
    [pending] = [e for e in owed(qa_bot, "questions.routed_dm") if e.status == "pending"]
    assert await next_tick(qa_bot, clock) == 1
    assert routed_to(slack) == ["U0BOB", "U0CAT", "U0DAN"]
    assert await next_tick(qa_bot, clock) == 0
    assert len(posted_questions(qa_bot)) == 1
    assert all(e.status == "done" for e in owed(qa_bot, "questions.routed_dm"))
    assert pending.key.endswith(":U0DAN")  # /expert's order puts Dan first among equals


# Answers -----------------------------------------------------------------------------------------


async def test_a_reply_whose_write_before_the_ack_failed_gets_a_500_and_is_stored_once_on_redelivery(
    qa_bot: BotHarness,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    ts = slack.write(QA, "U0BOB", "Use a constraints file", thread_ts=q_ts)
    event = message_event("U0BOB", "Use a constraints file", ts, q_ts)
    owe_event = qa_bot.services.questions.owe_event

    def database_unreachable(*_: object) -> list[str]:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(qa_bot.services.questions, "owe_event", database_unreachable)
    failed, _ = await qa_bot.event(event, "EvANS1")

    assert failed == 500
    assert answers(qa_bot) == [] and owed(qa_bot, "questions.reply") == []
    assert any("EvANS1 not acknowledged" in line for line in logged_errors(caplog))

    monkeypatch.setattr(qa_bot.services.questions, "owe_event", owe_event)
    # Slack redelivers it (and, thinking that was lost too, once more).
    results = [await qa_bot.event(event, "EvANS1") for _ in range(2)]

    assert [status for status, _ in results] == [200, 200]
    [answer] = answers(qa_bot)
    assert (answer.author_id, answer.ts, answer.text) == ("U0BOB", ts, "Use a constraints file")
    assert len(statements(qa_bot, ANSWERED)) == 1
    [done] = owed(qa_bot, "questions.reply")
    assert done.status == "done"
    # Only the key names the reply: no message text waits in the queue.
    assert "constraints" not in done.payload


async def test_a_reply_slack_failed_to_read_is_stored_once_by_the_tick(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    slack.fail_next("conversations.replies", body=FAILS)

    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "EvANS1")

    assert answers(qa_bot) == []
    assert await next_tick(qa_bot, clock) == 1
    [answer] = answers(qa_bot)
    assert answer.ts == ts and answer.text == "Use a constraints file"
    # A redelivery of the event, or another tick, stores nothing more.
    status, _ = await qa_bot.event(message_event("U0BOB", "x", ts, q_ts), "EvANS1")
    assert status == 200
    assert await next_tick(qa_bot, clock) == 0
    assert len(answers(qa_bot)) == 1 and len(statements(qa_bot, ANSWERED)) == 1


async def test_an_edit_done_late_keeps_the_text_slack_shows_now(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    ts = await reply(qa_bot, "U0BOB", "Use a constraints fiel", q_ts, "EvANS1")
    slack.messages[(QA, ts)]["text"] = "Use a constraints file"
    slack.fail_next("conversations.replies", body=FAILS)
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "channel": QA,
        "message": {"type": "message", "user": "U0BOB", "ts": ts, "thread_ts": q_ts},
        "ts": "1764600000.000200",
    }

    status, _ = await qa_bot.event(changed, "EvEDIT1")

    assert status == 200 and answers(qa_bot)[0].text == "Use a constraints fiel"
    await next_tick(qa_bot, clock)
    assert answers(qa_bot)[0].text == "Use a constraints file"


async def test_messages_that_cannot_be_answers_owe_nothing(qa_bot: BotHarness) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    top = qa_bot.slack.write(QA, "U0BOB", "Lunch?")
    elsewhere = qa_bot.slack.write("C0GENERAL", "U0BOB", "Use a lock file", thread_ts=q_ts)
    bot_ts = qa_bot.slack.write(QA, None, "Deploy done", thread_ts=q_ts, bot_id="B0DEPLOY")

    for n, event in enumerate(
        [
            message_event("U0BOB", "Lunch?", top, None),
            message_event("U0BOB", "Use a lock file", elsewhere, q_ts, channel="C0GENERAL"),
            message_event(None, "Deploy done", bot_ts, q_ts, subtype="bot_message", bot_id="B0"),
            message_event("U0BOB", "joined", top, None, subtype="channel_join"),
        ]
    ):
        status, _ = await qa_bot.event(event, f"EvNONE{n}")
        assert status == 200

    with qa_bot.database.reading() as session:
        kinds = {e.kind for e in session.exec(select(SlackEffect))}
    assert kinds <= {"questions.publish", "questions.routed_dm"}


# Accepting ---------------------------------------------------------------------------------------


async def test_a_check_mark_whose_write_before_the_ack_failed_accepts_once_on_redelivery(
    qa_bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "EvANS1")
    owe_event = qa_bot.services.questions.owe_event

    def database_unreachable(*_: object) -> list[str]:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(qa_bot.services.questions, "owe_event", database_unreachable)
    failed, _ = await check(qa_bot, "U0ANN", ts, "EvCHECK1")
    monkeypatch.setattr(qa_bot.services.questions, "owe_event", owe_event)

    assert failed == 500 and questions(qa_bot)[0].status == "open"
    results = [await check(qa_bot, "U0ANN", ts, "EvCHECK1") for _ in range(2)]

    assert [status for status, _ in results] == [200, 200]
    assert questions(qa_bot)[0].status == "resolved"
    assert len(statements(qa_bot, ACCEPT)) == 1
    assert len(thread_replies(qa_bot, q_ts)) == 1


@pytest.mark.usefixtures("no_listener_failures")
async def test_the_thanks_slack_failed_to_post_is_posted_once_by_the_tick(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "EvANS1")
    slack.fail_next("chat.postMessage", body=FAILS)

    def thanks_posted() -> list[dict[str, Any]]:
        return [
            m
            for (channel, _), m in slack.messages.items()
            if channel == QA and m.get("thread_ts") == q_ts and m.get("bot_id")
        ]

    await check(qa_bot, "U0ANN", ts, "EvCHECK1")

    # Accepted; the thanks is owed.
    assert questions(qa_bot)[0].status == "resolved"
    assert thanks_posted() == []
    [thanks] = owed(qa_bot, "questions.accepted")
    assert thanks.status == "pending"

    await next_tick(qa_bot, clock)

    [posted] = thanks_posted()
    assert "accepted <@U0BOB>'s answer" in posted["text"]
    await check(qa_bot, "U0ANN", ts, "EvCHECK1")  # redelivered
    assert await next_tick(qa_bot, clock) == 0
    assert len(statements(qa_bot, ACCEPT)) == 1


@pytest.mark.usefixtures("no_listener_failures")
async def test_a_check_mark_taken_back_before_it_was_done_accepts_nothing(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "EvANS1")
    slack.fail_next("conversations.replies", body=FAILS)
    await check(qa_bot, "U0ANN", ts, "EvCHECK1")
    assert questions(qa_bot)[0].status == "open"

    # The asker takes the ✅ back before the tick gets to it.
    await check(qa_bot, "U0ANN", ts, "EvCHECK2", add=False)
    await next_tick(qa_bot, clock)

    assert questions(qa_bot)[0].status == "open"
    assert statements(qa_bot, ACCEPT) == [] and thread_replies(qa_bot, q_ts) == []


# Routed DMs once the question is answered ----------------------------------------------------


@pytest.mark.usefixtures("no_listener_failures")
async def test_routed_dms_lose_their_buttons_once_an_answer_is_accepted_and_regain_them_on_reopening(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    [question] = questions(qa_bot)
    assert routed_to(slack) == ["U0BOB", "U0CAT", "U0DAN"]
    # Dan says it is not his area: his DM becomes the answer to his click, and stays so.
    await qa_bot.press(DECLINE, question.id, "U0DAN")
    answer_ts = await reply(qa_bot, "U0BOB", "Try cProfile and snakeviz", q_ts, "EvANS1")
    updates_before = len(slack.calls_to("chat.update"))

    await check(qa_bot, "U0ANN", answer_ts, "EvCHECK1")
    await check(qa_bot, "U0ANN", answer_ts, "EvCHECK1")  # Slack's retry: no second update

    updated = slack.calls_to("chat.update")[updates_before:]
    assert sorted(call["channel"] for call in updated) == ["D0BOB", "D0CAT", "D0EVE"]
    answer_link = answers(qa_bot)[0].permalink
    assert answer_link
    for user in ("U0BOB", "U0CAT", "U0EVE"):
        dm = dm_now(slack, user)
        assert buttons(dm) == {}
        shown = json.dumps(dm["blocks"])
        assert "Answered" in shown and f"<{answer_link}|" in shown
        assert "How do I profile a slow script?" in shown
    assert "Answered" not in json.dumps(dm_now(slack, "U0DAN").get("blocks"))

    # The asker takes the ✅ back: the question is open again, and so are the DMs.
    await check(qa_bot, "U0ANN", answer_ts, "EvCHECK2", add=False)

    for user in ("U0BOB", "U0CAT", "U0EVE"):
        dm = dm_now(slack, user)
        assert buttons(dm) == {DECLINE: question.id, PAUSE: question.id}
        assert "Answered" not in json.dumps(dm["blocks"])


@pytest.mark.usefixtures("no_listener_failures")
async def test_deleting_the_accepted_answer_reopens_the_routed_dms(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    [question] = questions(qa_bot)
    answer_ts = await reply(qa_bot, "U0BOB", "Try cProfile and snakeviz", q_ts, "EvANS1")
    await check(qa_bot, "U0ANN", answer_ts, "EvCHECK1")
    assert buttons(dm_now(slack, "U0CAT")) == {}

    slack.messages.pop((QA, answer_ts))
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": QA,
        "deleted_ts": answer_ts,
        "ts": "1764600001.000100",
    }
    status, _ = await qa_bot.event(deleted, "EvDEL1")

    assert status == 200 and questions(qa_bot)[0].status == "open"
    assert buttons(dm_now(slack, "U0CAT")) == {DECLINE: question.id, PAUSE: question.id}


@pytest.mark.usefixtures("no_listener_failures")
async def test_a_routed_dm_update_slack_failed_is_done_by_the_tick(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    answer_ts = await reply(qa_bot, "U0BOB", "Try cProfile and snakeviz", q_ts, "EvANS1")
    slack.fail_next("chat.update", body=FAILS)

    await check(qa_bot, "U0ANN", answer_ts, "EvCHECK1")
    [update] = owed(qa_bot, "questions.update_dms")
    assert update.status == "pending"

    await next_tick(qa_bot, clock)

    for user in ("U0BOB", "U0CAT", "U0DAN"):
        assert buttons(dm_now(slack, user)) == {}
    assert owed(qa_bot, "questions.update_dms")[0].status == "done"


@pytest.mark.usefixtures("no_listener_failures")
async def test_not_my_area_routes_on_once_even_when_slack_fails_at_first(
    qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    await qa_bot.command("/ask", "How do I profile a slow script? #python", "U0ANN")
    [question] = questions(qa_bot)
    slack.fail_next("conversations.open", body=FAILS)

    await qa_bot.press(DECLINE, question.id, "U0DAN")
    await qa_bot.press(DECLINE, question.id, "U0DAN")  # pressed again

    assert "won't send you" in slack.responses[-1]["text"]
    assert "U0EVE" not in routed_to(slack)
    await next_tick(qa_bot, clock)
    assert routed_to(slack) == ["U0BOB", "U0CAT", "U0DAN", "U0EVE"]
    assert await next_tick(qa_bot, clock) == 0


@pytest.mark.usefixtures("no_listener_failures")
async def test_the_askers_app_home_is_redrawn_when_the_question_is_accepted_and_reopens(
    qa_bot: BotHarness,
) -> None:
    await qa_bot.command("/ask", "How do I pin a python dependency? #python", "U0ANN")
    [(q_ts, _)] = posted_questions(qa_bot)
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "EvANS1")
    await open_home(qa_bot, "U0ANN")

    def asker_home_shows_it_open() -> bool:
        [*_, latest] = [
            c["view"] if isinstance(c["view"], dict) else json.loads(c["view"])
            for c in qa_bot.slack.calls_to("views.publish")
            if c["user_id"] == "U0ANN"
        ]
        return "How do I pin a python dependency?" in json.dumps(latest)

    assert asker_home_shows_it_open()
    await check(qa_bot, "U0ANN", ts, "EvCHECK1")
    assert not asker_home_shows_it_open()
    await check(qa_bot, "U0ANN", ts, "EvCHECK2", add=False)
    assert asker_home_shows_it_open()
