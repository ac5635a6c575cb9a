"""How the inbuilt LRS hands statements out (bot/lrs/formats.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.lrs import formats
from storage.repositories import lrs_statements

GUILDBOT = {"objectType": "Agent", "name": "guildbot", "account": {"homePage": "h", "name": "B"}}
ACTIVITY = {
    "id": "https://example.com/meeting",
    "definition": {
        "name": {"en-US": "meeting", "en-GB": "meeting (GB)", "fr-FR": "réunion"},
        "type": "http://adlnet.gov/expapi/activities/meeting",
    },
}
STATEMENT = {
    "id": "3f2b1c1e-7a0e-4c38-9a5c-2b8a6f0e9d11",
    "actor": {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
    "object": ACTIVITY,
    "context": {
        "instructor": {"name": "Ben", "mbox": "mailto:ben@example.com"},
        "contextActivities": {"parent": [ACTIVITY]},
    },
}


def test_a_stored_statement_gets_stored_authority_and_what_it_lacked() -> None:
    stored = datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC)
    both = lrs_statements.FILL_VERSION | lrs_statements.FILL_TIMESTAMP
    kept = json.dumps(STATEMENT, indent=1) + "\n"  # guildbot's own bytes may be spaced

    shown = json.loads(formats.exact(kept, stored, json.dumps(GUILDBOT), both))
    as_sent = json.loads(formats.exact(json.dumps(STATEMENT), stored, json.dumps(GUILDBOT), 0))

    assert shown == {
        **STATEMENT,
        "stored": "2026-12-01T09:30:00.123456Z",
        "timestamp": "2026-12-01T09:30:00.123456Z",
        "authority": GUILDBOT,
        "version": "1.0.0",
    }
    assert as_sent == {**STATEMENT, "stored": shown["stored"], "authority": GUILDBOT}


def test_ids_keep_only_what_identifies_agents_activities_and_verbs() -> None:
    shown = formats.ids_only(STATEMENT)

    assert shown["actor"] == {"objectType": "Agent", "mbox": "mailto:ada@example.com"}
    assert shown["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}
    assert shown["object"] == {"id": "https://example.com/meeting"}
    assert shown["context"]["instructor"] == {
        "objectType": "Agent",
        "mbox": "mailto:ben@example.com",
    }
    assert shown["context"]["contextActivities"] == {
        "parent": [{"id": "https://example.com/meeting"}]
    }


def test_anonymous_groups_keep_their_members_identifiers() -> None:
    team = {"objectType": "Group", "name": "Team", "member": [STATEMENT["actor"]]}

    shown = formats.ids_only({**STATEMENT, "actor": team})

    assert shown["actor"] == {
        "objectType": "Group",
        "member": [{"objectType": "Agent", "mbox": "mailto:ada@example.com"}],
    }


def test_canonical_keeps_the_language_the_reader_prefers() -> None:
    preferred = formats.preferred_languages("fr-CA;q=0.9, en-GB, *;q=0.1")
    merged = formats.merged_definition(
        [ACTIVITY["definition"], {"name": {"de-DE": "Treffen"}, "moreInfo": "https://e.com/m"}]
    )

    shown = formats.canonical(STATEMENT, {ACTIVITY["id"]: merged}.get, preferred)

    assert preferred == ["en-gb", "fr-ca", "*"]
    assert shown["object"]["definition"]["name"] == {"en-GB": "meeting (GB)"}
    assert shown["object"]["definition"]["moreInfo"] == "https://e.com/m"
    assert shown["verb"]["display"] == {"en-US": "attended"}  # the only language it has
    assert STATEMENT["object"]["definition"]["name"]["fr-FR"] == "réunion"  # left untouched


def test_a_language_of_the_same_family_beats_english() -> None:
    names = {"en-US": "meeting", "fr-FR": "réunion"}

    assert formats.one_language(names, formats.preferred_languages("fr-CA")) == {"fr-FR": "réunion"}
    assert formats.one_language(names, []) == {"en-US": "meeting"}


def test_merged_definitions_keep_every_language_and_the_latest_type() -> None:
    merged = formats.merged_definition(
        [
            {"name": {"en-US": "meeting"}, "type": "https://e.com/old"},
            {"name": {"fr-FR": "réunion"}, "type": "https://e.com/new"},
        ]
    )

    assert merged == {"name": {"en-US": "meeting", "fr-FR": "réunion"}, "type": "https://e.com/new"}
