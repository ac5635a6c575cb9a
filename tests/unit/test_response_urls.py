"""Response URLs echoed back by a client are POSTed to only when they are Slack's own."""

from __future__ import annotations

import pytest

from bot.config import Settings, load_settings
from bot.slack_client import slack_response_url


def settings(api_url: str | None = None) -> Settings:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    if api_url:
        env["SLACK_API_URL"] = api_url
    return load_settings(env, env_file=None)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/commands/T0GUILD/1234/abcd",
        "https://hooks.slack.com/actions/T0GUILD/5678/efgh",
    ],
)
def test_slacks_hooks_are_trusted(url: str) -> None:
    assert slack_response_url(url, settings()) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/collect",
        "http://hooks.slack.com/commands/T0GUILD/1234/abcd",
        "https://hooks.slack.com.evil.example/commands/1",
        "https://evil.example/?https://hooks.slack.com/",
        "https://user@hooks.slack.com/commands/1",
        "https://hooks.slack.com:8443/commands/1",
        "javascript:alert(1)",
        "",
        None,
        42,
        ["https://hooks.slack.com/commands/1"],
    ],
)
def test_anything_else_is_not(url: object) -> None:
    assert slack_response_url(url, settings()) is None


def test_the_host_of_slack_api_url_is_trusted_when_set() -> None:
    gov = settings("https://slack-gov.com/api/")
    assert slack_response_url("https://hooks.slack-gov.com/commands/1", gov)
    assert slack_response_url("https://slack-gov.com/commands/1", gov)
    assert slack_response_url("https://hooks.slack.com/commands/1", gov)
    assert slack_response_url("https://evil.example/commands/1", gov) is None

    stand_in = settings("http://127.0.0.1:8123/api/")
    assert slack_response_url("http://127.0.0.1:8123/respond/hook", stand_in)
    assert slack_response_url("http://127.0.0.1:9999/respond/hook", stand_in) is None
    assert slack_response_url("http://localhost:8123/respond/hook", stand_in) is None
