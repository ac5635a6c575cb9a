"""The forwarder against a real LRS (npm `xapi-statements`, in memory; see tests/support/lrs.py).

The LRS lives for the whole test session, so every test uses fresh statement ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.clock import utcnow
from bot.executor import BlockingExecutor
from bot.xapi.forwarder import Forwarder, LrsConfig
from storage.database import Database
from storage.repositories import outbox
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.statements import counts, enqueue, give, new_database, void

pytestmark = pytest.mark.lrs


@pytest.fixture
def database(tmp_path: Any) -> Iterator[Database]:
    database = new_database(tmp_path)
    yield database
    database.dispose()


@pytest_asyncio.fixture
async def executor() -> AsyncIterator[BlockingExecutor]:
    executor = BlockingExecutor(2)
    yield executor
    executor.shutdown()


def config(lrs: RealLrs) -> LrsConfig:
    return LrsConfig(lrs.endpoint, lrs.key, lrs.secret)


async def test_drained_statements_are_readable_from_the_lrs(
    real_lrs: RealLrs,
    database: Database,
    executor: BlockingExecutor,
) -> None:
    statements = [give(n, user="U0READER") for n in range(3)]
    enqueue(database, statements, utcnow())
    forwarder = Forwarder(database, executor, config(real_lrs))
    try:
        assert await forwarder.drain_once() == 3
    finally:
        await forwarder.close()

    for statement in statements:
        status, stored = await real_lrs.statement(statement.id)
        assert status == 200, stored
        for key in ("id", "actor", "verb", "object", "timestamp", "context"):
            assert stored[key] == statement.data[key]
    assert counts(database).sent == 3
    assert forwarder.status.state == "idle"


async def test_a_voiding_statement_hides_its_target(
    real_lrs: RealLrs,
    database: Database,
    executor: BlockingExecutor,
) -> None:
    target, other = give(0, user="U0VOIDER"), give(1, user="U0VOIDER")
    voiding = void(target, user="U0VOIDER")
    enqueue(database, [target, other, voiding], utcnow())
    forwarder = Forwarder(database, executor, config(real_lrs))
    try:
        # Two batches: the targets, then the voiding statement on its own.
        assert await forwarder.drain_once() == 2
        assert await forwarder.drain_once() == 1
    finally:
        await forwarder.close()

    assert (await real_lrs.statement(target.id))[0] == 404
    status, voided = await real_lrs.voided_statement(target.id)
    assert status == 200 and voided["id"] == target.id
    assert (await real_lrs.statement(voiding.id))[0] == 200
    assert (await real_lrs.statement(other.id))[0] == 200
    assert counts(database).sent == 3


async def test_redelivery_after_a_crash_leaves_one_copy(
    real_lrs: RealLrs,
    database: Database,
    executor: BlockingExecutor,
) -> None:
    now = utcnow()
    statements = [give(n, user="U0CRASHER") for n in range(4)]
    enqueue(database, statements, now)
    # A forwarder claims the batch, POSTs it, and dies before marking it sent.
    with database.transaction() as session:
        claimed = outbox.claim_batch(session, now, 50, timedelta(seconds=120))
    body = "[" + ",".join(c.body for c in claimed) + "]"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            real_lrs.endpoint + "statements",
            data=body.encode(),
            headers={**real_lrs._headers(), "Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 200, await response.text()

    # The next process waits out the lease, then delivers the same bytes again.
    later = now + timedelta(seconds=121)
    forwarder = Forwarder(database, executor, config(real_lrs), clock=lambda: later)
    try:
        assert await forwarder.drain_once() == 4
    finally:
        await forwarder.close()

    copies = Counter(await real_lrs.all_ids())
    assert {s.id: copies[s.id] for s in statements} == {s.id: 1 for s in statements}
    assert counts(database).sent == 4
