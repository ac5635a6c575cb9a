"""The group commit (bot/executor.py over `Database.batch`), on SQLite and PostgreSQL: many
requests' writes share one transaction, yet each request gets its own answer only once its
writes are committed, and a request that fails undoes its own writes and nobody else's."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.domain.effects import Effect, EffectQueue, owe
from bot.executor import BlockingExecutor
from storage.database import Database, batchable
from tests.support.clock import SettableClock

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Refused(Exception):
    """A domain refusal, raised after the unit wrote something."""


class Requests:
    """Batchable writes, each owing one effect `post:N`, as a request's write would."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.writer_busy = threading.Event()
        self.release = threading.Event()
        self.batches_seen: set[int] = set()

    @batchable
    def hold_the_writer(self) -> None:
        """Keeps the writer busy so what is submitted meanwhile queues into one batch."""
        self.writer_busy.set()
        self.release.wait(10)

    @batchable
    def owe_post(self, n: int, refuse: bool = False, broken_sql: bool = False) -> str:
        with self.database.transaction() as session:
            owe(session, [Effect("kudos.recognition", f"post:{n}", "T0GUILD", {})], NOW)
            self.batches_seen.add(id(session))
            if broken_sql:
                session.execute(text("SELECT no_such_column FROM no_such_table"))
            if refuse:
                raise Refused(f"request {n} refused")
        return f"post:{n}"

    def owed(self) -> set[str]:
        with self.database.reading() as session:
            rows = session.execute(text("SELECT key FROM slack_effect")).all()
        return {row[0] for row in rows}


async def submit_together(
    executor: BlockingExecutor, requests: Requests, calls: list[dict[str, object]]
) -> list[object]:
    """Runs `calls` of `owe_post` while the writer is held, so they queue into one batch."""
    held = asyncio.ensure_future(executor.run(requests.hold_the_writer))
    await asyncio.to_thread(requests.writer_busy.wait, 10)
    tasks = [asyncio.ensure_future(executor.run(requests.owe_post, **call)) for call in calls]
    await asyncio.sleep(0.05)
    requests.release.set()
    await held
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_requests_share_a_commit_and_each_gets_its_own_answer_after_it(
    database: Database,
) -> None:
    executor = BlockingExecutor(2, database)
    requests = Requests(database)
    answered_before_commit = []

    async def one(n: int) -> object:
        answer = await executor.run(requests.owe_post, n)
        # The moment a request has its answer (its ack), its write is visible to anyone.
        if f"post:{n}" not in requests.owed():
            answered_before_commit.append(n)
        return answer

    try:
        held = asyncio.ensure_future(executor.run(requests.hold_the_writer))
        await asyncio.to_thread(requests.writer_busy.wait, 10)
        tasks = [asyncio.ensure_future(one(n)) for n in range(6)]
        await asyncio.sleep(0.05)
        requests.release.set()
        await held
        answers = await asyncio.gather(*tasks)
    finally:
        executor.shutdown()

    assert len(requests.batches_seen) == 1  # one transaction for all six
    assert answers == [f"post:{n}" for n in range(6)]
    assert answered_before_commit == []


async def test_a_refused_request_in_a_batch_undoes_its_own_writes_only(database: Database) -> None:
    executor = BlockingExecutor(2, database)
    requests = Requests(database)
    try:
        answers = await submit_together(
            executor, requests, [{"n": n, "refuse": n == 3} for n in range(6)]
        )
    finally:
        executor.shutdown()

    assert [str(a) for a in answers] == [
        "post:0",
        "post:1",
        "post:2",
        "request 3 refused",
        "post:4",
        "post:5",
    ]
    assert isinstance(answers[3], Refused)
    assert requests.owed() == {"post:0", "post:1", "post:2", "post:4", "post:5"}


async def test_a_database_error_in_a_batch_fails_that_request_alone(database: Database) -> None:
    executor = BlockingExecutor(2, database)
    requests = Requests(database)
    try:
        answers = await submit_together(
            executor, requests, [{"n": 1}, {"n": 2, "broken_sql": True}, {"n": 3}]
        )
    finally:
        executor.shutdown()

    assert answers[0] == "post:1" and answers[2] == "post:3"
    assert "no_such_table" in str(answers[1])
    assert requests.owed() == {"post:1", "post:3"}


async def test_effects_claimed_in_one_batch_go_to_one_claimer_each(database: Database) -> None:
    """Claims batched together still hand each effect to one claimer only."""
    with database.transaction() as session:
        owe(
            session,
            [Effect("kudos.recognition", f"post:{n}", "T0GUILD", {}) for n in range(4)],
            NOW,
        )
    executor = BlockingExecutor(2, database)
    queue = EffectQueue(database, SettableClock(NOW))
    try:
        claims = await asyncio.gather(
            *(executor.run(queue.claim, [f"post:{n % 4}"]) for n in range(12))
        )
    finally:
        executor.shutdown()
    claimed = sorted(effect.key for claim in claims for effect in claim)
    assert claimed == ["post:0", "post:1", "post:2", "post:3"]


@pytest.mark.parametrize("writers", [1, 3])
async def test_every_request_is_answered_however_many_writers(
    database: Database, writers: int
) -> None:
    executor = BlockingExecutor(2, database, writers=writers)
    requests = Requests(database)
    try:
        answers = await asyncio.gather(
            *(executor.run(requests.owe_post, n, refuse=n % 7 == 0) for n in range(200)),
            return_exceptions=True,
        )
    finally:
        executor.shutdown()
    refused = [n for n, a in enumerate(answers) if isinstance(a, Refused)]
    assert refused == list(range(0, 200, 7))
    assert requests.owed() == {f"post:{n}" for n in range(200) if n % 7}
