"""A question goes only to people who know in its own workspace: an expert elsewhere, of the
same skill and even of the same user id, is never routed it."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from bot.domain.routing import ROUTED_DM
from storage.models import Question, QuestionRoute, SlackEffect
from tests.isolation.conftest import Side

pytestmark = pytest.mark.usefixtures("no_listener_failures")


def routes(side: Side) -> list[tuple[str, str]]:
    """(workspace of the question, person) of every route."""
    with side.bot.database.reading() as session:
        rows = session.exec(
            select(Question.team_id, QuestionRoute.user_id).join(
                QuestionRoute, QuestionRoute.question_id == Question.id
            )
        )
        return sorted((team, user) for team, user in rows)


def owed_dms(side: Side) -> list[tuple[str, str]]:
    """(workspace, person) of every routed-question DM owed."""
    with side.bot.database.reading() as session:
        rows = session.exec(select(SlackEffect).where(SlackEffect.kind == ROUTED_DM))
        return sorted((r.team_id, json.loads(r.payload)["user"]) for r in rows)


async def test_questions_are_routed_to_their_own_workspaces_experts_only(a: Side, b: Side) -> None:
    for user in ("U0ZED", "U0YAN", "U0CAT"):
        await b.command("/skills", "add python:expert", user)
    await b.command("/kudos", "<@U0CAT> for the packaging fix #python", "U0ZED")
    await a.command("/skills", "add python:practitioner", "U0BOB")

    await a.command("/ask", "How do we pin the python version in CI? #python", "U0ANN")

    assert routes(a) == [(a.team_id, "U0BOB")]
    assert owed_dms(a) == [(a.team_id, "U0BOB")]
    opened = [c["users"] for c in a.slack.calls_to("conversations.open")]
    assert opened == ["U0BOB"]

    await b.command("/ask", "How do we pin the python version in CI? #python", "U0ANN")

    assert routes(b) == [(a.team_id, "U0BOB")] + [
        (b.team_id, user) for user in ("U0CAT", "U0YAN", "U0ZED")
    ]


def declined(side: Side) -> list[tuple[str, str]]:
    """(workspace, person) of every route declined with Not my area."""
    with side.bot.database.reading() as session:
        rows = session.exec(
            select(QuestionRoute).where(col(QuestionRoute.declined_at).is_not(None))
        )
        return sorted((r.team_id, r.user_id) for r in rows)


async def test_not_my_area_with_another_workspaces_question_changes_nothing(
    a: Side, b: Side
) -> None:
    await b.command("/skills", "add python:expert", "U0BOB")
    await b.command("/ask", "How do we pin the python version in CI? #python", "U0ZED")
    with b.bot.database.reading() as session:
        [question] = session.exec(select(Question).where(Question.team_id == b.team_id))
    assert routes(b) == [(b.team_id, "U0BOB")]
    since = len(a.slack.responses)

    await a.press("route_decline", question.id, "U0BOB")

    assert declined(a) == []
    assert "python" not in json.dumps(a.slack.responses[since:])
    await b.press("route_decline", question.id, "U0BOB")
    assert declined(b) == [(b.team_id, "U0BOB")]
