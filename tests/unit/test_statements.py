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
    StatementBuilders,
    XapiIdentity,
    derived_id,
    iso_duration,
    kudos_name,
    question_name,
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
QUESTION = "0d5c3e9a-1f2b-5c4d-8e6f-7a8b9c0d1e2f"
SESSION = "6f1c2a4e-8b7d-5c3e-9a1f-0d2b4c6e8f10"


def builder(actor_mode: str = "account", include_text: bool = False) -> StatementBuilder:
    return StatementBuilder(
        XapiIdentity("T0ACME", HOME, BASE + "/", actor_mode, include_text, BOT_USER, "Acme")
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
    receiver = give_doc["context"]["extensions"][v.EXT_TARGET]
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
    asked = statements.asked(QuestionFacts(QUESTION, BOB, SLACK_TEXT, (), "C0QA", WHEN))
    answered = statements.answered(
        AnswerFacts("a1", QUESTION, None, BOB, SLACK_TEXT, None, (), "C0QA", WHEN)
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
    receiver = document(give)["context"]["extensions"][v.EXT_TARGET]
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
    assert added["result"]["extensions"] == {v.EXT_LEVEL: "expert"}
    # `#` would start an IRI fragment: skill names are escaped in ids.
    assert removed["object"]["id"] == f"{BASE}/skills/f%23"
    assert "result" not in removed


@pytest.mark.parametrize("actor_mode", ["account", "email"])
def test_an_endorsement_is_of_the_person_for_the_skill(actor_mode: str) -> None:
    """The endorsed person is the object, where `agent=…&related_agents=true` looks; the skill
    and their profile are context activities, where `activity=…&related_activities` looks."""
    liked = document(builder(actor_mode).endorsed(BOB, ANN, "python", "T3", WHEN))
    ann = document(builder(actor_mode).skill_changed(ANN, "python", "expert", "T1", WHEN))

    assert liked["verb"] == {"id": v.LIKE.id, "display": {"en-US": "liked"}}
    assert liked["object"] == {"objectType": "Agent", **ann["actor"]}
    skill, profile = liked["context"]["contextActivities"]["other"]
    assert skill["id"] == f"{BASE}/skills/python"
    assert profile["id"] == f"{BASE}/people/U0ANN"
    assert profile["definition"] == {"type": v.USER_PROFILE, "name": {"en-US": "Ann"}}
    assert "platform" not in liked["context"]


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
    question = QuestionFacts(QUESTION, nameless, "", (), "C0QA", WHEN)
    answer = AnswerFacts("a1", QUESTION, None, nameless, "", None, (), "C0QA", WHEN)
    session = SessionFacts(SESSION, "Intro", (), "C0LUNCH")
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


def answer_facts(answerer: Learner = BOB) -> AnswerFacts:
    return AnswerFacts(
        "a1",
        QUESTION,
        "https://acme.slack.com/archives/C0QA/p1",
        answerer,
        "Use a TaskGroup",
        "https://acme.slack.com/archives/C0QA/p2",
        ("python",),
        "C0QA",
        WHEN,
        "questions",
    )


def test_an_acceptance_references_the_answered_statement_with_the_question_as_parent() -> None:
    """Filters by the answerer and by the question find an acceptance through its reference
    to `answered`; `platform` is only for statements about an Activity."""
    statements = builder()
    answered = statements.answered(answer_facts())
    accept = document(statements.accepted(ANN, answer_facts(), "Ev1", WHEN))

    assert accept["object"] == {"objectType": "StatementRef", "id": answered.id}
    question, channel = accept["context"]["contextActivities"]["parent"]
    assert question == document(answered)["object"]
    assert question["definition"]["name"] == {"en-US": "Question on #python in #questions"}
    assert channel["definition"]["name"] == {"en-US": "#questions"}
    assert [a["id"] for a in accept["context"]["contextActivities"]["other"]] == [
        f"{BASE}/skills/python"
    ]
    assert accept["context"]["registration"] == QUESTION
    assert "platform" not in accept["context"]
    assert "statement" not in accept["context"]


def session_facts(presenter: Learner | None = BOB) -> SessionFacts:
    starts = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    return SessionFacts(
        SESSION, "Intro to Elixir", ("elixir",), "C0LUNCH", None, presenter, starts, 45
    )


@pytest.mark.parametrize(
    "verb", [v.SCHEDULE, v.REGISTERED, v.UNREGISTERED, v.ATTENDED, v.PRESENT, v.RATED, v.CANCEL]
)
def test_every_session_statement_names_its_presenter_as_instructor(verb: v.Verb) -> None:
    built = document(
        builder("email").session_event(verb, ANN, session_facts(), "c", WHEN, rating=5)
    )

    assert built["context"]["instructor"] == {
        "objectType": "Agent",
        "name": "Bob",
        "mbox": "mailto:bob@example.com",
    }
    assert built["context"]["registration"] == SESSION


def test_a_session_whose_presenter_was_erased_names_no_instructor() -> None:
    built = document(builder().session_event(v.REGISTERED, ANN, session_facts(None), "c", WHEN))

    assert "instructor" not in built["context"]


def test_scheduling_going_and_attending_say_when_the_session_is_planned() -> None:
    planned = {
        "http://id.tincanapi.com/extension/planned-start-time": "2026-03-02T12:00:00.000Z",
        "http://id.tincanapi.com/extension/planned-duration": "PT45M",
    }
    statements = builder()

    for verb in (v.SCHEDULE, v.REGISTERED, v.ATTENDED):
        extensions = document(statements.session_event(verb, ANN, session_facts(), "c", WHEN))[
            "context"
        ]["extensions"]
        assert planned.items() <= extensions.items(), verb
    for verb in (v.UNREGISTERED, v.PRESENT, v.RATED, v.CANCEL):
        extensions = document(statements.session_event(verb, ANN, session_facts(), "c", WHEN))[
            "context"
        ]["extensions"]
        assert not planned.keys() & extensions.keys(), verb


@pytest.mark.parametrize(
    ("checked_in", "duration"),
    [
        (datetime(2026, 3, 2, 11, 50, tzinfo=UTC), "PT45M"),  # early: from the start
        (datetime(2026, 3, 2, 12, 10, 30, tzinfo=UTC), "PT34M30S"),
        (datetime(2026, 3, 2, 12, 50, tzinfo=UTC), None),  # after the end: unknown
    ],
)
def test_attending_lasts_from_the_check_in_to_the_planned_end(
    checked_in: datetime, duration: str | None
) -> None:
    attended = document(builder().session_event(v.ATTENDED, ANN, session_facts(), "c", checked_in))

    assert attended.get("result", {}).get("duration") == duration
    assert attended["timestamp"] == xapi_timestamp(checked_in)


def test_iso_durations_read_as_people_write_them() -> None:
    assert iso_duration(timedelta(minutes=90)) == "PT1H30M"
    assert iso_duration(timedelta(minutes=45, seconds=10)) == "PT45M10S"
    assert iso_duration(timedelta(seconds=0)) == "PT0S"


def test_activities_are_named_to_tell_them_apart_without_message_text() -> None:
    ada = Learner("U0ADA", "Ada Lovelace")
    ben = Learner("U0BEN", "Ben Ng")

    assert kudos_name(ada, ben, ("teamwork",)) == "Kudos from Ada Lovelace to Ben Ng (#teamwork)"
    assert kudos_name(ada, Learner("U0DAN"), ()) == "Kudos from Ada Lovelace to U0DAN"
    assert question_name(("python", "asyncio"), "questions") == (
        "Question on #python, #asyncio in #questions"
    )
    assert question_name((), None) == "Question"
    workspace = document(builder().searched(ANN, "python", "", "T1", WHEN))["context"][
        "contextActivities"
    ]["grouping"][0]
    assert workspace["definition"]["name"] == {"en-US": "Acme"}
    faq = document(builder().searched(ANN, None, "", "T2", WHEN))["object"]
    assert faq["definition"] == {"type": v.COLLECTION, "name": {"en-US": "FAQ"}}


def test_each_workspace_s_statements_carry_its_own_identity_an_unknown_one_the_default() -> None:
    """Distributed with OAuth: one process builds every workspace's statements, each with
    the identity stored for it; a team with none stored gets the process's own."""
    process = XapiIdentity("", "https://slack.com/", "https://slack.com/guildbot", "account")
    builders = StatementBuilders(process)
    for team, home in (
        ("T0NORTH", "https://north.slack.com/"),
        ("T0SOUTH", "https://south.slack.com/"),
    ):
        builders.remember(replace(process, team_id=team, home_page=home, activity_base=home + "x"))

    def kudos(team: str) -> dict[str, Any]:
        give, _ = builders.for_team(team).kudos_given(facts())
        return document(give)

    north, south, unknown = kudos("T0NORTH"), kudos("T0SOUTH"), kudos("T0ELSEWHERE")
    for built, team, home in (
        (north, "T0NORTH", "https://north.slack.com/"),
        (south, "T0SOUTH", "https://south.slack.com/"),
        (unknown, "", "https://slack.com/"),
    ):
        assert built["actor"]["account"]["homePage"] == home
        [workspace] = built["context"]["contextActivities"]["grouping"]
        assert workspace["id"] == home
        assert built["object"]["id"].startswith(home.rstrip("/") + "/")
        assert built["context"]["extensions"].get(v.EXT_TEAM, "") == team
    assert len({north["id"], south["id"], unknown["id"]}) == 3, "ids derived per workspace"
    assert builders.for_team("T0NORTH") is builders.for_team("T0NORTH"), "built once"


def test_extension_iris_are_the_same_whatever_the_activity_base() -> None:
    """Dashboards are built on extension keys: they never follow XAPI_ACTIVITY_BASE."""
    elsewhere = StatementBuilder(
        XapiIdentity("T0ACME", HOME, "https://lrs.example.org/other-base", "account")
    )

    for statements in (builder(), elsewhere):
        give, _ = statements.kudos_given(facts(values=("teamwork",)))
        added = document(statements.skill_changed(ANN, "python", "expert", "T1", WHEN))
        assert set(document(give)["context"]["extensions"]) == {
            v.EXT_TEAM,
            v.EXT_VALUES,
            v.EXT_TARGET,
        }
        assert set(added["result"]["extensions"]) == {
            "https://w3id.org/xapi/guildbot/extensions/level"
        }


def test_every_statement_names_guildbots_profile_as_its_category() -> None:
    statements = builder()
    built = [*every_statement(statements), statements.accepted(ANN, answer_facts(), "E", WHEN)]

    for statement in built:
        [category] = document(statement)["context"]["contextActivities"]["category"]
        assert category["id"] == v.PROFILE_VERSION
        assert category["definition"] == {"type": v.XAPI_PROFILE}


def test_in_email_mode_a_person_is_one_actor_in_every_statement_about_them() -> None:
    statements = builder("email")
    bob = "mailto:bob@example.com"
    give, receive = statements.kudos_given(facts())
    built = [
        receive,
        statements.answered(answer_facts()),
        statements.session_event(v.REGISTERED, BOB, session_facts(), "c", WHEN),
        statements.session_event(v.PRESENT, BOB, session_facts(), "c", WHEN),
    ]

    assert {document(s)["actor"]["mbox"] for s in built} == {bob}
    assert document(give)["context"]["extensions"][v.EXT_TARGET]["mbox"] == bob
    assert document(statements.endorsed(ANN, BOB, "python", "T", WHEN))["object"]["mbox"] == bob


@pytest.mark.parametrize("actor_mode", ["account", "email"])
def test_kudos_statements_name_people_as_every_other_statement_does(actor_mode: str) -> None:
    """Kudos statements are written as JSON directly (they are on the ack's path); their
    agents are the ones tincan writes for every other statement."""
    statements = builder(actor_mode)
    people = [Learner("U1", "Ann Archer", "ann@acme.test"), Learner("U2", "", None)]
    for giver, receiver in [people, people[::-1]]:
        give, receive = statements.kudos_given(facts(giver=giver, receiver=receiver))
        give_json, receive_json = json.loads(give.body), json.loads(receive.body)
        assert give_json["actor"] == json.loads(statements.actor(giver).to_json())
        assert receive_json["actor"] == json.loads(statements.actor(receiver).to_json())
        target = give_json["context"]["extensions"][v.EXT_TARGET]
        assert target == receive_json["actor"]
