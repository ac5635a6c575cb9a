"""`GET /xapi/profile` publishes guildbot's xAPI Profile, and the statements the bot makes name
the version it publishes."""

from __future__ import annotations

import json

import pytest
from aiohttp import ClientSession
from sqlmodel import select

from bot.xapi import profile
from storage.models import OutboxStatement
from tests.support.harness import BotHarness

pytestmark = pytest.mark.usefixtures("no_listener_failures")


async def test_the_bot_serves_its_profile_and_its_statements_name_it(bot: BotHarness) -> None:
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")

    async with (
        ClientSession() as http,
        http.get(bot.url.replace("/slack/events", "/xapi/profile")) as response,
    ):
        status, media_type, body = response.status, response.content_type, await response.read()

    assert (status, media_type) == (200, "application/ld+json")
    assert body == profile.PROFILE_FILE.read_bytes()
    served = json.loads(body)
    assert served["type"] == "Profile" and served["id"] == "https://w3id.org/xapi/guildbot"
    with bot.database.reading() as session:
        bodies = session.exec(select(OutboxStatement.body)).all()
    assert len(bodies) == 2  # give and receive
    for statement in map(json.loads, bodies):
        [category] = statement["context"]["contextActivities"]["category"]
        assert category["id"] == served["versions"][0]["id"]
