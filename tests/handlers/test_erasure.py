"""Erasure (`guildbot forget`) after a person used every capability: nothing of theirs stays."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.erasure import forget_person
from storage.models import Answer, OutboxStatement, PersonSkill, Question, SkillStanding
from storage.repositories import outbox as outbox_repo
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack, reaction_event

QA = "C0QA"


@pytest.fixture
async def qa_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack, QA_CHANNEL=QA), slack).start()
    yield harness
    await harness.close()


async def ask_and_accept(bot: BotHarness, asker: str, answerer: str, event_id: str) -> str:
    await bot.command("/ask", "How do I profile a slow python script?", asker)
    [question_ts] = [ts for (channel, ts), m in bot.slack.messages.items() if channel == QA][-1:]
    reply = bot.slack.write(QA, answerer, "Use cProfile and snakeviz", thread_ts=question_ts)
    message = {"type": "message", "channel": QA, "user": answerer, "text": "Use cProfile"}
    await bot.event({**message, "ts": reply, "thread_ts": question_ts}, f"{event_id}-reply")
    bot.slack.react(QA, reply, "white_check_mark", asker)
    check = reaction_event("reaction_added", asker, "white_check_mark", QA, reply, answerer)
    await bot.event(check, f"{event_id}-check")
    return reply


def rows(bot: BotHarness, model: type) -> list:
    with bot.database.reading() as session:
        return list(session.exec(select(model)))


async def test_forgetting_an_asker_removes_their_questions_and_what_their_acceptance_gave(
    qa_bot: BotHarness,
) -> None:
    await qa_bot.command("/skills", "add python", "U0BOB")
    await ask_and_accept(qa_bot, "U0ANN", "U0BOB", "Ev1")
    await qa_bot.command("/expert", "python", "U0ANN")
    [bob] = [s for s in rows(qa_bot, SkillStanding) if s.user_id == "U0BOB"]
    assert bob.answers == 1
    with qa_bot.database.transaction() as session:
        sent = [r.statement_id for r in session.exec(select(OutboxStatement))]
        outbox_repo.mark_sent(session, sent, datetime.now(UTC))

    forget_person(
        qa_bot.database,
        qa_bot.services.statements,
        TEAM_ID,
        "U0ANN",
        datetime.now(UTC),
    )

    assert rows(qa_bot, Question) == [] and rows(qa_bot, Answer) == []
    # Bob keeps his declared skill, but the acceptance by Ann no longer counts for him.
    [bob] = [s for s in rows(qa_bot, SkillStanding) if s.user_id == "U0BOB"]
    assert (bob.answers, bob.score) == (0, 2.0)
    assert [p.slug for p in rows(qa_bot, PersonSkill)] == ["python"]
    # Everything Ann did was voided: her question, her acceptance, her search.
    remaining = rows(qa_bot, OutboxStatement)
    voided = {json.loads(r.body)["object"]["id"] for r in remaining if r.voiding}
    anns = {r.statement_id for r in remaining if not r.voiding and r.actor_id == "U0ANN"}
    assert anns == set()
    verbs = {
        json.loads(r.body)["verb"]["id"].rsplit("/", 1)[-1]
        for r in remaining
        if not r.voiding and r.statement_id not in voided
    }
    assert verbs == {"add", "answered"}  # Bob's own records stay
    assert not any('"name":"U0ANN"' in r.body for r in remaining if not r.voiding)
