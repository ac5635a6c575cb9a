"""Log lines: text or JSON, structured fields a log system can index, and APScheduler's
per-run chatter kept out of INFO."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from bot.config import ConfigError, load_log_settings, load_settings
from bot.logs import log_handler, logged_with

MINIMAL = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


Capture = Callable[[str, str], tuple[logging.Logger, io.StringIO]]


@pytest.fixture
def capture() -> Iterator[Capture]:
    """A logger of our own, with the handler guildbot would install at a level and format."""
    logger = logging.getLogger("guildbot.test-logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)

    def use(level: str, form: str) -> tuple[logging.Logger, io.StringIO]:
        stream = io.StringIO()
        logger.addHandler(log_handler(level, form, stream))
        return logger, stream

    yield use
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True


def test_json_lines_carry_the_fields_of_the_listener_and_of_the_call(capture: Capture) -> None:
    logger, stream = capture("INFO", "json")

    async def listener() -> None:
        logger.info("working on it")
        try:
            raise RuntimeError("disk on fire")
        except RuntimeError:
            logger.exception("failed", extra={"reference": "3F9A0C1D", "outcome": "apology"})

    asyncio.run(logged_with(listener(), team="T0TEAM", listener="give_kudos", event_id=None))
    logger.info("after the listener")

    first, failed, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "working on it" and first["level"] == "INFO"
    assert first["logger"] == "guildbot.test-logs" and first["time"].endswith("Z")
    assert (first["team"], first["listener"]) == ("T0TEAM", "give_kudos")
    assert "event_id" not in first, "unknown fields are left out, not null"
    assert failed["reference"] == "3F9A0C1D" and failed["outcome"] == "apology"
    assert failed["team"] == "T0TEAM" and "disk on fire" in failed["exception"]
    assert "team" not in after and "listener" not in after, "fields end with the listener"


def test_text_lines_end_with_their_fields(capture: Capture) -> None:
    logger, stream = capture("INFO", "text")

    logger.warning("refused a request", extra={"outcome": "refused", "status": 401})
    logger.info("plain")

    refused, plain = stream.getvalue().splitlines()
    assert refused.endswith(
        "WARNING guildbot.test-logs: refused a request [outcome=refused status=401]"
    )
    assert plain.endswith("INFO guildbot.test-logs: plain")


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_apscheduler_runs_are_debug_detail(level: str, shown: bool) -> None:
    stream = io.StringIO()
    handler = log_handler(level, "text", stream)
    scheduler = logging.getLogger("apscheduler.executors.default")
    scheduler.addHandler(handler)
    scheduler.propagate, scheduler.level = False, logging.DEBUG
    try:
        scheduler.info('Running job "tick (trigger: interval[0:00:30])"')
        scheduler.warning("Run time of job was missed by 0:00:31")
    finally:
        scheduler.removeHandler(handler)
        scheduler.propagate, scheduler.level = True, logging.NOTSET

    lines = stream.getvalue().splitlines()
    assert any("missed by" in line and "WARNING" in line for line in lines)
    running = [line for line in lines if "Running job" in line]
    assert running == ([running[0]] if shown else [])
    assert all(" DEBUG " in line for line in running)


def test_log_settings_default_to_info_text_and_name_a_bad_value() -> None:
    assert load_log_settings({}, env_file=None) == ("INFO", "text")
    assert load_log_settings({"LOG_LEVEL": "debug", "LOG_FORMAT": "JSON"}, env_file=None) == (
        "DEBUG",
        "json",
    )
    loaded = load_settings({**MINIMAL, "LOG_FORMAT": "json"}, env_file=None)
    assert (loaded.log_level, loaded.log_format) == ("INFO", "json")
    with pytest.raises(ConfigError, match=r"^LOG_LEVEL='LOUD' is not a level"):
        load_log_settings({"LOG_LEVEL": "loud"}, env_file=None)
    with pytest.raises(ConfigError, match=r"^LOG_FORMAT='xml' is not allowed"):
        load_settings({**MINIMAL, "LOG_FORMAT": "xml"}, env_file=None)
