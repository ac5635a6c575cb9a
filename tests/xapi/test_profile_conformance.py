"""guildbot's xAPI Profile is a well-formed profile, and every statement builder, in every
configuration, produces statements that match exactly one of its Statement Templates and
follow its rules."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from bot.domain.skills import LEVELS
from bot.xapi import profile as guildbot_profile
from bot.xapi import vocabulary as v
from bot.xapi.statements import (
    AnswerFacts,
    BuiltStatement,
    CommunityFacts,
    KudosFacts,
    Learner,
    QuestionFacts,
    ResourceFacts,
    SessionFacts,
    StatementBuilder,
    XapiIdentity,
)
from tests.support.xapi_profile import Checker, evaluate, extension_problems, problems_in

WHEN = datetime(2026, 3, 2, 9, 30, 15, 123000, tzinfo=UTC)
ADA = Learner("U0ADA", "Ada Lovelace", "ada@example.com")
BEN = Learner("U0BEN", "Ben Ng", "ben@example.com")
CAT = Learner("U0CAT", "Cat")  # no e-mail visible: her account, whatever the mode
QUESTION_ID = "0d5c3e9a-1f2b-5c4d-8e6f-7a8b9c0d1e2f"
SESSION_ID = "6f1c2a4e-8b7d-5c3e-9a1f-0d2b4c6e8f10"
CONFIGURATIONS = [
    pytest.param(mode, text, id=f"{mode}-{'text' if text else 'no-text'}")
    for mode in ("account", "email")
    for text in (False, True)
]


def profile() -> dict[str, Any]:
    return json.loads(guildbot_profile.load())


def builder(actor_mode: str, include_text: bool) -> StatementBuilder:
    return StatementBuilder(
        XapiIdentity(
            "T0ACME",
            "https://acme.slack.com/",
            "https://acme.slack.com/guildbot",
            actor_mode,
            include_text,
            "U0GUILDBOT",
            "Acme",
        )
    )


def every_kind(statements: StatementBuilder) -> dict[str, BuiltStatement]:
    """One statement of every kind guildbot builds, in each of its shapes."""
    kudos = KudosFacts(
        "5e1d3c8a-0f7b-5d0e-9a61-3c2f1e0d9b8a",
        ADA,
        BEN,
        "for the clear <@U0BEN> write-up &amp; more",
        ("teamwork", "python"),
        ("python",),
        "C0GENERAL",
        "https://acme.slack.com/archives/C0GENERAL/p1709371815000100",
        WHEN,
        channel_name="general",
    )
    answer = AnswerFacts(
        "a1",
        QUESTION_ID,
        "https://acme.slack.com/archives/C0QA/p1",
        BEN,
        "Use a TaskGroup",
        "https://acme.slack.com/archives/C0QA/p2",
        ("python", "asyncio"),
        "C0QA",
        WHEN,
        "questions",
    )
    session = SessionFacts(
        SESSION_ID,
        "Supervision trees",
        ("elixir",),
        "C0LUNCH",
        None,
        CAT,
        WHEN,
        45,
        "lunch",
    )
    built: dict[str, BuiltStatement] = {}
    built["give"], built["receive"] = statements.kudos_given(kudos)
    built["give for a message"], _ = statements.kudos_given(
        KudosFacts(
            "0c1d3c8a-0f7b-5d0e-9a61-3c2f1e0d9b8a",
            CAT,
            ADA,
            "",
            (),
            (),
            "C0QA",
            None,
            WHEN,
            message_ts="1709371815.000100",
            for_statement=statements.answered_id("a1"),
        )
    )
    built["asked"] = statements.asked(
        QuestionFacts(
            QUESTION_ID, ADA, "How do I cancel tasks?", ("python", "asyncio"), "C0QA", WHEN
        )
    )
    built["answered"] = statements.answered(answer)
    built["accept"] = statements.accepted(ADA, answer, "Ev1", WHEN)
    built["search skill"] = statements.searched(CAT, "python", "who knows python?", "T1", WHEN)
    built["search FAQ"] = statements.searched(CAT, None, "cancel tasks", "T2", WHEN)
    built["add"] = statements.skill_changed(ADA, "f#", "expert", "T3", WHEN)
    built["remove"] = statements.skill_changed(ADA, "f#", None, "T4", WHEN)
    built["endorse"] = statements.endorsed(BEN, ADA, "python", "T5", WHEN)
    for verb in (v.SCHEDULE, v.REGISTERED, v.UNREGISTERED, v.PRESENT, v.CANCEL):
        built[verb.display] = statements.session_event(verb, BEN, session, "s", WHEN)
    built["attended"] = statements.session_event(
        v.ATTENDED, BEN, session, "s", WHEN + timedelta(minutes=5)
    )
    built["attended after the end"] = statements.session_event(
        v.ATTENDED, BEN, session, "late", WHEN + timedelta(hours=1)
    )
    built["rated"] = statements.session_event(
        v.RATED, BEN, session, "r", WHEN, rating=4, comment="Loved it"
    )
    erased = SessionFacts(SESSION_ID, "Supervision trees", (), "C0LUNCH", None, None, WHEN, 45)
    built["registered, presenter erased"] = statements.session_event(
        v.REGISTERED, BEN, erased, "s", WHEN
    )
    community = CommunityFacts("c0mm", "Pythonistas", ("python",), "C0PY", "pythonistas")
    built["create"] = statements.community_event(v.CREATE, ADA, community, "T6", WHEN)
    built["join"] = statements.community_event(v.JOIN, BEN, community, "T7", WHEN)
    built["leave"] = statements.community_event(v.LEAVE, BEN, community, "T8", WHEN)
    built["contribution"] = statements.contributed(
        CAT, community, "1709371815.000100", None, "https://acme.slack.com/archives/C0PY/p1", WHEN
    )
    built["thread reply"] = statements.contributed(
        CAT, community, "1709371816.000100", "1709371815.000100", "https://x.example/p2", WHEN
    )
    for kind in ("link", "document", "video"):
        resource = ResourceFacts(
            f"r-{kind}", "Fluent Python", kind, "https://example.com/fp", ("python",), community
        )
        built[f"share {kind}"] = statements.resource_event(
            v.SHARE, ADA, resource, ("C0PY", "pythonistas"), "T9", WHEN
        )
    loose = ResourceFacts("r0", "A talk", "video", "https://example.com/talk", ())
    built["viewed"] = statements.resource_event(v.VIEWED, BEN, loose, ("C0GEN", None), "A1", WHEN)
    built["session of a community"] = statements.session_event(
        v.SCHEDULE,
        BEN,
        SessionFacts(
            SESSION_ID, "Typing", ("python",), "C0PY", None, CAT, WHEN, 30, community=community
        ),
        "s2",
        WHEN,
    )
    built["voided"] = statements.voiding(built["give"].id, WHEN, "Ev2")
    return built


def documents(statements: StatementBuilder) -> dict[str, dict[str, Any]]:
    return {kind: json.loads(s.body) for kind, s in every_kind(statements).items()}


@pytest.mark.parametrize(("actor_mode", "include_text"), CONFIGURATIONS)
def test_every_statement_matches_exactly_one_template_and_follows_its_rules(
    actor_mode: str, include_text: bool
) -> None:
    built = documents(builder(actor_mode, include_text))
    checker = Checker(profile())
    checker.remember(built.values())

    for kind, statement in built.items():
        outcome = checker.validates(statement)
        assert outcome.outcome == "success", (kind, outcome)
        assert len(outcome.templates) == 1, (kind, outcome.templates)
        assert extension_problems(checker.profile, statement) == [], kind
        BaseXapiStatement(**statement)  # and valid xAPI


def test_every_template_is_used_and_every_verb_has_one() -> None:
    checker = Checker(profile())
    used = set()
    for actor_mode, include_text in (("account", False), ("email", True)):
        built = documents(builder(actor_mode, include_text))
        checker.remember(built.values())
        used |= {t for s in built.values() for t in checker.validates(s).templates}
    templates = {t["id"] for t in checker.templates}
    verbs = {t["verb"] for t in checker.templates}

    assert used == templates
    assert verbs == {value.id for value in vars(v).values() if isinstance(value, v.Verb)}


def test_every_statement_names_the_profile_version_the_bot_serves() -> None:
    served = profile()
    [version] = served["versions"]

    for kind, statement in documents(builder("email", False)).items():
        category = evaluate(statement, "$.context.contextActivities.category[*].id")
        assert category == [version["id"]], kind
    assert version["id"] == v.PROFILE_VERSION and served["id"] == v.PROFILE


def test_the_profile_passes_the_structural_musts_of_the_profiles_spec() -> None:
    assert problems_in(profile()) == []


def test_the_structural_check_catches_what_the_spec_forbids() -> None:
    broken = profile()
    broken["concepts"][0]["prefLabel"] = {}
    broken["templates"][0]["objectStatementRefTemplate"] = ["https://example.com/nowhere"]
    broken["templates"][1]["rules"].append({"location": "$.result[?(@.x)]", "presence": "included"})
    broken["patterns"][1]["zeroOrMore"] = broken["patterns"][1]["id"]
    broken["versions"][0]["id"] = broken["id"]

    found = "\n".join(problems_in(broken))

    for expected in (
        "concepts[0].prefLabel: empty value",
        "objectStatementRefTemplate excludes objectActivityType",
        "names https://example.com/nowhere",
        "filters are not allowed",
        "refers to itself",
        "an IRI other than the profile's",
    ):
        assert expected in found


def test_a_statement_off_the_contract_is_refused() -> None:
    """The checker fails what breaks a rule, and what matches no template."""
    built = documents(builder("account", False))
    checker = Checker(profile())
    checker.remember(built.values())
    accept = copy.deepcopy(built["accept"])
    accept["context"]["platform"] = "Slack"
    rated = copy.deepcopy(built["rated"])
    rated["result"]["score"]["max"] = 10
    uncategorised = copy.deepcopy(built["give"])
    del uncategorised["context"]["contextActivities"]["category"]
    values = copy.deepcopy(built["give"])
    values["context"]["extensions"][v.EXT_VALUES] = "teamwork"

    assert checker.validates(accept).outcome == "invalid"
    assert checker.validates(rated).outcome == "invalid"
    assert checker.validates(uncategorised).outcome == "unmatched"
    assert extension_problems(checker.profile, values) != []


def test_the_profile_file_and_the_readme_tables_are_generated_from_the_profile() -> None:
    """`python -m bot.xapi.profile` rewrites both: run it after changing the profile."""
    current = guildbot_profile.document()
    readme = (guildbot_profile.PROFILE_FILE.parents[2] / "README.md").read_text()

    assert guildbot_profile.load().decode() == guildbot_profile.serialised(current)
    assert guildbot_profile.readme_tables(current) in readme


def test_verbs_are_displayed_as_registered() -> None:
    """A display never changes a verb's meaning: ours are the registered prefLabels."""
    labels = {c["id"]: c["prefLabel"]["en"] for c in profile()["concepts"] if c["type"] == "Verb"}
    registered_elsewhere = {
        v.ASKED.id: "asked",
        v.ANSWERED.id: "answered",
        v.REGISTERED.id: "registered",
        v.ATTENDED.id: "attended",
        v.VOIDED.id: "voided",
        v.UNREGISTERED.id: "unregistered",
        v.RATED.id: "rated",
        v.COMMENTED.id: "commented",
        v.VIEWED.id: "viewed",
    }
    verbs = [value for value in vars(v).values() if isinstance(value, v.Verb)]

    for verb in verbs:
        assert verb.display == {**labels, **registered_elsewhere}[verb.id], verb.id
    assert v.LIKE.display == "liked"


def test_the_level_extension_takes_exactly_the_levels_people_can_declare() -> None:
    [level] = [c for c in profile()["concepts"] if c["id"] == v.EXT_LEVEL]

    assert json.loads(level["inlineSchema"])["enum"] == list(LEVELS)
