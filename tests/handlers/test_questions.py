"""Q&A (/ask, answers in the question's thread, accepting by ✅ or shortcut) through signed
requests into the real app, with Slack faked."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.domain.effects import MAX_ATTEMPTS
from storage.models import Answer, OutboxStatement, Question, QuestionSkill
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import GUILDBOT, TEAM_ID, FakeSlack, reaction_event

QA = "C0QA"
ASKED = "http://adlnet.gov/expapi/verbs/asked"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
ACCEPT = "http://activitystrea.ms/accept"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
QUESTION_TYPE = "http://activitystrea.ms/question"
CHECK = "white_check_mark"
_PLACE = re.compile(r"^\*(\d+)\. <@([UW][A-Z0-9]+)>\*\n(.*)$", re.DOTALL)


pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def qa_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    """A bot with a Q&A channel."""
    harness = await BotHarness(settings_for(tmp_path, slack, QA_CHANNEL=QA), slack).start()
    yield harness
    await harness.close()


@pytest.fixture
async def clocked_qa_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """A bot with a Q&A channel on the settable clock (to bring retries due)."""
    harness = await BotHarness(settings_for(tmp_path, slack, QA_CHANNEL=QA), slack, clock).start()
    yield harness
    await harness.close()


@pytest.fixture
async def text_qa_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    """A bot with a Q&A channel that puts typed text into statements (XAPI_INCLUDE_TEXT)."""
    settings = settings_for(tmp_path, slack, QA_CHANNEL=QA, XAPI_INCLUDE_TEXT="true")
    harness = await BotHarness(settings, slack).start()
    yield harness
    await harness.close()


# Helpers ---------------------------------------------------------------------------------------


def permalink(channel: str, ts: str) -> str:
    return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def questions(bot: BotHarness) -> list[Question]:
    with bot.database.reading() as session:
        return list(session.exec(select(Question).order_by(Question.created_at)))


def question_skills(bot: BotHarness) -> list[tuple[str, str]]:
    with bot.database.reading() as session:
        return [(r.question_id, r.slug) for r in session.exec(select(QuestionSkill))]


def answers(bot: BotHarness) -> list[Answer]:
    with bot.database.reading() as session:
        return list(session.exec(select(Answer).order_by(Answer.created_at, Answer.ts)))


def outbox_rows(bot: BotHarness) -> list[OutboxStatement]:
    with bot.database.reading() as session:
        return list(session.exec(select(OutboxStatement).order_by(OutboxStatement.seq)))


def statements(bot: BotHarness, verb: str | None = None) -> list[dict[str, Any]]:
    bodies = [json.loads(row.body) for row in outbox_rows(bot)]
    return [s for s in bodies if verb is None or s["verb"]["id"] == verb]


def thread_replies(bot: BotHarness, thread_ts: str) -> list[dict[str, Any]]:
    return [
        call
        for call in bot.slack.calls_to("chat.postMessage")
        if call.get("channel") == QA and call.get("thread_ts") == thread_ts
    ]


def posted_questions(bot: BotHarness) -> list[tuple[str, dict[str, Any]]]:
    """(ts, call) of each question the bot posted in the Q&A channel, in order."""
    posts = [
        call
        for call in bot.slack.calls_to("chat.postMessage")
        if call.get("channel") == QA and not call.get("thread_ts")
    ]
    mine = [
        (ts, message)
        for (channel, ts), message in bot.slack.messages.items()
        if channel == QA and message.get("bot_id") and not message.get("thread_ts")
    ]
    assert len(posts) == len(mine)
    return [(ts, call) for (ts, _), call in zip(mine, posts, strict=True)]


def context_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def skill_ids(statement: dict[str, Any]) -> list[str]:
    others = statement.get("context", {}).get("contextActivities", {}).get("other") or []
    return [a["id"].rsplit("/skills/", 1)[1] for a in others]


async def ask(bot: BotHarness, user: str, text: str) -> tuple[str, Question]:
    """`/ask` that goes through; returns the posted question's ts and its row."""
    status, reply = await bot.command("/ask", text, user)
    assert status == 200 and reply["text"] == f"Posting your question in <#{QA}>…", reply
    ts, _ = posted_questions(bot)[-1]
    [row] = [q for q in questions(bot) if q.ts == ts]
    return ts, row


def message_event(
    user: str | None, text: str, ts: str, thread_ts: str | None, channel: str = QA, **more: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        **more,
    }
    if user:
        event["user"] = user
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


async def reply(
    bot: BotHarness,
    user: str,
    text: str,
    thread_ts: str,
    event_id: str,
    channel: str = QA,
) -> str:
    """Someone replies in a thread: Slack stores the message, then delivers the event."""
    ts = bot.slack.write(channel, user, text, thread_ts=thread_ts)
    status, _ = await bot.event(message_event(user, text, ts, thread_ts, channel), event_id)
    assert status == 200
    return ts


async def edit(
    bot: BotHarness, user: str, ts: str, thread_ts: str, text: str, event_id: str
) -> tuple[int, Any]:
    """The author edits their reply: Slack's `message_changed`."""
    before = dict(bot.slack.messages[(QA, ts)])
    bot.slack.messages[(QA, ts)]["text"] = text
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": QA,
        "hidden": True,
        "message": {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "edited": {"user": user, "ts": "1764600000.000100"},
        },
        "previous_message": before,
        "ts": "1764600000.000200",
        "event_ts": "1764600000.000200",
        "channel_type": "channel",
    }
    return await bot.event(event, event_id)


async def delete(bot: BotHarness, ts: str, event_id: str) -> tuple[int, Any]:
    before = bot.slack.messages.pop((QA, ts))
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": QA,
        "hidden": True,
        "deleted_ts": ts,
        "previous_message": before,
        "ts": "1764600001.000100",
        "event_ts": "1764600001.000100",
        "channel_type": "channel",
    }
    return await bot.event(event, event_id)


async def delete_again(bot: BotHarness, ts: str, event_id: str) -> tuple[int, Any]:
    """Slack redelivering a deletion of a message that is already gone."""
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": QA,
        "hidden": True,
        "deleted_ts": ts,
        "ts": "1764600002.000100",
        "event_ts": "1764600002.000100",
    }
    return await bot.event(event, event_id)


async def check(
    bot: BotHarness, user: str, ts: str, event_id: str, add: bool = True, reaction: str = CHECK
) -> tuple[int, Any]:
    """What Slack does for a ✅: records the reaction on the message, then delivers the event."""
    author = bot.slack.messages[(QA, ts)].get("user")
    bot.slack.react(QA, ts, reaction, user, add=add)
    kind = "reaction_added" if add else "reaction_removed"
    return await bot.event(reaction_event(kind, user, reaction, QA, ts, author), event_id)


def places(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        if block["type"] != "section":
            continue
        line = _PLACE.match(block["text"]["text"])
        if line:
            found.append({"user": line[2], "evidence": line[3]})
    return found


# /ask ------------------------------------------------------------------------------------------


async def test_ask_posts_the_question_and_sends_the_asker_its_link(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    status, ack = await qa_bot.command(
        "/ask", "How do I profile a slow Django view? #python #performance", "U0ANN"
    )

    assert status == 200
    assert ack["text"] == "Posting your question in <#C0QA>…"
    assert ack.get("response_type", "ephemeral") == "ephemeral"
    [(ts, post)] = posted_questions(qa_bot)
    assert post["channel"] == QA
    assert "<@U0ANN>" in post["text"] and "profile a slow Django view" in post["text"]
    contexts = context_texts(post["blocks"])
    assert any("Asked by <@U0ANN>" in c and "`#python` `#performance`" in c for c in contexts)
    assert any("Reply in this thread" in c and ":white_check_mark:" in c for c in contexts)
    [follow_up] = slack.responses
    assert follow_up["response_type"] == "ephemeral"
    assert permalink(QA, ts) in follow_up["text"] and "<#C0QA>" in follow_up["text"]
    assert "Already answered" not in follow_up["text"]

    [row] = questions(qa_bot)
    assert (row.asker_id, row.channel_id, row.ts, row.permalink, row.status) == (
        "U0ANN",
        QA,
        ts,
        permalink(QA, ts),
        "open",
    )
    assert row.tags == ["python", "performance"]
    assert "#" not in row.text and "profile a slow Django view" in row.text
    # Only tags that name a known skill are skills of the question.
    assert question_skills(qa_bot) == [(row.id, "python")]

    [asked] = statements(qa_bot)
    assert asked["id"] == row.asked_statement_id
    assert asked["verb"]["id"] == ASKED
    assert asked["actor"]["account"]["name"] == "U0ANN"
    assert asked["object"]["definition"]["type"] == QUESTION_TYPE
    assert asked["object"]["id"].endswith(f"/questions/{row.id}")
    assert skill_ids(asked) == ["python"]
    # No typed text leaves the workspace unless XAPI_INCLUDE_TEXT says so.
    assert "result" not in asked
    assert "Django" not in json.dumps(asked)
    assert slack.calls_to("chat.postEphemeral") == []


async def test_ask_without_tags_posts_untagged(qa_bot: BotHarness, slack: FakeSlack) -> None:
    ts, row = await ask(qa_bot, "U0ANN", "Where is the staging deploy runbook kept?")

    assert row.tags == []
    assert question_skills(qa_bot) == []
    [(_, post)] = posted_questions(qa_bot)
    assert "Asked by <@U0ANN>" in context_texts(post["blocks"])
    [asked] = statements(qa_bot)
    assert skill_ids(asked) == []
    assert permalink(QA, ts) in slack.responses[0]["text"]


async def test_question_text_is_in_the_asked_statement_only_with_include_text(
    text_qa_bot: BotHarness,
) -> None:
    _, row = await ask(text_qa_bot, "U0ANN", "How do I profile a slow Django view? #python")

    [asked] = statements(text_qa_bot)
    assert asked["result"]["response"] == row.text
    assert "profile a slow Django view" in row.text


async def test_tags_are_suggested_from_declared_skills_when_none_are_typed(
    qa_bot: BotHarness,
) -> None:
    _, before = await ask(qa_bot, "U0ANN", "Why does our kafka consumer lag grow overnight?")
    status, _ = await qa_bot.command("/skills", "add kafka", "U0CAT")
    assert status == 200

    ts, after = await ask(qa_bot, "U0ANN", "Why does the kafka consumer lag grow on Mondays?")

    assert before.tags == []  # nobody had declared kafka yet
    assert after.tags == ["kafka"]
    assert (after.id, "kafka") in question_skills(qa_bot)
    post = dict(posted_questions(qa_bot))[ts]
    assert any("`#kafka`" in c for c in context_texts(post["blocks"]))
    asked = [s for s in statements(qa_bot, ASKED) if s["id"] == after.asked_statement_id]
    assert skill_ids(asked[0]) == ["kafka"]


async def test_python_is_suggested_once_declared_but_short_words_like_go_never(
    qa_bot: BotHarness,
) -> None:
    await qa_bot.command("/skills", "add python", "U0CAT")

    _, named = await ask(qa_bot, "U0ANN", "Which python profiler works best for async code?")
    _, plain = await ask(qa_bot, "U0ANN", "Should we go with a monorepo for everything?")

    assert named.tags == ["python"]
    assert plain.tags == []  # "go" is the golang alias, but as a word it is just English
    assert [q for q, slug in question_skills(qa_bot) if slug == "golang"] == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("too short", "at least 3 words"),
        ("help", "/ask"),
        ("", "/ask"),
    ],
    ids=["too-short", "help", "empty"],
)
async def test_ask_refusals_and_help_are_private_and_store_nothing(
    qa_bot: BotHarness, slack: FakeSlack, typed: str, expected: str
) -> None:
    status, ack = await qa_bot.command("/ask", typed, "U0ANN")

    assert status == 200
    assert expected in ack["text"]
    assert ack.get("response_type", "ephemeral") == "ephemeral"
    assert questions(qa_bot) == [] and outbox_rows(qa_bot) == []
    assert slack.calls_to("chat.postMessage") == [] and slack.responses == []


async def test_ask_without_a_qa_channel_says_it_is_not_set_up(
    bot: BotHarness, slack: FakeSlack
) -> None:
    status, ack = await bot.command("/ask", "How do I rotate the staging password?", "U0ANN")

    assert status == 200
    assert "QA_CHANNEL" in ack["text"] and "isn't set up" in ack["text"]
    assert questions(bot) == [] and outbox_rows(bot) == []
    assert slack.calls_to("chat.postMessage") == [] and slack.responses == []


async def test_an_unreachable_qa_channel_withdraws_the_question(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    slack.unreachable_channels.add(QA)

    status, ack = await qa_bot.command(
        "/ask", "How do I rotate the staging password? #postgresql", "U0ANN"
    )

    assert status == 200 and ack["text"] == "Posting your question in <#C0QA>…"
    [told] = slack.responses
    assert told["response_type"] == "ephemeral"
    assert "couldn't post in <#C0QA>" in told["text"] and "/invite" in told["text"]
    assert questions(qa_bot) == [] and question_skills(qa_bot) == []
    asked, void = statements(qa_bot)
    assert asked["verb"]["id"] == ASKED
    assert void["verb"]["id"] == VOIDED
    assert void["object"] == {"objectType": "StatementRef", "id": asked["id"]}
    assert void["actor"] == GUILDBOT
    # Admins see why in App Home; the asker heard it in words of their own, once.
    [dead] = qa_bot.services.effects.dead_effects()
    assert dead.kind == "questions.publish" and dead.reason.startswith(
        "Slack said channel_not_found"
    )


async def test_a_question_slack_never_takes_is_withdrawn_so_asking_again_asks_once(
    clocked_qa_bot: BotHarness, slack: FakeSlack, clock: SettableClock
) -> None:
    # Slack failing is tried again with backoff; the last try that fails gives up.
    slack.fail_next(
        "chat.postMessage", body={"ok": False, "error": "fatal_error"}, times=MAX_ATTEMPTS
    )

    await clocked_qa_bot.command("/ask", "How do I rotate the staging password?", "U0ANN")
    assert slack.responses == [] and len(questions(clocked_qa_bot)) == 1
    for _ in range(MAX_ATTEMPTS - 1):
        clock.now += timedelta(minutes=11)
        assert await clocked_qa_bot.effects.perform_due(clocked_qa_bot.slack_client, TEAM_ID) == 1

    # An hour of retries later, the /ask's response URL has expired: the asker hears it by DM.
    assert slack.responses == []
    [told] = [m["text"] for (channel, _), m in slack.messages.items() if channel == "D0ANN"]
    assert "How do I rotate the staging password?" in told and "nothing was asked" in told
    assert questions(clocked_qa_bot) == []
    asked, void = statements(clocked_qa_bot)
    assert void["object"]["id"] == asked["id"]
    assert len([c for c in slack.calls_to("chat.postMessage") if c["channel"] == QA]) == (
        MAX_ATTEMPTS
    )

    await clocked_qa_bot.command("/ask", "How do I rotate the staging password?", "U0ANN")

    assert len(questions(clocked_qa_bot)) == 1 and questions(clocked_qa_bot)[0].ts


async def test_similar_resolved_questions_are_offered_with_their_links(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    first_ts, first = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    answer_ts = await reply(qa_bot, "U0BOB", "Use a constraints file", first_ts, "Ev001")
    await check(qa_bot, "U0ANN", answer_ts, "Ev002")
    open_ts, _ = await ask(qa_bot, "U0BOB", "Why is python startup so slow here? #python")

    await ask(qa_bot, "U0CAT", "How do I vendor a python wheel offline? #python")

    about_open, latest = slack.responses[-2:]
    # The question still open when Bob asked was offered the resolved one…
    assert "Already answered" in about_open["text"] and first.permalink in about_open["text"]
    # …and an open question is never offered as an answer.
    assert "Already answered" in latest["text"]
    assert first.permalink in latest["text"]
    assert permalink(QA, open_ts) not in latest["text"]
    assert "How do I pin a python dependency?" in latest["text"]


# Answers ---------------------------------------------------------------------------------------


async def test_a_reply_by_someone_else_is_an_answer_with_a_statement(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, question = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")

    ts = await reply(qa_bot, "U0BOB", "Use a constraints file, secret sauce", q_ts, "Ev001")

    [answer] = answers(qa_bot)
    assert (answer.question_id, answer.author_id, answer.ts, answer.channel_id) == (
        question.id,
        "U0BOB",
        ts,
        QA,
    )
    assert answer.permalink == permalink(QA, ts)
    assert answer.text == "Use a constraints file, secret sauce"
    assert answer.accepted_at is None and answer.deleted_at is None
    [answered] = statements(qa_bot, ANSWERED)
    assert answered["id"] == answer.answered_statement_id
    assert answered["actor"]["account"]["name"] == "U0BOB"
    assert answered["object"]["id"].endswith(f"/questions/{question.id}")
    assert answered["object"]["definition"]["moreInfo"] == question.permalink
    # The answer's link, never its text.
    assert answered["result"]["response"] == permalink(QA, ts)
    assert "secret sauce" not in json.dumps(answered)
    assert skill_ids(answered) == ["python"]
    assert slack.calls_to("chat.postEphemeral") == []
    assert len(slack.responses) == 1  # only /ask's follow-up
    assert thread_replies(qa_bot, q_ts) == []


async def test_a_reply_also_sent_to_the_channel_is_an_answer(qa_bot: BotHarness) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = qa_bot.slack.write(QA, "U0BOB", "Use a constraints file", thread_ts=q_ts)

    event = message_event("U0BOB", "Use a constraints file", ts, q_ts, subtype="thread_broadcast")
    status, _ = await qa_bot.event(event, "Ev001")

    assert status == 200
    [answer] = answers(qa_bot)
    assert (answer.author_id, answer.ts) == ("U0BOB", ts)
    assert len(statements(qa_bot, ANSWERED)) == 1


async def test_answer_text_is_in_the_statement_only_with_include_text(
    text_qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(text_qa_bot, "U0ANN", "How do I pin a python dependency? #python")

    await reply(text_qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")

    [answered] = statements(text_qa_bot, ANSWERED)
    assert answered["result"]["response"] == "Use a constraints file"


async def test_retries_and_redeliveries_of_a_reply_store_one_answer(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = slack.write(QA, "U0BOB", "Use a constraints file", thread_ts=q_ts)
    event = message_event("U0BOB", "Use a constraints file", ts, q_ts)

    results = [
        await qa_bot.event(event, "Ev001"),
        await qa_bot.event(event, "Ev001"),  # Slack's retry
        await qa_bot.event(event, "Ev009"),  # the same message delivered again, new event id
    ]

    assert [status for status, _ in results] == [200, 200, 200]
    assert len(answers(qa_bot)) == 1
    assert len(statements(qa_bot, ANSWERED)) == 1


async def test_messages_that_are_not_answers_are_acked_and_store_nothing(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    chatter = slack.write(QA, "U0CAT", "Anyone up for lunch?")
    elsewhere = slack.write("C0GENERAL", "U0CAT", "Unrelated thread")
    own_ts = slack.write(QA, "U0ANN", "Also: we use poetry", thread_ts=q_ts)
    bot_ts = slack.write(QA, None, "Deploy finished", thread_ts=q_ts, bot_id="B0DEPLOY")
    side_ts = slack.write(QA, "U0BOB", "Sure, noon?", thread_ts=chatter)
    other_ts = slack.write("C0GENERAL", "U0BOB", "Use a lock file", thread_ts=elsewhere)
    top_ts = slack.write(QA, "U0BOB", "Use a constraints file")
    join_ts = slack.write(QA, "U0BOB", "<@U0BOB> has joined the channel")

    events = [
        message_event("U0ANN", "Also: we use poetry", own_ts, q_ts),  # the asker's own
        message_event(
            None,
            "Deploy finished",
            bot_ts,
            q_ts,
            subtype="bot_message",
            bot_id="B0DEPLOY",
        ),
        message_event(  # an app posting as a user still has a bot_id
            "U0ROBOT", "Deploy finished", bot_ts, q_ts, bot_id="B0DEPLOY"
        ),
        message_event("U0ROBOT", "Deploy finished", bot_ts, q_ts),  # a bot user, no bot_id
        message_event("U0BOB", "Sure, noon?", side_ts, chatter),  # not a question's thread
        message_event("U0BOB", "Use a constraints file", top_ts, None),  # top level
        message_event("U0BOB", "Use a lock file", other_ts, elsewhere, channel="C0GENERAL"),
        message_event(  # same thread_ts as the question, but another channel
            "U0BOB", "Use a lock file", other_ts, q_ts, channel="C0GENERAL"
        ),
        message_event(
            "U0BOB", "<@U0BOB> has joined the channel", join_ts, None, subtype="channel_join"
        ),
        message_event(  # a join can even carry a thread_ts; still not an answer
            "U0BOB", "<@U0BOB> has joined", join_ts, q_ts, subtype="channel_join"
        ),
    ]
    results = [await qa_bot.event(e, f"Ev{n:03d}") for n, e in enumerate(events, start=1)]

    assert [status for status, _ in results] == [200] * len(events)
    assert answers(qa_bot) == []
    assert [s["verb"]["id"] for s in statements(qa_bot)] == [ASKED]
    assert slack.calls_to("chat.postEphemeral") == []
    assert thread_replies(qa_bot, q_ts) == []


async def test_an_edited_answer_keeps_its_statement_with_the_new_text(
    qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints fiel", q_ts, "Ev001")

    status, _ = await edit(qa_bot, "U0BOB", ts, q_ts, "Use a constraints file", "Ev002")

    assert status == 200
    [answer] = answers(qa_bot)
    assert answer.text == "Use a constraints file"
    assert answer.edited_at is not None
    assert [s["verb"]["id"] for s in statements(qa_bot)] == [ASKED, ANSWERED]


async def test_a_deleted_answer_has_its_statement_voided(
    qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    [answer] = answers(qa_bot)

    status, _ = await delete(qa_bot, ts, "Ev002")
    again, _ = await delete_again(qa_bot, ts, "Ev003")

    assert (status, again) == (200, 200)
    [gone] = answers(qa_bot)
    assert gone.deleted_at is not None
    [void] = statements(qa_bot, VOIDED)
    assert void["object"] == {"objectType": "StatementRef", "id": answer.answered_statement_id}
    assert void["actor"] == GUILDBOT
    [still] = questions(qa_bot)
    assert still.status == "open"
    # A deleted answer can't be accepted any more.
    await qa_bot.shortcut("accept_answer", "U0ANN", {"type": "message", "ts": ts}, QA)
    assert "isn't an answer" in qa_bot.slack.responses[-1]["text"]
    assert questions(qa_bot)[0].status == "open" and statements(qa_bot, ACCEPT) == []


async def test_deleting_the_accepted_answer_reopens_the_question(qa_bot: BotHarness) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    await check(qa_bot, "U0ANN", ts, "Ev002")
    [accepted] = questions(qa_bot)
    [answer] = answers(qa_bot)
    assert accepted.status == "resolved"

    status, _ = await delete(qa_bot, ts, "Ev003")

    assert status == 200
    [question] = questions(qa_bot)
    assert question.status == "open"
    assert question.accepted_answer_id is None and question.resolved_at is None
    assert question.accept_statement_id is None
    voids = {v["object"]["id"]: v["actor"] for v in statements(qa_bot, VOIDED)}
    assert voids == {
        answer.answered_statement_id: GUILDBOT,
        accepted.accept_statement_id: GUILDBOT,
    }


# Accepting by ✅ --------------------------------------------------------------------------------


async def test_the_askers_check_mark_accepts_the_answer(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")

    status, _ = await check(qa_bot, "U0ANN", ts, "Ev002")

    assert status == 200
    [question] = questions(qa_bot)
    [answer] = answers(qa_bot)
    assert question.status == "resolved" and question.resolved_at is not None
    assert question.accepted_answer_id == answer.id
    assert answer.accepted_at is not None
    [accept] = statements(qa_bot, ACCEPT)
    assert accept["id"] == question.accept_statement_id
    assert accept["actor"]["account"]["name"] == "U0ANN"
    # The answerer's `answered` is the object: filters by the answerer and by the question
    # find the acceptance through it; the question is its parent.
    assert accept["object"] == {"objectType": "StatementRef", "id": answer.answered_statement_id}
    parents = accept["context"]["contextActivities"]["parent"]
    assert parents[0]["id"].endswith(f"/questions/{question.id}")
    assert parents[0]["definition"]["moreInfo"] == permalink(QA, q_ts)
    assert accept["context"]["registration"] == question.id
    assert "platform" not in accept["context"]
    assert skill_ids(accept) == ["python"]
    [announced] = thread_replies(qa_bot, q_ts)
    assert "accepted <@U0BOB>'s answer" in announced["text"]
    assert "<@U0ANN>" in announced["text"]
    assert slack.calls_to("chat.postEphemeral") == []
    assert len(slack.responses) == 1  # only /ask's follow-up


async def test_a_skin_toned_check_mark_counts_too(qa_bot: BotHarness) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")

    await check(qa_bot, "U0ANN", ts, "Ev002", reaction="white_check_mark::skin-tone-2")

    assert questions(qa_bot)[0].status == "resolved"


async def test_anyone_elses_check_mark_is_ignored_silently(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    responses_before = list(slack.responses)

    results = [
        await check(qa_bot, "U0CAT", ts, "Ev002"),
        await check(qa_bot, "U0BOB", ts, "Ev003"),  # the answerer, on their own answer
        await check(qa_bot, "U0CAT", ts, "Ev004", add=False),
    ]

    assert [status for status, _ in results] == [200, 200, 200]
    [question] = questions(qa_bot)
    assert question.status == "open" and question.accepted_answer_id is None
    assert answers(qa_bot)[0].accepted_at is None
    assert statements(qa_bot, ACCEPT) == [] and statements(qa_bot, VOIDED) == []
    assert thread_replies(qa_bot, q_ts) == []
    assert slack.calls_to("chat.postEphemeral") == []
    assert slack.responses == responses_before


async def test_a_check_mark_on_the_question_or_chatter_is_ignored(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    chatter = slack.write(QA, "U0BOB", "Lunch?")

    results = [
        await check(qa_bot, "U0ANN", q_ts, "Ev001"),
        await check(qa_bot, "U0ANN", chatter, "Ev002"),
    ]

    assert [status for status, _ in results] == [200, 200]
    assert questions(qa_bot)[0].status == "open"
    assert statements(qa_bot, ACCEPT) == []
    assert slack.calls_to("chat.postEphemeral") == [] and len(slack.responses) == 1


async def test_a_retried_check_mark_counts_once(qa_bot: BotHarness) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")

    results = [await check(qa_bot, "U0ANN", ts, "Ev002") for _ in range(3)]

    assert [status for status, _ in results] == [200, 200, 200]
    assert len(statements(qa_bot, ACCEPT)) == 1
    assert len(thread_replies(qa_bot, q_ts)) == 1
    assert questions(qa_bot)[0].status == "resolved"


async def test_removing_the_askers_check_mark_reopens_and_voids_the_accept(
    qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    await check(qa_bot, "U0ANN", ts, "Ev002")
    [accepted] = questions(qa_bot)

    status, _ = await check(qa_bot, "U0ANN", ts, "Ev003", add=False)
    retried, _ = await check(qa_bot, "U0ANN", ts, "Ev003", add=False)

    assert (status, retried) == (200, 200)
    [question] = questions(qa_bot)
    assert question.status == "open" and question.resolved_at is None
    assert question.accepted_answer_id is None and question.accept_statement_id is None
    assert answers(qa_bot)[0].accepted_at is None
    [void] = statements(qa_bot, VOIDED)
    assert void["object"]["id"] == accepted.accept_statement_id
    assert void["actor"] == GUILDBOT
    # The answer itself still stands.
    assert len(statements(qa_bot, ANSWERED)) == 1


async def test_accepting_again_after_taking_it_back_makes_a_new_accept(
    qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    await check(qa_bot, "U0ANN", ts, "Ev002")
    await check(qa_bot, "U0ANN", ts, "Ev003", add=False)

    await check(qa_bot, "U0ANN", ts, "Ev004")

    [question] = questions(qa_bot)
    first, second = statements(qa_bot, ACCEPT)
    assert first["id"] != second["id"]
    assert question.status == "resolved" and question.accept_statement_id == second["id"]
    assert [v["object"]["id"] for v in statements(qa_bot, VOIDED)] == [first["id"]]
    assert len(thread_replies(qa_bot, q_ts)) == 2


async def test_a_later_acceptance_replaces_the_first(qa_bot: BotHarness) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    bob_ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    cat_ts = await reply(qa_bot, "U0CAT", "Use uv lock", q_ts, "Ev002")
    await check(qa_bot, "U0ANN", bob_ts, "Ev003")
    [first] = statements(qa_bot, ACCEPT)

    await check(qa_bot, "U0ANN", cat_ts, "Ev004")

    bob, cat = answers(qa_bot)
    [question] = questions(qa_bot)
    assert (bob.author_id, cat.author_id) == ("U0BOB", "U0CAT")
    assert question.accepted_answer_id == cat.id and question.status == "resolved"
    assert bob.accepted_at is None and cat.accepted_at is not None
    accepts = statements(qa_bot, ACCEPT)
    assert len(accepts) == 2 and accepts[-1]["id"] == question.accept_statement_id
    [void] = statements(qa_bot, VOIDED)
    assert void["object"]["id"] == first["id"]
    assert void["actor"] == GUILDBOT
    replies = thread_replies(qa_bot, q_ts)
    assert ["<@U0BOB>'s" in r["text"] for r in replies] == [True, False]
    assert "accepted <@U0CAT>'s answer" in replies[-1]["text"]

    # Taking back the ✅ on the replaced answer changes nothing.
    await check(qa_bot, "U0ANN", bob_ts, "Ev005", add=False)
    assert questions(qa_bot)[0].accepted_answer_id == cat.id
    assert len(statements(qa_bot, VOIDED)) == 1


async def test_removing_a_check_mark_retried_after_accepting_again_changes_nothing(
    qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    await check(qa_bot, "U0ANN", ts, "Ev002")
    await check(qa_bot, "U0ANN", ts, "Ev003", add=False)
    await check(qa_bot, "U0ANN", ts, "Ev004")
    [resolved] = questions(qa_bot)

    # Slack redelivers the removal it thinks was lost, after the ✅ was put back.
    status, _ = await check(qa_bot, "U0ANN", ts, "Ev003", add=False)

    assert status == 200
    [question] = questions(qa_bot)
    assert question.status == "resolved"
    assert question.accept_statement_id == resolved.accept_statement_id
    assert len(statements(qa_bot, VOIDED)) == 1


async def test_a_check_mark_retried_after_its_removal_changes_nothing(
    qa_bot: BotHarness,
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")
    await check(qa_bot, "U0ANN", ts, "Ev002")
    await check(qa_bot, "U0ANN", ts, "Ev003", add=False)

    # Slack redelivers the ✅ it thinks was lost, after the asker already took it back.
    status, _ = await check(qa_bot, "U0ANN", ts, "Ev002")

    assert status == 200
    [question] = questions(qa_bot)
    [voided] = statements(qa_bot, VOIDED)
    # Whatever the bot decides, it never points at an accept the LRS was told to void…
    assert question.accept_statement_id != voided["object"]["id"]
    # …and a retry counts once: the question stays open, nobody is thanked twice.
    assert question.status == "open"
    assert len(thread_replies(qa_bot, q_ts)) == 1


# Accepting by shortcut ---------------------------------------------------------------------------


async def test_the_asker_accepts_with_the_shortcut(qa_bot: BotHarness, slack: FakeSlack) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")

    status, _ = await qa_bot.shortcut("accept_answer", "U0ANN", slack.messages[(QA, ts)], QA)

    assert status == 200
    [question] = questions(qa_bot)
    [answer] = answers(qa_bot)
    assert question.status == "resolved" and question.accepted_answer_id == answer.id
    [accept] = statements(qa_bot, ACCEPT)
    assert accept["object"]["id"] == answer.answered_statement_id
    [announced] = thread_replies(qa_bot, q_ts)
    assert "accepted <@U0BOB>'s answer" in announced["text"]
    assert len(slack.responses) == 1  # only /ask's follow-up: no ephemeral on success

    # Running it again on the accepted answer changes nothing and says nothing.
    await qa_bot.shortcut("accept_answer", "U0ANN", slack.messages[(QA, ts)], QA)
    assert len(statements(qa_bot, ACCEPT)) == 1 and len(thread_replies(qa_bot, q_ts)) == 1
    assert len(slack.responses) == 1


async def test_anyone_else_gets_a_polite_no_from_the_shortcut(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    ts = await reply(qa_bot, "U0BOB", "Use a constraints file", q_ts, "Ev001")

    status, _ = await qa_bot.shortcut("accept_answer", "U0CAT", slack.messages[(QA, ts)], QA)

    assert status == 200
    no = slack.responses[-1]
    assert no["response_type"] == "ephemeral"
    assert "Only <@U0ANN>, who asked, can accept" in no["text"]
    assert questions(qa_bot)[0].status == "open"
    assert statements(qa_bot, ACCEPT) == []
    assert thread_replies(qa_bot, q_ts) == []


async def test_the_shortcut_on_a_message_that_is_not_an_answer_explains(
    qa_bot: BotHarness, slack: FakeSlack
) -> None:
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    own = slack.write(QA, "U0ANN", "Also: we use poetry", thread_ts=q_ts)
    elsewhere = slack.write("C0GENERAL", "U0BOB", "Use a constraints file")

    for channel, ts in ((QA, q_ts), (QA, own), ("C0GENERAL", elsewhere)):
        status, _ = await qa_bot.shortcut(
            "accept_answer", "U0ANN", slack.messages[(channel, ts)], channel
        )
        assert status == 200
        said = slack.responses[-1]
        assert said["response_type"] == "ephemeral"
        assert "isn't an answer in a question's thread" in said["text"]

    assert len(slack.responses) == 4
    assert questions(qa_bot)[0].status == "open"
    assert statements(qa_bot, ACCEPT) == []


# /expert -----------------------------------------------------------------------------------------


async def test_an_accepted_answer_ranks_its_author_higher_in_expert(
    qa_bot: BotHarness,
) -> None:
    for person in ("U0BOB", "U0CAT"):
        status, _ = await qa_bot.command("/skills", "add python:practitioner", person)
        assert status == 200
    q_ts, _ = await ask(qa_bot, "U0ANN", "How do I pin a python dependency? #python")
    await reply(qa_bot, "U0BOB", "Use requirements.txt", q_ts, "Ev001")
    cat_ts = await reply(qa_bot, "U0CAT", "Use a constraints file", q_ts, "Ev002")

    await check(qa_bot, "U0ANN", cat_ts, "Ev003")
    _, found = await qa_bot.command("/expert", "python", "U0ANN")

    ranked = places(found["blocks"])
    assert [p["user"] for p in ranked] == ["U0CAT", "U0BOB"]
    assert "1 accepted answer on #python" in ranked[0]["evidence"]
    assert "accepted answer" not in ranked[1]["evidence"]

    # Deleting the accepted answer takes the evidence away again.
    await delete(qa_bot, cat_ts, "Ev004")
    _, found = await qa_bot.command("/expert", "python", "U0ANN")
    assert all("accepted answer" not in p["evidence"] for p in places(found["blocks"]))
