"""Statement builders (bot/xapi/statements.py): valid xAPI, house rules, stable bytes."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from bot.domain.people import Profile
from bot.xapi import vocabulary as v
from bot.xapi.statements import (
    AnswerFacts,
    BuiltStatement,
    KudosFacts,
    Learner,
    QuestionFacts,
    SessionFacts,
    StatementBuilder,
    XapiIdentity,
    derived_id,
    xapi_timestamp,
)
from handlers.people import profile_from_slack

HOME = "https://acme.slack.com/"
BASE = "https://guild.example.com/xapi"
WHEN = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
ANN = Learner("U0ANN", "Ann", "ann@example.com")
BOB = Learner("U0BOB", "Bob", "bob@example.com")
NO_EMAIL = Learner("U0CAT", "Cat")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


BOT_USER = "U0GUILDBOT"


def builder(actor_mode: str = "account", include_text: bool = False) -> StatementBuilder:
    return StatementBuilder(
        XapiIdentity("T0ACME", HOME, BASE + "/", actor_mode, include_text, BOT_USER)
    )


def facts(
    giver: Learner = ANN,
    receiver: Learner = BOB,
    skills: tuple[str, ...] = (),
    values: tuple[str, ...] = (),
    timestamp: datetime = WHEN,
) -> KudosFacts:
    return KudosFacts(
        kudos_id="5e1d3c8a-0f7b-5d0e-9a61-3c2f1e0d9b8a",
        giver=giver,
        receiver=receiver,
        reason="for the clear incident write-up – merci",
        values=values,
        skills=skills,
        channel_id="C0GENERAL",
        permalink="https://acme.slack.com/archives/C0GENERAL/p1709371815000100",
        timestamp=timestamp,
    )


def every_statement(statements: StatementBuilder) -> list[BuiltStatement]:
    give, receive = statements.kudos_given(facts(skills=("python",), values=("teamwork",)))
    void = statements.voiding(give.id, WHEN, "Ev01")
    return [
        give,
        receive,
        void,
        statements.skill_changed(ANN, "python", "expert", "T1", WHEN),
        statements.skill_changed(ANN, "f#", None, "T2", WHEN),
        statements.endorsed(BOB, ANN, "python", "T3", WHEN),
        statements.searched(NO_EMAIL, "python", "who knows python?", "T4", WHEN),
    ]


def document(built: BuiltStatement) -> dict[str, Any]:
    return json.loads(built.body)


@pytest.mark.parametrize("actor_mode", ["account", "email"])
@pytest.mark.parametrize("include_text", [False, True])
def test_every_statement_is_valid_xapi(actor_mode: str, include_text: bool) -> None:
    for built in every_statement(builder(actor_mode, include_text)):
        BaseXapiStatement(**document(built))


def test_statements_follow_the_house_rules() -> None:
    for built in every_statement(builder()):
        body = document(built)
        assert "version" not in body
        assert body["id"] == built.id
        assert UUID.match(body["id"])
        assert TIMESTAMP.match(body["timestamp"])
        assert body["timestamp"] == "2026-03-02T09:30:15.123Z"


def test_timestamps_are_utc_with_exactly_three_decimals() -> None:
    berlin = timezone(timedelta(hours=1))

    assert xapi_timestamp(datetime(2026, 3, 2, 10, 30, 15, 123999, tzinfo=berlin)) == (
        "2026-03-02T09:30:15.123Z"
    )
    assert xapi_timestamp(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) == "2026-03-02T09:30:00.000Z"
    assert xapi_timestamp(datetime(2026, 3, 2, 9, 30, 0, 999, tzinfo=UTC)).endswith(".000Z")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        xapi_timestamp(datetime(2026, 3, 2, 9, 30))
    with pytest.raises(ValueError):
        builder().kudos_given(facts(timestamp=datetime(2026, 3, 2, 9, 30)))


def test_derived_ids_are_deterministic_lowercase_uuids() -> None:
    first = derived_id("T0ACME", "kudos", "Ev01", "U0BOB")

    assert first == derived_id("T0ACME", "kudos", "Ev01", "U0BOB")
    assert UUID.match(first)
    assert str(uuid.UUID(first)) == first
    assert first != derived_id("T0ACME", "kudos", "Ev01", "U0CAT")
    # Parts are kept apart: moving a boundary gives another id.
    assert derived_id("ab", "c") != derived_id("a", "bc")


def test_a_redelivered_event_builds_the_same_statements_byte_for_byte() -> None:
    first = builder().kudos_given(facts(skills=("python",), values=("teamwork",)))
    again = builder().kudos_given(facts(skills=("python",), values=("teamwork",)))

    assert [s.body for s in first] == [s.body for s in again]
    assert [s.id for s in first] == [s.id for s in again]
    void = builder().voiding(first[0].id, WHEN, "Ev02")
    assert void.body == builder().voiding(first[0].id, WHEN, "Ev02").body


def test_give_and_receive_are_linked() -> None:
    give, receive = builder().kudos_given(facts())
    give_doc, receive_doc = document(give), document(receive)

    assert give.id != receive.id
    assert give_doc["verb"]["id"] == v.GIVE.id
    assert receive_doc["verb"]["id"] == v.RECEIVE.id
    assert give_doc["object"] == receive_doc["object"]
    assert give_doc["object"]["definition"]["type"] == v.BADGE
    assert receive_doc["context"]["statement"] == {"objectType": "StatementRef", "id": give.id}
    assert (give.actor_id, receive.actor_id) == ("U0ANN", "U0BOB")
    receiver = give_doc["context"]["extensions"][f"{BASE}/extensions/{v.EXT_RECEIVER}"]
    assert receiver["account"] == {"homePage": HOME, "name": "U0BOB"}
    assert give_doc["context"]["platform"] == "Slack"


def test_the_reason_is_sent_only_with_include_text() -> None:
    private = builder(include_text=False).kudos_given(facts())
    shared = builder(include_text=True).kudos_given(facts())

    for built in private:
        assert "result" not in document(built)
        assert "incident write-up" not in built.body
    for built in shared:
        assert document(built)["result"]["response"] == "for the clear incident write-up – merci"


# Slack's shape of typed text (`/ask` text, a message, a reason from the form: all stored alike).
SLACK_TEXT = (
    "<@U0BOB|bob> &amp; <@U0CAT> said &lt;br&gt; breaks it, see "
    "<https://docs.example.com/a?b=1&amp;c=2|the docs> in <#C0DEV|dev>"
)


def test_typed_text_reaches_the_lrs_as_a_person_reads_it() -> None:
    """`&amp;`, `<@U…>` and `<url|label>` in an LRS would be Slack's markup, not the words."""
    statements = builder(include_text=True)
    # Bob is in every statement here, so his name is known; Cat's is not.
    read = "@Bob & @U0CAT said <br> breaks it, see https://docs.example.com/a?b=1&c=2 in #dev"
    give, receive = statements.kudos_given(replace(facts(), reason=SLACK_TEXT))
    asked = statements.asked(QuestionFacts("q1", BOB, SLACK_TEXT, (), "C0QA", WHEN))
    answered = statements.answered(
        AnswerFacts("a1", "q1", None, BOB, SLACK_TEXT, None, (), "C0QA", WHEN)
    )
    searched = statements.searched(BOB, None, SLACK_TEXT, "T4", WHEN)

    for built in (give, receive, asked, answered, searched):
        assert document(built)["result"]["response"] == read


def test_a_rating_comment_is_kept_exactly_as_typed() -> None:
    """Forms send a comment as typed, and sessions keep it so: nothing in it is markup."""
    session = SessionFacts("6f1c2a4e-8b7d-5c3e-9a1f-0d2b4c6e8f10", "Intro", (), "C0LUNCH")
    typed = "Loved it &amp; <@U0BOB> – 5/5 <3"

    rated = builder(include_text=True).session_event(
        v.RATED, ANN, session, "r", WHEN, rating=5, comment=typed
    )

    assert document(rated)["result"]["response"] == typed


def test_actors_are_slack_accounts_by_default() -> None:
    give, _ = builder().kudos_given(facts())

    actor = document(give)["actor"]
    assert actor["account"] == {"homePage": HOME, "name": "U0ANN"}
    assert "mbox" not in actor
    assert "ann@example.com" not in give.body


def test_actors_and_the_thanked_person_are_named_by_their_full_names() -> None:
    dan = slack_user("U0DAN", display_name="Dan", real_name="Dan Kowalski")
    ada = slack_user("U0ADA", display_name="Ada", real_name="Ada Lovelace")
    give, receive = builder().kudos_given(facts(giver=dan.learner, receiver=ada.learner))

    assert document(give)["actor"]["name"] == "Dan Kowalski"
    assert document(receive)["actor"]["name"] == "Ada Lovelace"
    receiver = document(give)["context"]["extensions"][f"{BASE}/extensions/receiver"]
    assert receiver["name"] == "Ada Lovelace"


def slack_user(user_id: str, display_name: str, real_name: str) -> Profile:
    """A profile as the bot reads it from Slack's `users.info`."""
    return profile_from_slack(
        {
            "id": user_id,
            "real_name": real_name,
            "profile": {"display_name": display_name, "real_name": real_name},
        }
    )


def test_email_actors_use_mbox_and_fall_back_to_the_account_without_an_email() -> None:
    give, receive = builder("email").kudos_given(facts(giver=ANN, receiver=NO_EMAIL))

    giver = document(give)["actor"]
    assert giver["mbox"] == "mailto:ann@example.com"
    assert "account" not in giver
    receiver = document(receive)["actor"]
    assert receiver["account"] == {"homePage": HOME, "name": "U0CAT"}
    assert "mbox" not in receiver


def test_skills_are_tag_activities_in_context_other() -> None:
    give, receive = builder().kudos_given(facts(skills=("python", "data-science")))

    for built in (give, receive):
        other = document(built)["context"]["contextActivities"]["other"]
        assert [a["id"] for a in other] == [
            f"{BASE}/skills/python",
            f"{BASE}/skills/data-science",
        ]
        assert {a["definition"]["type"] for a in other} == {v.TAG}


def test_no_skills_no_other_context_activities() -> None:
    give, _ = builder().kudos_given(facts(values=("teamwork",)))

    activities = document(give)["context"]["contextActivities"]
    assert "other" not in activities
    assert activities["grouping"][0]["id"] == HOME
    assert activities["parent"][0]["id"] == f"{BASE}/channels/C0GENERAL"


@pytest.mark.parametrize("actor_mode", ["account", "email"])
def test_a_voiding_statement_points_at_its_target_and_names_only_guildbot(
    actor_mode: str,
) -> None:
    give, _ = builder(actor_mode).kudos_given(facts())

    void = builder(actor_mode).voiding(give.id, WHEN, cause="Ev09")

    body = document(void)
    assert void.voiding and void.actor_id == BOT_USER
    assert body["verb"]["id"] == v.VOIDED.id == "http://adlnet.gov/expapi/verbs/voided"
    assert body["object"] == {"objectType": "StatementRef", "id": give.id}
    # guildbot's own agent, whatever the actor setting: erasure leaves no statement naming
    # the person it erased.
    assert body["actor"] == {
        "objectType": "Agent",
        "name": "guildbot",
        "account": {"name": BOT_USER, "homePage": HOME},
    }
    assert void.id != builder(actor_mode).voiding(give.id, WHEN, cause="Ev10").id


def test_skill_statements_use_the_skill_as_object_with_an_escaped_id() -> None:
    statements = builder()
    added = document(statements.skill_changed(ANN, "python", "expert", "T1", WHEN))
    removed = document(statements.skill_changed(ANN, "f#", None, "T2", WHEN))

    assert added["verb"]["id"] == v.ADD.id and removed["verb"]["id"] == v.REMOVE.id
    assert added["object"]["id"] == f"{BASE}/skills/python"
    assert added["object"]["definition"]["type"] == v.TAG
    assert added["result"]["extensions"] == {f"{BASE}/extensions/level": "expert"}
    # `#` would start an IRI fragment: skill names are escaped in ids.
    assert removed["object"]["id"] == f"{BASE}/skills/f%23"
    assert "result" not in removed


def test_an_endorsement_names_the_person_as_a_profile_activity() -> None:
    liked = document(builder().endorsed(BOB, ANN, "python", "T3", WHEN))

    assert liked["verb"]["id"] == v.LIKE.id
    assert liked["actor"]["account"]["name"] == "U0BOB"
    assert liked["object"]["id"] == f"{BASE}/skills/python"
    [profile] = liked["context"]["contextActivities"]["other"]
    assert profile["id"] == f"{BASE}/people/U0ANN"
    assert profile["definition"]["type"] == v.USER_PROFILE


def test_a_search_keeps_the_query_text_only_with_include_text() -> None:
    quiet = document(builder().searched(ANN, "python", "who knows python?", "T4", WHEN))
    chatty = document(builder(include_text=True).searched(ANN, "python", "who?", "T4", WHEN))

    assert "result" not in quiet
    assert chatty["result"]["response"] == "who?"
    assert quiet["object"]["id"] == f"{BASE}/skills/python"


def _empties(value: Any, path: str = "$") -> list[str]:
    """Where a document holds an empty string, object or list (strict LRSs reject them)."""
    if value in ("", {}, []):
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _empties(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for n, item in enumerate(value) for found in _empties(item, f"{path}[{n}]")]
    return []


@pytest.mark.parametrize("actor_mode", ["account", "email"])
def test_no_statement_kind_sends_an_empty_value_even_with_include_text(actor_mode: str) -> None:
    statements = builder(actor_mode, include_text=True)
    nameless = Learner("U0DAN", "", "")
    # A reaction kudos has no typed reason; nothing typed anywhere else either.
    reaction = KudosFacts(
        kudos_id="0c1d3c8a-0f7b-5d0e-9a61-3c2f1e0d9b8a",
        giver=nameless,
        receiver=BOB,
        reason="",
        values=(),
        skills=(),
        channel_id="C0GENERAL",
        permalink=None,
        timestamp=WHEN,
        message_ts="1709371815.000100",
    )
    question = QuestionFacts("q1", nameless, "", (), "C0QA", WHEN)
    answer = AnswerFacts("a1", "q1", None, nameless, "", None, (), "C0QA", WHEN)
    session = SessionFacts("6f1c2a4e-8b7d-5c3e-9a1f-0d2b4c6e8f10", "Intro", (), "C0LUNCH")
    built = [
        *statements.kudos_given(reaction),
        *every_statement(statements),
        statements.searched(nameless, None, "", "T5", WHEN),
        statements.asked(question),
        statements.answered(answer),
        statements.accepted(nameless, answer, "T6", WHEN),
        statements.session_event(v.SCHEDULE, nameless, session, "s", WHEN),
        statements.session_event(v.RATED, nameless, session, "r", WHEN, rating=4, comment=""),
        statements.voiding("0b9d6a2c-1f3e-5a7b-8c9d-0e1f2a3b4c5d", WHEN, "T7"),
    ]

    for statement in built:
        body = document(statement)
        assert _empties(body) == [], (body["verb"]["id"], _empties(body))
        BaseXapiStatement(**body)
