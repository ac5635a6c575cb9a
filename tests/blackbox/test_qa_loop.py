"""The Q&A loop in `python -m bot` with the real test LRS: ask, answer (with Slack's retries),
accept, delete — each statement reaches the LRS exactly once, and voiding reaches it too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.models import Answer, OutboxStatement, Question
from tests.support.blackbox import (
    StartBot,
    deliver,
    lrs_env,
    lrs_ids,
    new_person,
    outbox_drained,
)
from tests.support.lrs import RealLrs
from tests.support.process import BotProcess, bot_env, eventually, free_port
from tests.support.slack import (
    FakeSlack,
    reaction_event,
)

pytestmark = pytest.mark.lrs


QA = "C0QA"
ASKED = "http://adlnet.gov/expapi/verbs/asked"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
ACCEPT = "http://activitystrea.ms/accept"
SEARCH = "http://activitystrea.ms/search"


async def start_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[StartBot]:
    """Starts `python -m bot` on one port and one database file."""
    port = free_port()
    started: list[BotProcess] = []

    async def start(**overrides: str | None) -> BotProcess:
        bot = BotProcess(bot_env(tmp_path, slack.base_url, port, **overrides), tmp_path)
        started.append(bot)
        return await bot.start()

    yield start
    for bot in started:
        await bot.stop(timeout=10)


# Helpers ---------------------------------------------------------------------------------------


def outbox(bot: BotProcess) -> list[OutboxStatement]:
    return sorted(bot.rows(OutboxStatement), key=lambda r: r.seq or 0)


def sent_once(bot: BotProcess, statement_id: str) -> None:
    [row] = [r for r in outbox(bot) if r.statement_id == statement_id]
    assert row.status == "sent", (row.status, row.last_error)


# The loop --------------------------------------------------------------------------------------


async def test_ask_answer_accept_reach_the_lrs_once_and_deleting_voids_them(
    start_bot: StartBot, slack: FakeSlack, real_lrs: RealLrs
) -> None:
    asker, answerer = new_person(slack, "Asker"), new_person(slack, "Answerer")
    bot = await start_bot(QA_CHANNEL=QA, **lrs_env(real_lrs.endpoint))

    # Ask -----------------------------------------------------------------------------------
    status, ack = await bot.command(
        "/ask",
        "How do we rotate the staging database password? #postgresql",
        asker,
        response_url=slack.response_url,
    )
    assert status == 200 and ack["text"] == f"Posting your question in <#{QA}>…", ack
    [question] = await eventually(
        lambda: [q for q in bot.rows(Question) if q.ts], what="the question to be posted"
    )
    [follow_up] = await eventually(lambda: slack.responses, what="the asker's follow-up")
    assert question.permalink and question.permalink in follow_up["text"]
    assert (QA, question.ts) in slack.messages

    # Answer, delivered then retried ---------------------------------------------------------
    text = "Run the rotate-secrets job, then restart the app"
    answer_ts = slack.write(QA, answerer, text, thread_ts=question.ts)
    message = {
        "type": "message",
        "channel": QA,
        "user": answerer,
        "text": text,
        "ts": answer_ts,
        "thread_ts": question.ts,
        "event_ts": answer_ts,
        "channel_type": "channel",
    }
    assert [await deliver(bot, message, "EvQA1", retry) for retry in (0, 1)] == [200, 200]
    [answer] = await eventually(lambda: bot.rows(Answer), what="the answer to be stored")
    assert answer.author_id == answerer

    # Accept with ✅, delivered then retried -------------------------------------------------
    slack.react(QA, answer_ts, "white_check_mark", asker)
    added = reaction_event("reaction_added", asker, "white_check_mark", QA, answer_ts, answerer)
    assert [await deliver(bot, added, "EvQA2", retry) for retry in (0, 1, 2)] == [200] * 3
    [resolved] = await eventually(
        lambda: [q for q in bot.rows(Question) if q.status == "resolved"],
        what="the question to be resolved",
    )
    thanks = await eventually(
        lambda: [c for c in slack.calls_to("chat.postMessage") if c.get("thread_ts")],
        what="the acceptance in the thread",
    )

    await eventually(outbox_drained(bot), timeout=20, what="the statements to reach the LRS")
    [answer] = bot.rows(Answer)
    assert resolved.accepted_answer_id == answer.id and answer.accepted_at is not None
    assert len(thanks) == 1 and f"<@{answerer}>" in thanks[0]["text"]
    asked_id = question.asked_statement_id
    answered_id = answer.answered_statement_id
    accept_id = resolved.accept_statement_id
    assert accept_id is not None
    # Each step queued exactly one statement, whatever Slack redelivered…
    assert [r.statement_id for r in outbox(bot)] == [asked_id, answered_id, accept_id]
    for statement_id in (asked_id, answered_id, accept_id):
        sent_once(bot, statement_id)
        status, found = await real_lrs.statement(statement_id)
        assert status == 200 and found["id"] == statement_id
    # …and the LRS holds each once.
    assert await lrs_ids(real_lrs, ASKED, asker) == [asked_id]
    # The acceptance references the answer's `answered`, and xAPI's filters follow such a
    # reference: asking for the answerer's answers returns it too.
    assert sorted(await lrs_ids(real_lrs, ANSWERED, answerer)) == sorted([answered_id, accept_id])
    assert await lrs_ids(real_lrs, ACCEPT, asker) == [accept_id]
    _, accept = await real_lrs.statement(accept_id)
    assert accept["object"] == {"objectType": "StatementRef", "id": answered_id}

    # The FAQ finds it, and /expert ranks the answerer for the question's tag ------------------
    seeker = new_person(slack, "Seeker")
    status, found = await bot.command("/faq", "rotate staging password", seeker)
    assert status == 200 and question.permalink in json.dumps(found)
    status, ranked = await bot.command("/expert", "postgresql", seeker)
    assert status == 200 and f"<@{answerer}>" in ranked["text"]
    assert "1 accepted answer on #postgresql" in json.dumps(ranked["blocks"])
    await eventually(outbox_drained(bot), timeout=20, what="the searches to reach the LRS")
    searches = await lrs_ids(real_lrs, SEARCH, seeker)
    assert len(searches) == 2
    objects = set()
    for statement_id in searches:
        _, searched = await real_lrs.statement(statement_id)
        objects.add(searched["object"]["id"].rsplit("/", 2)[-2:][-1])
    assert objects == {"faq", "postgresql"}

    # The answerer deletes the accepted answer --------------------------------------------------
    gone = slack.messages.pop((QA, answer_ts))
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": QA,
        "hidden": True,
        "deleted_ts": answer_ts,
        "previous_message": gone,
        "ts": "1764600001.000100",
        "event_ts": "1764600001.000100",
        "channel_type": "channel",
    }
    assert [await deliver(bot, deleted, "EvQA3", retry) for retry in (0, 1)] == [200, 200]
    await eventually(
        lambda: [q for q in bot.rows(Question) if q.status == "open"],
        what="the question to reopen",
    )
    await eventually(
        lambda: len([r for r in outbox(bot) if r.voiding]) == 2, what="the voiding statements"
    )
    await eventually(outbox_drained(bot), timeout=20, what="the voiding to reach the LRS")

    voids = [r for r in outbox(bot) if r.voiding]
    assert {r.status for r in voids} == {"sent"}
    assert {json.loads(r.body)["object"]["id"] for r in voids} == {answered_id, accept_id}
    for statement_id in (answered_id, accept_id):
        status, _ = await real_lrs.statement(statement_id)
        assert status == 404  # voided statements are no longer returned by id
        status, voided = await real_lrs.voided_statement(statement_id)
        assert status == 200 and voided["id"] == statement_id
    # The question itself still stands.
    status, _ = await real_lrs.statement(asked_id)
    assert status == 200
    [question] = bot.rows(Question)
    assert question.accepted_answer_id is None and question.accept_statement_id is None
    assert "Traceback" not in bot.stderr()
