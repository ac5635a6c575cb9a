"""Kudos leaderboards and quotas are each workspace's own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.database import Database
from tests.isolation.conftest import QA, Side
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import FakeSlack

pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def bot(
    tmp_path: Path, database: Database, people: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """As conftest's, with three kudos a day each."""
    settings = settings_for(
        tmp_path, people, DATABASE_URL=database.url, QA_CHANNEL=QA, KUDOS_DAILY_LIMIT="3"
    )
    harness = await BotHarness(settings, people, clock).start()
    yield harness
    await harness.close()


def rankings(reply: dict) -> tuple[list[str], list[str]]:
    fields = next(b for b in reply["blocks"] if b["type"] == "section")["fields"]
    return fields[0]["text"].splitlines()[1:], fields[1]["text"].splitlines()[1:]


async def test_each_workspace_ranks_only_its_own_kudos(a: Side, b: Side) -> None:
    for n in range(3):
        await b.command("/kudos", f"<@U0YAN> for the release, part {n}", "U0ZED")
    await b.command("/kudos", "<@U0BOB> for the migration plan", "U0ANN")
    await a.command("/kudos", "<@U0CAT> for the onboarding guide", "U0BOB")

    for period in ("week", "month", "all"):
        receivers, givers = rankings(await a.command("/kudos", f"leaderboard {period}", "U0ANN"))
        assert receivers == ["1. <@U0CAT>: 1 kudos"], period
        assert givers == ["1. <@U0BOB>: 1 kudos"], period
    receivers, givers = rankings(await b.command("/kudos", "leaderboard", "U0ANN"))
    assert receivers == ["1. <@U0YAN>: 3 kudos", "2. <@U0BOB>: 1 kudos"]
    assert givers == ["1. <@U0ZED>: 3 kudos", "2. <@U0ANN>: 1 kudos"]


async def test_kudos_given_in_one_workspace_leave_the_others_quota(a: Side, b: Side) -> None:
    for receiver in ("U0BOB", "U0CAT", "U0ZED"):
        sent = await b.command("/kudos", f"<@{receiver}> for the migration plan", "U0ANN")
        assert "Kudos sent" in sent["text"], sent
    refused = await b.command("/kudos", "<@U0YAN> for the release notes", "U0ANN")
    assert "Kudos sent" not in json.dumps(refused)

    sent = await a.command("/kudos", "<@U0BOB> for the onboarding guide", "U0ANN")

    assert "Kudos sent" in sent["text"] and "You have 2 kudos left today" in sent["text"], sent
