"""The inbuilt LRS's data rules (bot/lrs/validation.py): what a client may store."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.lrs import validation
from bot.lrs.validation import Invalid

ACTIVITY = {"objectType": "Activity", "id": "https://example.com/courses/xapi-101"}
STATEMENT: dict[str, Any] = {
    "id": "3f2b1c1e-7a0e-4c38-9a5c-2b8a6f0e9d11",
    "actor": {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
    "object": ACTIVITY,
    "timestamp": "2026-12-01T09:30:00.123Z",
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """The valid statement with one property set (a dotted path), or removed (value None)."""
    statement = copy.deepcopy(STATEMENT)
    *parents, last = path.split(".")
    holder = statement
    for name in parents:
        holder = holder.setdefault(name, {})
    if value is None:
        holder.pop(last, None)
    else:
        holder[last] = value
    return statement


def test_a_well_formed_statement_is_accepted() -> None:
    validation.statement(STATEMENT)


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("actor", None, "actor is required"),
        ("actor.mbox", "mailto:ada.example.com", "statement.actor.mbox"),
        ("actor.openid", "https://ada.example.com/", "exactly one"),
        ("verb.id", "attended", "statement.verb.id"),
        ("verb.id", "ab=c://not.a.scheme", "statement.verb.id"),
        ("verb.display", {"a12345678": "attended"}, "statement.verb.display key"),
        ("object.id", 12345, "statement.object.id"),
        ("object.objectType", "activity", "statement.object.objectType"),
        ("id", "AA97B177-9383-4934-8543-0F91A7A028368", "statement.id"),
        ("timestamp", "2008-09-15T15:53:00.601-00:00", "-00:00"),
        ("timestamp", "01/011/2015", "statement.timestamp"),
        ("version", "1.1.0", "statement.version"),
        ("result", {"duration": "P4W1D"}, "statement.result.duration"),
        ("result", {"score": {"scaled": 1.5}}, "statement.result.score.scaled"),
        ("result", {"score": {"raw": 11, "min": 0, "max": 10}}, "statement.result.score.raw"),
        ("result", {"success": "yes"}, "statement.result.success"),
        ("context", {"registration": "not-a-uuid"}, "statement.context.registration"),
        ("context", {"team": {"mbox": "mailto:team@example.com"}}, "statement.context.team"),
        ("context", {"extensions": {"not an iri": 1}}, "statement.context.extensions key"),
        ("unknown", "property", "statement.unknown"),
        ("actor.name", 42, "statement.actor.name"),
    ],
)
def test_a_broken_statement_is_refused_naming_where(path: str, value: Any, where: str) -> None:
    statement = changed(path, value)
    with pytest.raises(Invalid) as refused:
        validation.statement(statement)
    assert where in str(refused.value)


def test_an_agent_or_group_as_object_must_say_which_it_is() -> None:
    with pytest.raises(Invalid, match=r"statement\.object"):
        validation.statement(changed("object", {"mbox": "mailto:ben@example.com"}))
    validation.statement(changed("object", {"objectType": "Agent", "mbox": "mailto:b@example.com"}))


def test_a_voiding_statement_refers_to_a_statement() -> None:
    voided = "http://adlnet.gov/expapi/verbs/voided"
    with pytest.raises(Invalid, match="StatementRef"):
        validation.statement(changed("verb", {"id": voided}))
    statement = changed("verb", {"id": voided})
    statement["object"] = {"objectType": "StatementRef", "id": STATEMENT["id"]}
    validation.statement(statement)


def test_revision_and_platform_only_describe_activities() -> None:
    statement = changed("context", {"platform": "Slack"})
    validation.statement(statement)
    statement["object"] = {"objectType": "StatementRef", "id": STATEMENT["id"]}
    with pytest.raises(Invalid, match="platform"):
        validation.statement(statement)


def test_a_substatement_cannot_hold_another_nor_an_id() -> None:
    inner = {k: v for k, v in STATEMENT.items() if k in ("actor", "verb", "object")}
    sub = {"objectType": "SubStatement", **inner}
    validation.statement(changed("object", sub))
    with pytest.raises(Invalid, match="SubStatement"):
        validation.statement(changed("object", {**sub, "object": dict(sub)}))
    with pytest.raises(Invalid, match=r"statement\.object\.id"):
        validation.statement(changed("object", {**sub, "id": STATEMENT["id"]}))


def test_an_authority_is_an_agent_or_an_anonymous_group_of_two() -> None:
    app = {"account": {"homePage": "https://lrs.example.com/", "name": "app"}}
    user = {"mbox": "mailto:ada@example.com"}
    validation.statement(changed("authority", {"objectType": "Group", "member": [app, user]}))
    with pytest.raises(Invalid, match="exactly two members"):
        validation.statement(changed("authority", {"objectType": "Group", "member": [user]}))
    with pytest.raises(Invalid, match="exactly two members"):
        validation.statement(
            changed(
                "authority",
                {"objectType": "Group", "mbox": "mailto:g@example.com", "member": [app, user]},
            )
        )


def test_interaction_details_need_their_type_and_distinct_ids() -> None:
    choices = [{"id": "a", "description": {"en-US": "A"}}, {"id": "b"}]
    definition = {"interactionType": "choice", "choices": choices}
    validation.statement(changed("object", {**ACTIVITY, "definition": definition}))
    with pytest.raises(Invalid, match="needs interactionType"):
        validation.statement(changed("object", {**ACTIVITY, "definition": {"choices": choices}}))
    twice = {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}
    with pytest.raises(Invalid, match="used twice"):
        validation.statement(changed("object", {**ACTIVITY, "definition": twice}))
    with pytest.raises(Invalid, match="interaction type"):
        validation.statement(
            changed("object", {**ACTIVITY, "definition": {"interactionType": {"a": 1}}})
        )


def test_extension_values_may_be_anything_even_null() -> None:
    extensions = {"https://example.com/x/empty": "", "https://example.com/x/none": None}
    validation.statement(changed("result", {"extensions": extensions}))
    validation.statement(changed("context", {"extensions": {}}))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-01T09:30:00Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T09:30:00.123456789+01:00", datetime(2026, 12, 1, 8, 30, 0, 123456, UTC)),
        (
            "20261201T093000-0500",
            datetime(2026, 12, 1, 9, 30, tzinfo=timezone(-timedelta(hours=5))),
        ),
        ("2026-12-01T09:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_in_iso_8601_are_read_in_utc(text: str, moment: datetime) -> None:
    assert validation.parse_timestamp(text, "t") == moment


@pytest.mark.parametrize("text", ["2026-02-30T09:30:00Z", "2026-12-01", "2008-09-15T15:53:00-00"])
def test_impossible_dates_dates_alone_and_negative_zero_offsets_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        validation.parse_timestamp(text, "t")


@pytest.mark.parametrize("text", ["PT4H35M59.14S", "P3Y1M29DT4H35M59.14S", "P4W", "PT16559.14S"])
def test_iso_durations_are_accepted(text: str) -> None:
    validation.duration(text, "d")


@pytest.mark.parametrize("text", ["P", "PT", "P4W1D", "PA1H0M0S", "P1DT"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(Invalid):
        validation.duration(text, "d")


@pytest.mark.parametrize(
    "tag", ["en", "en-US", "zh-Hant-TW", "sl-rozaj-biske", "x-private", "es-419"]
)
def test_language_tags_follow_rfc_5646(tag: str) -> None:
    validation.language_tag(tag, "tag")


@pytest.mark.parametrize("tag", ["a12345678", "a12345", "en_US", "", "en--US", "toolongprimary"])
def test_other_language_tags_are_refused(tag: str) -> None:
    with pytest.raises(Invalid):
        validation.language_tag(tag, "tag")
