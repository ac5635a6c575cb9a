"""`python -m bot`'s log as an operator reads it: what listens where, no scheduler chatter at
INFO, and LOG_FORMAT=json lines a log system can index."""

from __future__ import annotations

import json

from tests.support.blackbox import StartBot
from tests.support.process import eventually


async def test_the_ready_line_says_what_listens_where_and_the_scheduler_is_quiet(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    await bot.command("/guild", "help", "U0ANN")
    assert await bot.stop() == 0

    log = bot.stderr()
    [ready] = [line for line in log.splitlines() if "guildbot ready" in line]
    assert f"listening on 127.0.0.1, port {bot.port}" in ready
    assert "POST /slack/events for Slack's requests and GET /healthz for health checks" in ready
    # APScheduler announces itself and each run of the 30-second tick at INFO: not here.
    assert "apscheduler" not in log and "Running job" not in log


async def test_json_logs_at_debug_level_are_one_object_per_line(start_bot: StartBot) -> None:
    bot = await start_bot(LOG_FORMAT="json", LOG_LEVEL="DEBUG")

    def parsed() -> list[dict[str, object]]:
        return [json.loads(line) for line in bot.stderr().splitlines()]

    ran = await eventually(
        lambda: [line for line in parsed() if "Running job" in str(line["message"])],
        what="the tick's first run, logged at DEBUG",
    )
    assert await bot.stop() == 0

    assert {line["level"] for line in ran} == {"DEBUG"}
    assert ran[0]["logger"] == "apscheduler.executors.default"
    [ready] = [line for line in parsed() if "guildbot ready" in str(line["message"])]
    assert ready["level"] == "INFO" and ready["port"] == bot.port
    assert ready["host"] == "127.0.0.1" and ready["team"] and ready["time"]
