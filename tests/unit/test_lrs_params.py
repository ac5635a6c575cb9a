"""Query parameters of the inbuilt LRS (bot/lrs/params.py)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.lrs import params
from bot.lrs.errors import XapiError
from storage.repositories import lrs_keys

ADA = {"objectType": "Agent", "mbox": "mailto:ada@example.com"}
STATEMENT_ID = "3f2b1c1e-7a0e-4c38-9a5c-2b8a6f0e9d11"


def refused(given: dict[str, str]) -> str:
    with pytest.raises(XapiError) as error:
        params.statement_read(given)
    assert error.value.status == 400
    return error.value.message


def test_a_query_becomes_filter_keys_with_related_variants() -> None:
    read = params.statement_read(
        {
            "agent": json.dumps(ADA),
            "related_agents": "true",
            "activity": "https://example.com/a",
            "verb": "http://adlnet.gov/expapi/verbs/attended",
            "registration": "AA97B177-9383-4934-8543-0F91A7A02836",
        }
    )

    assert read.query is not None
    assert set(read.query.keys) == {
        lrs_keys.RELATED_AGENT + lrs_keys.digest("mbox\x1fmailto:ada@example.com"),
        lrs_keys.key(lrs_keys.ACTIVITY, "https://example.com/a"),
        lrs_keys.key(lrs_keys.VERB, "http://adlnet.gov/expapi/verbs/attended"),
        lrs_keys.registration_key("aa97b177-9383-4934-8543-0f91a7a02836"),
    }
    assert read.query.limit == params.MAX_LIMIT and not read.query.ascending


@pytest.mark.parametrize("other", ["agent", "since", "limit", "ascending", "verb"])
def test_a_statement_id_goes_with_format_and_attachments_only(other: str) -> None:
    assert "go alone" in refused({"statementId": STATEMENT_ID, other: "x"})
    read = params.statement_read(
        {"statementId": STATEMENT_ID.upper(), "format": "ids", "attachments": "true"}
    )
    assert read.statement_id == STATEMENT_ID and read.format == "ids" and read.attachments


@pytest.mark.parametrize(
    "given",
    [
        {"StatementId": STATEMENT_ID},
        {"statementId": "wrong"},
        {"agent": "not json"},
        {"agent": json.dumps({"objectType": "Group", "member": [ADA]})},
        {"limit": "-1"},
        {"format": "full"},
        {"ascending": "yes"},
        {"since": "yesterday"},
        {"cursor": "abc"},
    ],
)
def test_malformed_or_unknown_parameters_are_refused(given: dict[str, str]) -> None:
    refused(given)


def test_a_more_link_repeats_the_query_and_continues_after_the_last_statement() -> None:
    link = params.more_link("/xapi/statements", {"verb": "https://e.com/v?x=1", "cursor": "9"}, 42)

    parts = urlsplit(link)
    assert parts.path == "/xapi/statements"
    again = params.statement_read(dict(parse_qsl(parts.query)))
    assert again.query is not None and again.query.after == 42
    assert again.query.keys == (lrs_keys.key(lrs_keys.VERB, "https://e.com/v?x=1"),)


def test_limit_zero_and_too_large_limits_mean_one_full_page() -> None:
    for limit in ("0", "100000"):
        read = params.statement_read({"limit": limit})
        assert read.query is not None and read.query.limit == params.MAX_LIMIT
