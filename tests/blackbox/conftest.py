"""What every black-box test shares: a `python -m bot` starter and the session's real LRS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import lrs as lrs_support
from tests.support.blackbox import StartBot
from tests.support.process import BotProcess, bot_env, free_port
from tests.support.slack import FakeSlack

# The session-wide npm LRS; it skips (with the reason shown by -ra) when not installed.
npm_lrs = lrs_support.npm_lrs


@pytest.fixture(scope="session")
def real_lrs(npm_lrs: lrs_support.RealLrs) -> lrs_support.RealLrs:
    """Black-box tests send to the npm LRS only (the inbuilt one has its own tests)."""
    return npm_lrs


@pytest.fixture
async def start_bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[StartBot]:
    """Starts `python -m bot` (again, for restarts) on one port and one database file."""
    port = free_port()
    started: list[BotProcess] = []

    async def start(**overrides: str | None) -> BotProcess:
        bot = BotProcess(bot_env(tmp_path, slack.base_url, port, **overrides), tmp_path)
        started.append(bot)
        return await bot.start()

    yield start
    for bot in started:
        await bot.stop(timeout=10)
