"""Two workspaces served by one guildbot: what one does must never show in the other.

One real app (the harness) on one database, SQLite and PostgreSQL (with TEST_DATABASE_URL);
requests come signed from two team ids, the way Slack sends them to a distributed install.
Workspace A is the one the token was issued for (`TEAM_ID`), B is another. Where a leak would
otherwise hide, both workspaces use the same skill names, question words, channel names and
user ids (Slack ids collide across workspaces only in tests; names and words collide
everywhere)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage.database import Database
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import (
    TEAM_ID,
    FakeSlack,
    block_action_body,
    block_suggestion_body,
    event_body,
    sign,
    slash_command_body,
    view_action_body,
    view_submission_body,
)

QA = "C0QA"
OTHER_TEAM = "T0OTHER"


@dataclass
class Side:
    """One workspace as Slack would talk to the app for it: every request carries its team id."""

    bot: BotHarness
    team_id: str

    @property
    def slack(self) -> FakeSlack:
        return self.bot.slack

    async def command(
        self, command: str, text: str, user: str, channel: str = "C0GENERAL"
    ) -> dict[str, Any]:
        body = slash_command_body(
            command, text, user, channel, self.slack.response_url, team_id=self.team_id
        )
        status, reply = await self.bot.post(body, sign(body))
        await self.bot.settle()
        assert status == 200, reply
        return reply

    async def press(self, action_id: str, value: str, user: str) -> None:
        body = block_action_body(
            action_id,
            value,
            user,
            self.slack.response_url,
            team_id=self.team_id,
            at=self.bot.clock().timestamp(),
        )
        status, reply = await self.bot.post(body, sign(body))
        await self.bot.settle()
        assert status == 200, reply

    async def suggest(
        self, view: dict[str, Any], action_id: str, block_id: str, typed: str, user: str
    ) -> list[dict[str, Any]]:
        """Types into an external select: the options the app answers."""
        body = block_suggestion_body(view, action_id, block_id, typed, user, team_id=self.team_id)
        status, reply = await self.bot.post(body, sign(body))
        assert status == 200, reply
        return list(reply["options"])

    async def event(self, event: dict[str, Any], event_id: str) -> None:
        stamped = {"event_ts": f"{self.bot.clock().timestamp():.6f}", **event}
        body = event_body(stamped, event_id, team_id=self.team_id)
        status, reply = await self.bot.post(body, sign(body), content_type="application/json")
        await self.bot.settle()
        assert status == 200, reply

    async def view_action(
        self, view: dict[str, Any], action: dict[str, Any], values: dict[str, Any], user: str
    ) -> None:
        body = view_action_body(view, action, values, user, team_id=self.team_id)
        status, reply = await self.bot.post(body, sign(body))
        await self.bot.settle()
        assert status == 200, reply

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], user: str, view_id: str
    ) -> dict[str, Any]:
        body = view_submission_body(view, view_id, values, user, team_id=self.team_id)
        status, reply = await self.bot.post(body, sign(body))
        await self.bot.settle()
        assert status == 200, reply
        return reply if isinstance(reply, dict) else {}


@pytest.fixture
def people(slack: FakeSlack) -> FakeSlack:
    """Ann, Bob and Cat (conftest), in both workspaces; Zed and Yan, in B only."""
    slack.add_user("U0ZED", "Zed", real_name="Zed Zimmer")
    slack.add_user("U0YAN", "Yan", real_name="Yan Young")
    return slack


@pytest.fixture
async def bot(
    tmp_path: Path, database: Database, people: FakeSlack, clock: SettableClock
) -> AsyncIterator[BotHarness]:
    """On SQLite and on PostgreSQL (the storage tests' `database`); Q&A in C0QA and Ann the
    L&D admin, as every workspace's settings are today."""
    settings = settings_for(
        tmp_path,
        people,
        DATABASE_URL=database.url,
        QA_CHANNEL=QA,
        LND_ADMINS="U0ANN",
        KUDOS_DAILY_LIMIT="50",
    )
    harness = await BotHarness(settings, people, clock).start()
    yield harness
    await harness.close()


@pytest.fixture
def a(bot: BotHarness) -> Side:
    return Side(bot, TEAM_ID)


@pytest.fixture
def b(bot: BotHarness) -> Side:
    return Side(bot, OTHER_TEAM)
