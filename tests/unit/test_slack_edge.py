"""The checks a request to /slack/events must pass before its body is even read."""

from __future__ import annotations

import pytest

from bot.slack_edge import MAX_BODY_BYTES, Refusal, check_headers

NOW = 1_800_000_000.0
GOOD = {"X-Slack-Request-Timestamp": str(int(NOW)), "X-Slack-Signature": "v0=" + "a" * 64}


def test_well_formed_fresh_headers_go_on_to_the_signature_check() -> None:
    assert check_headers(GOOD, NOW) is None
    assert check_headers({**GOOD, "Content-Length": str(MAX_BODY_BYTES)}, NOW) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-Slack-Request-Timestamp": None}, "unsigned"),
        ({"X-Slack-Signature": None}, "unsigned"),
        ({"X-Slack-Request-Timestamp": "abc"}, "malformed timestamp"),
        ({"X-Slack-Request-Timestamp": "-5"}, "malformed timestamp"),
        ({"X-Slack-Request-Timestamp": "9" * 5000}, "malformed timestamp"),
        ({"X-Slack-Request-Timestamp": str(int(NOW) - 301)}, "stale timestamp"),
        ({"X-Slack-Request-Timestamp": str(int(NOW) + 301)}, "stale timestamp"),
        ({"X-Slack-Signature": "v1=" + "a" * 64}, "malformed signature"),
        ({"X-Slack-Signature": "v0=abc"}, "malformed signature"),
    ],
)
def test_missing_malformed_or_stale_headers_are_unauthorised(
    change: dict[str, str | None], reason: str
) -> None:
    headers = {k: v for k, v in {**GOOD, **change}.items() if v is not None}

    assert check_headers(headers, NOW) == Refusal(401, reason)


def test_a_body_announced_over_the_cap_is_refused_before_it_is_read() -> None:
    headers = {**GOOD, "Content-Length": str(MAX_BODY_BYTES + 1)}

    assert check_headers(headers, NOW) == Refusal(413, "body too large")
