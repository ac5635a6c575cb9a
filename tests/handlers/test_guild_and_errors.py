"""/guild help, request signing, and the error boundary around every listener."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy.exc import OperationalError

from bot import operations
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack, reaction_event, sign, slash_command_body


async def test_guild_help_lists_commands_ephemerally(bot: BotHarness) -> None:
    status, reply = await bot.command("/guild", "help", "U0ANN")

    assert status == 200
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = str(reply["blocks"])
    assert "/kudos" in text and "/guild" in text


async def test_guild_with_empty_text_shows_help(bot: BotHarness) -> None:
    status, reply = await bot.command("/guild", "", "U0ANN")

    assert status == 200
    assert "/kudos" in str(reply["blocks"])


async def test_guild_unknown_option_says_so_and_shows_help(bot: BotHarness) -> None:
    status, reply = await bot.command("/guild", "dance", "U0ANN")

    assert status == 200
    assert "I don't know `/guild dance`" in reply["text"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: sign(body, secret="wrong-secret"), id="wrong-signature"),
        pytest.param(lambda body: sign(body, timestamp=int(time.time()) - 600), id="stale"),
        pytest.param(lambda body: {}, id="unsigned"),
    ],
)
async def test_forged_requests_get_401_and_change_nothing(
    bot: BotHarness, headers: Callable[[str], dict[str, str]]
) -> None:
    body = slash_command_body("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    status, _ = await bot.post(body, headers(body))
    await bot.settle()

    assert status == 401
    assert [c.method for c in bot.slack.calls] == ["auth.test"]  # start-up only
    assert operations.outbox_counts(bot.database).pending == 0


async def test_a_crash_before_the_ack_becomes_an_apology_not_a_500(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_give(*_: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(bot.services.kudos, "give", broken_give)

    status, reply = await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    assert status == 200
    assert "Sorry, something went wrong" in reply["text"]
    assert "exploded" not in reply["text"] and "Traceback" not in reply["text"]
    reference = reply["text"].split("`")[1]
    assert any(reference in r.getMessage() for r in caplog.records)
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_an_event_whose_write_failed_gets_a_500_so_slack_redelivers_it(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def database_unreachable(*_: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(bot.services.kudos, "withdraw_reaction", database_unreachable)
    removed = reaction_event(
        "reaction_removed", "U0ANN", "trophy", "C0GENERAL", "1.000100", "U0BOB"
    )

    status, _ = await bot.event(removed, "EvFAIL1")

    assert status == 500
    [line] = [r.getMessage() for r in caplog.records if "not acknowledged" in r.getMessage()]
    assert line.startswith("event EvFAIL1 not acknowledged") and "reference" in line
    # Nothing after the ack runs for an event that was not acknowledged.
    assert [c.method for c in bot.slack.calls if c.method.startswith("chat.")] == []


async def test_a_command_whose_ack_failed_runs_nothing_after_the_apology(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def record_post(*_: object) -> None:
        raise AssertionError("the recognition must not be recorded")

    def broken_give(*_: object) -> None:
        raise RuntimeError("lock timeout")

    monkeypatch.setattr(bot.services.kudos, "give", broken_give)
    monkeypatch.setattr(bot.services.kudos, "record_post", record_post)

    status, reply = await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    assert status == 200 and "Sorry, something went wrong" in reply["text"]
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.responses == []


async def test_socket_mode_serves_health_but_no_unsigned_http_endpoint(
    tmp_path: Path, slack: FakeSlack
) -> None:
    settings = settings_for(tmp_path, slack, SLACK_APP_TOKEN="xapp-1-test", SLACK_SIGNING_SECRET="")
    harness = await BotHarness(settings, slack).start()
    try:
        body = slash_command_body("/kudos", "<@U0BOB> for the great demo", "U0ANN")
        status, _ = await harness.post(body, {})
        assert status in (404, 405)
        health_url = harness.url.replace("/slack/events", "/healthz")
        async with ClientSession() as http, http.get(health_url) as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
    finally:
        await harness.close()
