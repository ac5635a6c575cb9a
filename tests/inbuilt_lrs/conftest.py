"""The bot's web app with its inbuilt LRS, and keys for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import utcnow
from bot.lrs import credentials
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack
from tests.support.xapi import XapiClient


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    """The bot with no LRS configured: the inbuilt one is its LRS."""
    harness = await BotHarness(settings_for(tmp_path, slack), slack).start()
    yield harness
    await harness.close()


def client(bot: BotHarness, name: str, read_only: bool = False) -> XapiClient:
    made = credentials.add(bot.database, name, read_only, utcnow())
    return XapiClient(bot.address("/xapi/"), made.key, made.secret)


@pytest.fixture
def lrs(bot: BotHarness) -> XapiClient:
    """A read-write key, as a learning system posting statements would have."""
    return client(bot, "lms")


@pytest.fixture
def reader(bot: BotHarness) -> XapiClient:
    """A read-only key, as an analytics tool would have."""
    return client(bot, "dashboard", read_only=True)
