"""Erasure's pure rules: what names a person, how their mentions read afterwards, and which
statements may already be in the LRS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.erasure import (
    FORMER_COLLEAGUE,
    being_sent,
    may_have_reached_lrs,
    names_person,
    without_mentions,
)
from bot.xapi.statements import Learner, StatementBuilder, XapiIdentity
from storage.repositories.outbox import OutboxEntry

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANN = Learner("U0ANN", "Ann", "Ann.Lovelace@example.com")
BOB = Learner("U0BOB", "Bob", "bob@example.com")


def builder(actor_mode: str = "account") -> StatementBuilder:
    return StatementBuilder(
        XapiIdentity("T0ACME", "https://acme.slack.com/", "https://g.example.com/xapi", actor_mode)
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (builder().skill_changed(ANN, "python", "expert", "c", NOW).body, True),
        # Bob endorses Ann: she is an agent in an extension and a profile activity.
        (builder().endorsed(BOB, ANN, "python", "c", NOW).body, True),
        (builder().endorsed(ANN, BOB, "python", "c", NOW).body, True),
        (builder().skill_changed(BOB, "python", "expert", "c", NOW).body, False),
        # Someone whose id starts like hers is someone else.
        (builder().skill_changed(Learner("U0ANNA"), "python", None, "c", NOW).body, False),
        (json.dumps({"result": {"response": "ask <@U0ANN|ann> about it"}}), True),
        # With XAPI_ACTOR=email her address is the agent (matched whatever its case).
        (builder("email").endorsed(BOB, ANN, "python", "c", NOW).body, True),
    ],
)
def test_a_statement_names_the_person_by_id_or_address_anywhere(body: str, named: bool) -> None:
    assert names_person(body, "U0ANN", ["ann.lovelace@example.com"]) is named


def test_without_an_address_an_email_actor_is_not_recognised_by_id() -> None:
    body = builder("email").skill_changed(ANN, "python", "expert", "c", NOW).body
    assert "U0ANN" not in body
    assert not names_person(body, "U0ANN")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("thanks <@U0ANN> for the review", f"thanks {FORMER_COLLEAGUE} for the review"),
        ("ask <@U0ANN|ann> or <@U0BOB>", f"ask {FORMER_COLLEAGUE} or <@U0BOB>"),
        ("U0ANN, U0ANNA", f"{FORMER_COLLEAGUE}, U0ANNA"),
        ("nothing about her", "nothing about her"),
    ],
)
def test_mentions_of_the_person_read_a_former_colleague(typed: str, shown: str) -> None:
    assert without_mentions(typed, "U0ANN") == shown


def entry(
    status: str = "pending", attempts: int = 0, claimed_until: datetime | None = None
) -> OutboxEntry:
    return OutboxEntry("s1", "U0ANN", "{}", False, status, attempts, claimed_until)


@pytest.mark.parametrize(
    ("row", "maybe", "sending"),
    [
        (entry(), False, False),
        (entry("sent"), True, False),
        # Tried before, the answer lost: the LRS may have stored it.
        (entry(attempts=1), True, False),
        # A forwarder is posting it right now.
        (entry(claimed_until=NOW + timedelta(minutes=1)), True, True),
        # Its lease ran out mid-send (the process died): it may have arrived.
        (entry(claimed_until=NOW - timedelta(minutes=1)), True, False),
        # The LRS refused it: it never got in.
        (entry("dead", attempts=3), False, False),
    ],
)
def test_what_may_already_be_in_the_lrs(row: OutboxEntry, maybe: bool, sending: bool) -> None:
    assert may_have_reached_lrs(row) is maybe
    assert being_sent(row, NOW) is sending
