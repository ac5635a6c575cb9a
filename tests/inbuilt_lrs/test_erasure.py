"""Erasure and the inbuilt LRS: `guildbot forget --user` and `/skills forget me` leave nothing
about the person there, neither guildbot's statements nor what other systems stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.clock import utcnow
from bot.domain import erasure
from bot.domain.people import Profile
from storage.repositories import outbox as outbox_repo
from tests.support.harness import BotHarness
from tests.support.slack import TEAM_ID, WORKSPACE_URL
from tests.support.xapi import XapiClient

pytestmark = pytest.mark.usefixtures("no_listener_failures")

BOB = {"objectType": "Agent", "account": {"homePage": WORKSPACE_URL, "name": "U0BOB"}}
CAT = {"objectType": "Agent", "account": {"homePage": WORKSPACE_URL, "name": "U0CAT"}}


def attended(agent: dict[str, object], course: str) -> dict[str, object]:
    return {
        "actor": agent,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": f"https://lms.example.com/courses/{course}"},
    }


async def test_forgetting_a_person_leaves_nothing_about_them_in_the_inbuilt_lrs(
    bot: BotHarness, lrs: XapiClient
) -> None:
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
    await bot.command("/kudos", "<@U0CAT> for the careful review", "U0ANN")
    [from_lms] = (await lrs.request("POST", "statements", body=attended(BOB, "safety"))).json
    [kept] = (await lrs.request("POST", "statements", body=attended(CAT, "safety"))).json
    state = {"activityId": "https://lms.example.com/courses/safety", "agent": json.dumps(BOB)}
    await lrs.request("PUT", "activities/state", {**state, "stateId": "resume"}, {"page": 2})
    with bot.database.reading() as session:
        naming_bob = [
            json.loads(body)["id"]
            for body in outbox_repo.bodies_since(session, datetime(2000, 1, 1, tzinfo=UTC))
            if "U0BOB" in body
        ]
    assert len(naming_bob) == 2  # Ann's kudos to him (he is in an extension), his receiving it

    erased = erasure.forget_person(
        bot.database, bot.services.statements, TEAM_ID, "U0BOB", utcnow()
    )

    assert erased.inbuilt_lrs_deleted == 1
    assert await lrs.all_statements(agent=json.dumps(BOB), related_agents="true") == []
    for statement_id in [*naming_bob, from_lms]:
        assert (await lrs.statements(statementId=statement_id)).status == 404
        assert (await lrs.statements(voidedStatementId=statement_id)).status == 404
    assert (await lrs.request("GET", "activities/state", state)).json == []
    assert (await lrs.statements(statementId=kept)).status == 200


async def test_forgetting_ones_skills_removes_the_skill_statements_from_the_inbuilt_lrs(
    bot: BotHarness, reader: XapiClient
) -> None:
    await bot.command("/skills", "add python:expert", "U0BOB")
    assert len((await reader.statements(agent=json.dumps(BOB))).json["statements"]) == 1

    bot.services.skills.forget(TEAM_ID, Profile("U0BOB", "Bob"))  # `/skills forget me`, confirmed

    assert (await reader.statements(agent=json.dumps(BOB))).json["statements"] == []
