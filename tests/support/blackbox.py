"""Helpers for black-box tests: fresh people, LRS settings and look-ups, event deliveries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support.lrs import RealLrs
from tests.support.process import BotProcess
from tests.support.slack import WORKSPACE_URL, FakeSlack, event_body, sign

LRS_KEY = "guildbot"
LRS_SECRET = "blackbox-lrs-secret"

StartBot = Callable[..., Awaitable[BotProcess]]


def new_person(slack: FakeSlack, name: str) -> str:
    """A user no other test (nor an earlier run against the same LRS) has used."""
    user_id = "U0" + uuid.uuid4().hex[:8].upper()
    slack.add_user(user_id, name)
    return user_id


def lrs_env(endpoint: str) -> dict[str, str]:
    return {"LRS_ENDPOINT": endpoint, "LRS_KEY": LRS_KEY, "LRS_SECRET": LRS_SECRET}


def agent(user_id: str) -> str:
    return json.dumps(
        {"objectType": "Agent", "account": {"homePage": WORKSPACE_URL, "name": user_id}}
    )


async def lrs_ids(lrs: RealLrs, verb: str, user_id: str) -> list[str]:
    """Ids of the statements the LRS holds with this verb and this actor."""
    status, page = await lrs.get(verb=verb, agent=agent(user_id), limit="100")
    assert status == 200, page
    return [statement["id"] for statement in page["statements"]]


async def deliver(bot: BotProcess, event: dict[str, Any], event_id: str, retry: int = 0) -> int:
    """One Events API delivery; Slack marks its retries with X-Slack-Retry-Num."""
    body = event_body(event, event_id)
    headers = sign(body)
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = await bot.post(body, headers, content_type="application/json")
    return status


def outbox_drained(bot: BotProcess) -> Callable[[], Awaitable[bool]]:
    """For `eventually`: nothing pending in the outbox (and nothing dead-lettered)."""

    async def check() -> bool:
        counts = bot.outbox_counts()
        assert counts.dead == 0, counts
        return counts.pending == 0

    return check
