"""`/expert`, `/faq` and `/ask`'s similar questions find only their own workspace's people,
skills and answers, even where the other workspace uses the same skill names and words."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sqlmodel import select

from storage.models import Answer, Question
from tests.isolation.conftest import QA, Side
from tests.support.slack import reaction_event

pytestmark = pytest.mark.usefixtures("no_listener_failures")

_EVENTS = itertools.count(1)


async def declare(side: Side, user: str, skills: str) -> None:
    reply = await side.command("/skills", f"add {skills}", user)
    assert reply["text"].startswith(("Added", "Updated")), reply


async def ask(side: Side, asker: str, question: str) -> str:
    """`/ask`; returns the ts of the question's post in the Q&A channel."""
    await side.command("/ask", question, asker)
    [post] = [c for c in side.slack.calls_to("chat.postMessage") if c["channel"] == QA][-1:]
    return next(ts for (_, ts), m in side.slack.messages.items() if m["text"] == post["text"])


async def answered_and_accepted(
    side: Side, asker: str, answerer: str, question: str, answer: str
) -> None:
    """Asked with `/ask`, answered in its thread, accepted with the asker's ✅."""
    question_ts = await ask(side, asker, question)
    ts = side.slack.write(QA, answerer, answer, thread_ts=question_ts)
    reply = {"type": "message", "channel": QA, "user": answerer, "text": answer}
    await side.event({**reply, "ts": ts, "thread_ts": question_ts}, f"Ev{next(_EVENTS)}")
    side.slack.react(QA, ts, "white_check_mark", asker)
    check = reaction_event("reaction_added", asker, "white_check_mark", QA, ts, answerer)
    await side.event(check, f"Ev{next(_EVENTS)}")


def shown(reply: dict[str, Any]) -> str:
    return json.dumps(reply)


async def test_expert_ranks_only_the_workspaces_own_people(a: Side, b: Side) -> None:
    await declare(b, "U0ZED", "python:expert")
    await b.command("/kudos", "<@U0ZED> for the clear python review #python", "U0YAN")
    await declare(a, "U0BOB", "python:learning")

    in_a = await a.command("/expert", "python", "U0ANN")
    in_b = await b.command("/expert", "python", "U0ANN")

    assert "<@U0BOB>" in shown(in_a)
    assert "U0ZED" not in shown(in_a) and "kudos for" not in shown(in_a)
    assert "<@U0ZED>" in shown(in_b) and "U0BOB" not in shown(in_b)


async def test_evidence_for_the_same_person_id_stays_in_its_workspace(a: Side, b: Side) -> None:
    # Bob is an endorsed expert with kudos in B; in A he only says he is learning.
    await declare(b, "U0BOB", "python:expert")
    await b.command("/kudos", "<@U0BOB> for the clear python review #python", "U0ZED")
    await b.press(
        "skill_endorse",
        json.dumps({"user": "U0BOB", "skill": "python", "from": "profile"}),
        "U0YAN",
    )
    await declare(a, "U0BOB", "python:learning")

    in_a = shown(await a.command("/expert", "python", "U0ANN"))
    profile_in_a = shown(await a.command("/skills", "<@U0BOB>", "U0ANN"))

    assert "learning (declared)" in in_a
    for evidence in ("expert (declared)", "kudos for", "endorsed by"):
        assert evidence not in in_a
        assert evidence not in profile_in_a


async def test_a_skill_only_the_other_workspace_knows_is_not_suggested(a: Side, b: Side) -> None:
    await declare(b, "U0ZED", "zigbee-mesh:expert")
    await declare(a, "U0BOB", "python")

    reply = shown(await a.command("/expert", "zigbee-mes", "U0ANN"))

    assert "zigbee-mesh" not in reply and "U0ZED" not in reply


async def test_the_skill_picker_offers_only_the_workspaces_own_skills(a: Side, b: Side) -> None:
    await declare(b, "U0ZED", "zigbee-mesh")
    await declare(a, "U0BOB", "zigbee-radio")
    await a.press("skills_edit", "", "U0ANN")
    [view] = [c["view"] for c in a.slack.calls_to("views.open")]

    offered = [o["value"] for o in await a.suggest(view, "skills_pick", "skills", "zigb", "U0ANN")]

    assert offered == ["zigb", "zigbee-radio"]


async def test_faq_finds_only_the_workspaces_own_answers(a: Side, b: Side) -> None:
    await answered_and_accepted(
        b,
        "U0ZED",
        "U0YAN",
        "How do I rotate the staging database password?",
        "Open the vault UI and rotate staging-db.",
    )
    await answered_and_accepted(
        a,
        "U0ANN",
        "U0BOB",
        "How do I rotate the staging database password?",
        "Ask the platform team in #platform-help.",
    )

    in_a = shown(await a.command("/faq", "rotate password", "U0CAT"))
    in_b = shown(await b.command("/faq", "rotate password", "U0CAT"))

    assert "platform" in in_a and "vault" not in in_a and "U0YAN" not in in_a
    assert "vault" in in_b and "platform" not in in_b and "U0BOB" not in in_b


async def test_faq_with_nothing_in_the_workspace_finds_nothing(a: Side, b: Side) -> None:
    await answered_and_accepted(
        b, "U0ZED", "U0YAN", "Where is the kafka runbook kept?", "In the ops wiki, under kafka."
    )

    reply = shown(await a.command("/faq", "kafka runbook", "U0ANN"))

    assert "ops wiki" not in reply and "U0YAN" not in reply
    assert "ops wiki" in shown(await b.command("/faq", "kafka runbook", "U0ANN"))


async def test_ask_offers_only_the_workspaces_own_answered_questions(a: Side, b: Side) -> None:
    await answered_and_accepted(
        b,
        "U0ZED",
        "U0YAN",
        "How do we pin the python version in CI? #python",
        "Use the version file in the repository root.",
    )

    def told_since(start: int) -> str:
        return shown(a.slack.responses[start:])

    start = len(a.slack.responses)
    await a.command("/ask", "How do we pin the python version in CI? #python", "U0ANN")
    in_a = told_since(start)
    start = len(b.slack.responses)
    await b.command("/ask", "How do we pin the python version in CI? #python", "U0YAN")
    in_b = told_since(start)

    assert "I posted" in in_a and "Already answered" not in in_a
    assert "Already answered" in in_b and "pin the python version" in in_b


async def test_a_reply_from_another_workspace_is_not_an_answer(a: Side, b: Side) -> None:
    # The same Q&A channel id in both (as a channel shared between them would be).
    question_ts = await ask(b, "U0ZED", "Where is the zookeeper runbook kept?")
    ts = a.slack.write(QA, "U0BOB", "In the ops wiki.", thread_ts=question_ts)
    reply = {"type": "message", "channel": QA, "user": "U0BOB", "text": "In the ops wiki."}
    await a.event({**reply, "ts": ts, "thread_ts": question_ts}, f"Ev{next(_EVENTS)}")
    a.slack.react(QA, ts, "white_check_mark", "U0ZED")
    check = reaction_event("reaction_added", "U0ZED", "white_check_mark", QA, ts, "U0BOB")
    await b.event(check, f"Ev{next(_EVENTS)}")

    with b.bot.database.reading() as session:
        assert list(session.exec(select(Answer))) == []
        [question] = session.exec(select(Question))
    assert (question.team_id, question.status) == (b.team_id, "open")
    assert "ops wiki" not in shown(await b.command("/faq", "zookeeper runbook", "U0ANN"))
