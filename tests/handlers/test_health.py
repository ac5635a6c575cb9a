"""Public /healthz: status only (ok, degraded, down), from cached state, so callers cost no
database query and cannot slow down Slack's acks. The details are `guildbot status`'s."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import event

from tests.support.harness import BotHarness, settings_for
from tests.support.lrs import FakeLrs
from tests.support.lrs import fake_lrs_fixture as fake_lrs  # noqa: F401 (the fixture)
from tests.support.slack import FakeSlack

pytestmark = pytest.mark.usefixtures("no_listener_failures")
CALLERS = 64


async def healthz(bot: BotHarness, http: ClientSession | None = None) -> tuple[int, Any]:
    if http is None:
        async with ClientSession() as own:
            return await healthz(bot, own)
    async with http.get(bot.url.replace("/slack/events", "/healthz")) as response:
        return response.status, await response.json()


@contextmanager
def queries(bot: BotHarness) -> Iterator[list[str]]:
    """SQL sent to the database meanwhile, leaving out transaction control and the periodic
    health check's own row (it may fall due at any moment)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        control = statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"))
        if not control and "process_status" not in statement:
            seen.append(statement)

    engine = bot.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_healthz_answers_ok_and_nothing_else(bot: BotHarness) -> None:
    await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")  # statements wait

    assert await healthz(bot) == (200, {"status": "ok"})


async def test_a_paused_forwarder_is_degraded_and_the_lrs_reason_stays_private(
    tmp_path: Path,
    slack: FakeSlack,
    fake_lrs: FakeLrs,  # noqa: F811
) -> None:
    settings = settings_for(
        tmp_path,
        slack,
        LRS_ENDPOINT=fake_lrs.endpoint,
        LRS_KEY=fake_lrs.key,
        LRS_SECRET="a-wrong-secret",
    )
    bot = await BotHarness(settings, slack).start()
    try:
        await bot.command("/kudos", "<@U0BOB> for the great demo", "U0ANN")
        await bot.services.forwarder.drain_once()
        assert bot.services.forwarder.status.state == "paused"

        status, body = await healthz(bot)

        assert (status, body) == (200, {"status": "degraded"})
        assert "credentials" in (bot.services.forwarder.status.detail or "")
    finally:
        await bot.close()


async def test_a_database_that_cannot_answer_is_down_until_it_can(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = bot.services.health
    with monkeypatch.context() as broken:

        def unavailable() -> Any:
            raise ConnectionError("connection refused by db.internal:5432 (password=hunter2)")

        broken.setattr(bot.database, "transaction", unavailable)
        await health.check()
        status, body = await healthz(bot)

    assert (status, body) == (503, {"status": "down"})
    await health.check()
    assert await healthz(bot) == (200, {"status": "ok"})


async def test_64_concurrent_callers_cost_no_query_and_skills_acks_still_work(
    bot: BotHarness,
) -> None:
    async with ClientSession() as http:
        with queries(bot) as seen:
            answers = await asyncio.gather(*(healthz(bot, http) for _ in range(CALLERS)))
        assert answers == [(200, {"status": "ok"})] * CALLERS
        assert seen == []

        # And while they call, people still get their /skills answers.
        people = ("U0ANN", "U0BOB", "U0CAT")
        together = await asyncio.gather(
            *(healthz(bot, http) for _ in range(CALLERS)),
            *(bot.command("/skills", "", user) for user in people),
        )
    assert together[:CALLERS] == [(200, {"status": "ok"})] * CALLERS
    for user, (status, reply) in zip(people, together[CALLERS:], strict=True):
        assert status == 200 and reply["text"].startswith(f"Skills of <@{user}>"), reply
