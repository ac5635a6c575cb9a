"""What the log says about a request that failed, for an operator's log system: the reference
the user was given, the team, the listener and the outcome, as fields of JSON log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.logs import log_handler
from tests.support.harness import BotHarness
from tests.support.slack import TEAM_ID, reaction_event


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """guildbot's loggers written as LOG_FORMAT=json would write them."""
    stream = io.StringIO()
    handler = log_handler("INFO", "json", stream)
    logger = logging.getLogger("guildbot")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_failed_command_logs_its_reference_team_listener_and_outcome(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, json_log: io.StringIO
) -> None:
    def broken_give(*_: object) -> None:
        logging.getLogger("guildbot.domain.kudos").warning("about to fail")
        raise RuntimeError("database exploded")

    monkeypatch.setattr(bot.services.kudos, "give", broken_give)

    _, reply = await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    reference = reply["text"].split("`")[1]
    logged = lines(json_log)
    [failed] = [line for line in logged if line.get("reference") == reference]
    assert failed["level"] == "ERROR" and failed["outcome"] == "apology"
    assert failed["team"] == TEAM_ID and failed["listener"] == "handlers.kudos.give_kudos"
    assert "database exploded" in failed["exception"]
    # What the listener logged on its way carries the team and the listener too.
    [before] = [line for line in logged if line["message"] == "about to fail"]
    assert (before["team"], before["listener"]) == (TEAM_ID, failed["listener"])


async def test_an_event_left_for_redelivery_logs_its_event_id(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, json_log: io.StringIO
) -> None:
    def database_unreachable(*_: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(bot.services.kudos, "withdraw_reaction", database_unreachable)
    removed = reaction_event(
        "reaction_removed", "U0ANN", "trophy", "C0GENERAL", "1.000100", "U0BOB"
    )

    status, _ = await bot.event(removed, "EvFAIL2")

    assert status == 500
    [failed] = [line for line in lines(json_log) if line.get("outcome") == "redelivery"]
    assert failed["event_id"] == "EvFAIL2" and failed["team"] == TEAM_ID
    assert len(failed["reference"]) == 8
