"""Fixtures shared by every test layer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.clock import SettableClock
from tests.support.databases import database  # noqa: F401
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("U0ANN", "Ann", real_name="Ann Archer")
    fake.add_user("U0BOB", "Bob", tz="America/New_York", real_name="Bob Baker")
    fake.add_user("U0CAT", "Cat", tz="Asia/Tokyo", real_name="Cat Carter")
    fake.add_user("U0ROBOT", "Deploy Bot", is_bot=True)
    fake.add_user("U0GONE", "Former Colleague", deleted=True)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(tmp_path: Path, slack: FakeSlack) -> AsyncIterator[BotHarness]:
    harness = await BotHarness(settings_for(tmp_path, slack), slack).start()
    yield harness
    await harness.close()


@pytest.fixture
def clock() -> SettableClock:
    """Monday 30 November 2026, noon UTC, until a test moves it."""
    return SettableClock()


@pytest.fixture
def no_listener_failures(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The error boundary swallows exceptions into an apology; a test must not pass on one silently.

    Use it with `pytestmark = pytest.mark.usefixtures("no_listener_failures")`."""
    caplog.set_level(logging.ERROR, logger="guildbot")
    yield
    # In teardown `caplog.records` holds only teardown's records: the call's are kept apart.
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    failures = [r for r in records if r.name.startswith("guildbot") and r.exc_info]
    assert failures == [], [r.getMessage() for r in failures]
