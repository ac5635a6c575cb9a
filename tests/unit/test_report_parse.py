"""The report reads statements of both shapes an outbox may hold: those sent before guildbot's
xAPI Profile (accept of an answer activity, endorsement of a skill) and those after (accept of
the `answered` statement, endorsement of the person), and counts them alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.domain.reporting import parse
from bot.xapi import vocabulary as v
from bot.xapi.statements import AnswerFacts, Learner, StatementBuilder, XapiIdentity
from storage.repositories.reporting import StoredStatement

BASE = "https://acme.slack.com/guildbot"
WHEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ANSWERED = "4e6d48b9-6fda-577e-9307-041f56d5a5ab"
QUESTION = "0d5c3e9a-1f2b-5c4d-8e6f-7a8b9c0d1e2f"
ANN, BOB = Learner("U0ANN", "Ann"), Learner("U0BOB", "Bob")


def stored(statement: dict[str, Any], actor: str = "U0ANN") -> StoredStatement:
    return StoredStatement(statement["id"], actor, json.dumps(statement), WHEN)


def tag(slug: str) -> dict[str, Any]:
    return {"id": f"{BASE}/skills/{slug}", "definition": {"type": v.TAG}}


STATEMENTS = StatementBuilder(
    XapiIdentity("T0ACME", "https://acme.slack.com/", BASE, "account", False, "U0BOT")
)


def test_an_acceptance_credits_the_same_answer_in_either_shape() -> None:
    before = {
        "id": "7b0c1a2e-3d4f-5a6b-8c7d-9e0f1a2b3c4d",
        "verb": {"id": v.ACCEPT.id},
        "object": {"id": f"{BASE}/answers/a1", "definition": {"type": "x:solution"}},
        "context": {
            "statement": {"objectType": "StatementRef", "id": ANSWERED.upper()},
            "contextActivities": {"other": [tag("python")]},
        },
    }
    facts = AnswerFacts("a1", QUESTION, None, BOB, "", None, ("python",), "C0QA", WHEN)
    after = json.loads(STATEMENTS.accepted(ANN, facts, "Ev1", WHEN).body)

    old, new = parse(stored(before)), parse(stored(after))

    assert old.accepted_statement == ANSWERED
    assert new.accepted_statement == STATEMENTS.answered_id("a1")
    assert old.tags == new.tags == ("python",)
    assert old.capability == new.capability == "qa"


def test_an_endorsement_counts_for_the_same_person_and_skill_in_either_shape() -> None:
    before = {
        "id": "8b0c1a2e-3d4f-5a6b-8c7d-9e0f1a2b3c4d",
        "verb": {"id": v.LIKE.id},
        "object": tag("python"),
        "context": {
            "contextActivities": {
                "other": [{"id": f"{BASE}/people/U0BOB", "definition": {"type": v.USER_PROFILE}}]
            }
        },
    }
    after = json.loads(STATEMENTS.endorsed(ANN, BOB, "python", "T1", WHEN).body)

    old, new = parse(stored(before)), parse(stored(after))

    assert old.endorsed == new.endorsed == "U0BOB"
    assert old.tags == new.tags == ("python",)
