"""/faq through signed requests into the real app, with Slack faked: questions asked, answered
and accepted the real way (`/ask`, a reply in the thread, the asker's ✅), then searched."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack, reaction_event

QA = "C0QA"
CHECK = "white_check_mark"


pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def qa_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack, QA_CHANNEL=QA), slack).start()
    yield harness
    await harness.close()


# Helpers ---------------------------------------------------------------------------------------


def permalink(ts: str) -> str:
    return f"https://acme.slack.com/archives/{QA}/p{ts.replace('.', '')}"


async def ask(bot: BotHarness, asker: str, question: str) -> str:
    """`/ask`; returns the ts of the question's post in the Q&A channel."""
    status, _ = await bot.command("/ask", question, asker)
    assert status == 200
    [post] = bot.slack.calls_to("chat.postMessage")[-1:]
    assert post["channel"] == QA
    return next(ts for (channel, ts), m in bot.slack.messages.items() if m["text"] == post["text"])


async def answer(bot: BotHarness, answerer: str, question_ts: str, text: str, event_id: str) -> str:
    """A reply in the question's thread; returns its ts."""
    ts = bot.slack.write(QA, answerer, text, thread_ts=question_ts)
    event = {"type": "message", "channel": QA, "user": answerer, "text": text}
    await bot.event({**event, "ts": ts, "thread_ts": question_ts}, event_id)
    return ts


async def check(bot: BotHarness, asker: str, ts: str, event_id: str, add: bool = True) -> None:
    """The asker's ✅ on a reply (or taking it back)."""
    author = bot.slack.messages[(QA, ts)].get("user")
    bot.slack.react(QA, ts, CHECK, asker, add=add)
    kind = "reaction_added" if add else "reaction_removed"
    await bot.event(reaction_event(kind, asker, CHECK, QA, ts, author), event_id)


async def edit(
    bot: BotHarness, user: str, ts: str, thread_ts: str, text: str, event_id: str
) -> None:
    """Slack's `message_changed` for an edited reply."""
    before = dict(bot.slack.messages[(QA, ts)])
    bot.slack.messages[(QA, ts)]["text"] = text
    message = {"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": thread_ts}
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": QA,
        "hidden": True,
        "message": {**message, "edited": {"user": user, "ts": "1764600000.000100"}},
        "previous_message": before,
        "ts": "1764600000.000200",
    }
    await bot.event(event, event_id)


async def delete(bot: BotHarness, ts: str, event_id: str) -> None:
    """Slack's `message_deleted` for a deleted reply."""
    before = bot.slack.messages.pop((QA, ts))
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": QA,
        "hidden": True,
        "deleted_ts": ts,
        "previous_message": before,
        "ts": "1764600001.000100",
    }
    await bot.event(event, event_id)


async def faq(bot: BotHarness, typed: str, user: str = "U0CAT") -> dict[str, Any]:
    status, reply = await bot.command("/faq", typed, user)
    assert status == 200
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return reply


def hits(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """Each result as {question, answer, about}: its section's lines and the context under it."""
    blocks = reply.get("blocks") or []
    found = []
    for block, after in itertools.pairwise(blocks):
        if block["type"] == "section" and block["text"]["text"].startswith(f"*{len(found) + 1}.*"):
            question, _, answer = block["text"]["text"].partition("\n>")
            about = after["elements"][0]["text"]
            found.append({"question": question, "answer": answer, "about": about})
    return found


async def ask_answer_accept(
    bot: BotHarness, question: str, answer_text: str, key: str
) -> tuple[str, str]:
    """Ann asks, Bob answers, Ann accepts with ✅; returns (question ts, answer ts)."""
    question_ts = await ask(bot, "U0ANN", question)
    answer_ts = await answer(bot, "U0BOB", question_ts, answer_text, f"{key}-reply")
    await check(bot, "U0ANN", answer_ts, f"{key}-check")
    return question_ts, answer_ts


# Usage -----------------------------------------------------------------------------------------


async def test_no_words_or_help_shows_usage(qa_bot: BotHarness) -> None:
    for typed in ("", "help", "  Help "):
        reply = await faq(qa_bot, typed)
        assert "/faq &lt;words&gt;" in reply["text"], typed
        assert "blocks" not in reply


async def test_guild_help_lists_faq(qa_bot: BotHarness) -> None:
    _, reply = await qa_bot.command("/guild", "help", "U0ANN")
    assert "/faq" in json.dumps(reply)


# Results ---------------------------------------------------------------------------------------


async def test_an_accepted_answer_is_found_with_its_question_snippet_and_links(
    qa_bot: BotHarness,
) -> None:
    question_ts, answer_ts = await ask_answer_accept(
        qa_bot,
        "How do I rotate the staging database password?",
        "Open the vault UI, rotate staging-db, then restart the payments pods.",
        "Ev1",
    )

    reply = await faq(qa_bot, "rotate password")

    [hit] = hits(reply)
    assert hit["question"] == ("*1.* :question: How do I *rotate* the staging database *password*?")
    assert "*rotate*" in hit["answer"] and "vault" in hit["answer"]
    assert hit["about"].startswith("Answer by <@U0BOB>, accepted <!date^")
    assert f"<{permalink(answer_ts)}|the answer>" in hit["about"]
    assert f"<{permalink(question_ts)}|the thread>" in hit["about"]
    assert reply["text"].startswith("Answered questions for “rotate password”")
    # Words of the answer find it too; the reply ends with the offer to ask anyway.
    assert len(hits(await faq(qa_bot, "payments pods"))) == 1
    assert reply["blocks"][-1]["elements"][0]["text"] == (
        "Not it? Ask the people who know with `/ask` and a question of at least 3 words: "
        "`/ask rotate password …`"
    )


async def test_open_questions_and_answers_not_accepted_are_not_found(qa_bot: BotHarness) -> None:
    question_ts = await ask(qa_bot, "U0ANN", "Where do the office plants get watered?")
    await answer(qa_bot, "U0BOB", question_ts, "Facilities waters them on Fridays.", "Ev1")

    assert hits(await faq(qa_bot, "plants")) == []
    assert hits(await faq(qa_bot, "facilities")) == []


async def test_taking_the_check_back_editing_and_deleting_the_answer_are_followed(
    qa_bot: BotHarness,
) -> None:
    question_ts, answer_ts = await ask_answer_accept(
        qa_bot, "Which VPN profile works from the Lisbon office?", "The corporate one.", "Ev1"
    )
    assert len(hits(await faq(qa_bot, "lisbon vpn"))) == 1

    await check(qa_bot, "U0ANN", answer_ts, "Ev2", add=False)
    assert hits(await faq(qa_bot, "lisbon vpn")) == []

    await check(qa_bot, "U0ANN", answer_ts, "Ev3")
    await edit(qa_bot, "U0BOB", answer_ts, question_ts, "Use the zero trust client.", "Ev4")
    [hit] = hits(await faq(qa_bot, "zero trust"))
    assert hit["answer"] == "Use the *zero* *trust* client."
    assert hits(await faq(qa_bot, "corporate")) == []

    await delete(qa_bot, answer_ts, "Ev5")
    assert hits(await faq(qa_bot, "lisbon")) == []


async def test_the_best_five_come_first(qa_bot: BotHarness) -> None:
    await ask_answer_accept(
        qa_bot,
        "How do I restart a kubernetes deployment?",
        "kubectl rollout restart restarts every kubernetes pod in turn.",
        "Ev0",
    )
    for n in range(1, 7):
        await ask_answer_accept(
            qa_bot,
            f"Which meeting room is free for demo number {n}?",
            f"Room {n}, next to the kubernetes guild's corner.",
            f"Ev{n}",
        )

    reply = await faq(qa_bot, "kubernetes")

    found = hits(reply)
    assert len(found) == 5
    assert "restart a *kubernetes* deployment" in found[0]["question"]


# Nothing found ---------------------------------------------------------------------------------


async def test_nothing_found_says_so_and_offers_ask_with_their_words(qa_bot: BotHarness) -> None:
    await ask_answer_accept(qa_bot, "Where is the parking garage?", "Level minus two.", "Ev1")

    reply = await faq(qa_bot, "How do I expense a taxi at night?")

    assert reply["text"] == "No answered question matches “How do I expense a taxi at night?” yet."
    [block] = reply["blocks"]
    assert "`/ask How do I expense a taxi at night?`" in block["text"]["text"]
    # Too short to be asked as it is: the offer says to make it a question.
    reply = await faq(qa_bot, "taxi")
    assert reply["blocks"][0]["text"]["text"].endswith(
        "with `/ask` and a question of at least 3 words: `/ask taxi …`"
    )


async def test_search_syntax_is_just_text(qa_bot: BotHarness) -> None:
    await ask_answer_accept(qa_bot, "How do I rotate the vault token?", "Use the vault CLI.", "Ev1")

    for typed in ('"', "NEAR(", "-", "*", "&lt;&gt;", "OR"):
        reply = await faq(qa_bot, typed)
        assert reply["text"].startswith("No answered question matches"), typed
    for typed in ('"vault', 'vault"', "(vault", "vault OR", "vault*", "-vault", "vault:*"):
        assert len(hits(await faq(qa_bot, typed))) == 1, typed


async def test_without_a_qa_channel_search_works_and_says_q_and_a_is_not_set_up(
    bot: BotHarness,
) -> None:
    reply = await faq(bot, "parking garage")

    [block] = reply["blocks"]
    assert "QA_CHANNEL" in block["text"]["text"]
    assert "/ask" not in block["text"]["text"]


async def test_a_search_is_recorded_as_an_xapi_search_of_the_faq_without_its_words(
    qa_bot: BotHarness,
) -> None:
    from sqlmodel import select

    from storage.models import OutboxStatement

    await faq(qa_bot, "rotate the staging password")

    with qa_bot.database.reading() as session:
        bodies = [json.loads(r.body) for r in session.exec(select(OutboxStatement))]
    [searched] = [b for b in bodies if b["verb"]["id"] == "http://activitystrea.ms/search"]
    assert searched["actor"]["account"]["name"] == "U0CAT"
    assert searched["object"]["id"].endswith("/faq")
    assert "staging" not in json.dumps(searched)
