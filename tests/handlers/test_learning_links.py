"""What links the capabilities: kudos for an answer, knowledge gaps and the sessions they
suggest, all through signed requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.models import OutboxStatement
from tests.handlers.test_lunchlearn import form as form_values
from tests.handlers.test_questions import ask, reply
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack, reaction_event

QA = "C0QA"


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack, clock: SettableClock) -> AsyncIterator[BotHarness]:
    settings = settings_for(tmp_path, slack, QA_CHANNEL=QA, LND_ADMINS="U0ANN")
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


def statements(bot: BotHarness, verb: str) -> list[dict[str, Any]]:
    with bot.database.reading() as session:
        bodies = [json.loads(r.body) for r in session.exec(select(OutboxStatement))]
    return [b for b in bodies if b["verb"]["id"].endswith(verb)]


async def test_kudos_for_an_answer_reference_the_answers_statement(bot: BotHarness) -> None:
    question_ts, _ = await ask(bot, "U0ANN", "How do I profile a slow python script? #python")
    answer_ts = await reply(bot, "U0BOB", "Use cProfile and snakeviz", question_ts, "Ev1")
    [answered] = statements(bot, "/answered")

    bot.slack.react(QA, answer_ts, "trophy", "U0CAT")
    await bot.event(
        reaction_event("reaction_added", "U0CAT", "trophy", QA, answer_ts, "U0BOB"), "Ev2"
    )

    [give] = statements(bot, "/give")
    assert give["context"]["statement"] == {"objectType": "StatementRef", "id": answered["id"]}


async def test_gaps_list_skills_whose_questions_go_unanswered_and_suggest_a_session(
    bot: BotHarness, clock: SettableClock
) -> None:
    await bot.command("/skills", "add kubernetes, python", "U0CAT")
    await ask(bot, "U0ANN", "How do I drain a kubernetes node safely? #kubernetes")
    python_ts, _ = await ask(bot, "U0ANN", "How do I profile a slow python script? #python")
    clock.now += timedelta(hours=30)
    await reply(bot, "U0BOB", "Use cProfile", python_ts, "Ev1")

    _, listed = await bot.command("/lunchlearn", "gaps", "U0ANN")

    lines = [b for b in listed["blocks"] if b["type"] == "section"]
    assert [line["text"]["text"].split("`")[1] for line in lines] == ["#kubernetes", "#python"]
    assert "1 unanswered" in lines[0]["text"]["text"]
    assert "1 answered slowly" in lines[1]["text"]["text"]
    suggest = lines[1]["accessory"]
    assert suggest["action_id"] == "lunch_suggest_for_gap"

    await bot.press(suggest["action_id"], suggest["value"], "U0ANN")

    [form] = bot.opened_views()
    text = json.dumps(form)
    assert '"initial_value": "#python"' in text
    assert '"initial_user": "U0BOB"' in text  # who answered most on it

    # Even with the topic taken out, the session's statement references the gap's skill.
    values = form_values(tags="", start=clock.now + timedelta(days=3))
    status, ack = await bot.submit(form, values, "U0ANN", view_id="V0GAP")
    assert status == 200 and "response_action" not in ack, ack
    [scheduled] = statements(bot, "/schedule")
    other = scheduled["context"]["contextActivities"]["other"]
    assert [a["id"].rsplit("/", 1)[-1] for a in other] == ["python"]


async def test_gaps_offer_no_scheduling_to_people_outside_l_and_d(bot: BotHarness) -> None:
    await ask(bot, "U0ANN", "How do I drain a kubernetes node safely? #kubernetes")

    _, listed = await bot.command("/lunchlearn", "gaps", "U0BOB")
    [line] = [b for b in listed["blocks"] if b["type"] == "section"]
    assert "accessory" not in line
    await bot.press("lunch_suggest_for_gap", "kubernetes", "U0BOB")
    assert bot.opened_views() == []
    assert "Only L&D admins" in bot.slack.responses[-1]["text"]


async def test_an_echoed_gap_is_folded_like_a_typed_skill_name(
    bot: BotHarness, clock: SettableClock
) -> None:
    await ask(bot, "U0ANN", "How do I drain a kubernetes node safely? #kubernetes")
    _, listed = await bot.command("/lunchlearn", "gaps", "U0ANN")
    [line] = [b for b in listed["blocks"] if b["type"] == "section"]
    await bot.press(line["accessory"]["action_id"], line["accessory"]["value"], "U0ANN")
    [form] = bot.opened_views()
    # What a client could send back instead of the gap's skill.
    form["private_metadata"] = json.dumps({"gap": '=HYPERLINK("https://evil.example","K8s")'})

    values = form_values(tags="", start=clock.now + timedelta(days=3))
    status, ack = await bot.submit(form, values, "U0ANN", view_id="V0GAP")

    assert status == 200 and "response_action" not in ack, ack
    [scheduled] = statements(bot, "/schedule")
    other = scheduled["context"]["contextActivities"]["other"]
    assert [a["id"].rsplit("/", 1)[-1] for a in other] == ["hyperlinkhttps-evil.examplek8s"]
