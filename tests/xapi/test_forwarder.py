"""The forwarder against an in-process fake LRS that fails on demand.

Time is a fake clock: backoffs and pauses are crossed by advancing it, never by sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select

from bot.executor import BlockingExecutor
from bot.xapi.forwarder import Forwarder, LrsConfig
from storage.database import Database
from storage.models import OutboxStatement
from storage.repositories import outbox
from tests.support.lrs import (
    FakeLrs,
    fake_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.statements import (
    BASE_TIME,
    Built,
    counts,
    dead_letters,
    enqueue,
    give,
    new_database,
    statuses,
    void,
)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


MakeForwarder = Callable[..., Forwarder]


@pytest.fixture
def database(tmp_path: Any) -> Iterator[Database]:
    database = new_database(tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def executor() -> Iterator[BlockingExecutor]:
    executor = BlockingExecutor(2)
    yield executor
    executor.shutdown()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(BASE_TIME + timedelta(days=1))


@pytest_asyncio.fixture
async def make(
    database: Database, executor: BlockingExecutor, clock: FakeClock, fake_lrs: FakeLrs
) -> AsyncIterator[MakeForwarder]:
    made: list[Forwarder] = []

    def factory(**overrides: Any) -> Forwarder:
        lrs = overrides.pop("lrs", LrsConfig(fake_lrs.endpoint, fake_lrs.key, fake_lrs.secret))
        options: dict[str, Any] = {
            "clock": clock,
            "request_timeout": 1.0,
            "base_backoff": 1.0,
            "max_backoff": 8.0,
            "pause_retry": 60.0,
            "rng": random.Random(7),
            **overrides,
        }
        forwarder = Forwarder(database, executor, lrs, **options)
        made.append(forwarder)
        return forwarder

    yield factory
    for forwarder in made:
        await forwarder.close()


def queue(database: Database, clock: FakeClock, statements: list[Built]) -> list[Built]:
    enqueue(database, statements, clock())
    return statements


def last_errors(database: Database) -> list[str]:
    with database.reading() as session:
        return [e for e in session.exec(select(OutboxStatement.last_error)) if e]


def assert_stored_once(lrs: FakeLrs, statements: list[Built]) -> None:
    for statement in statements:
        assert lrs.writes[statement.id] == 1, statement.id
        assert lrs.stored[statement.id] == statement.data


async def test_delivers_a_batch_as_the_stored_bytes_with_the_xapi_headers(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(n) for n in range(3)])
    forwarder = make()

    assert await forwarder.drain_once() == 3

    assert_stored_once(fake_lrs, statements)
    (post,) = fake_lrs.posts
    assert post.body == ("[" + ",".join(s.body for s in statements) + "]").encode()
    token = base64.b64encode(f"{fake_lrs.key}:{fake_lrs.secret}".encode()).decode()
    assert post.headers["Authorization"] == f"Basic {token}"
    assert post.headers["X-Experience-API-Version"] == "1.0.3"
    assert post.headers["Content-Type"] == "application/json"
    assert counts(database).sent == 3 and counts(database).pending == 0
    assert forwarder.status.state == "idle"
    assert forwarder.status.detail is None
    assert forwarder.status.last_delivery_at == clock()


async def test_one_bad_statement_is_dead_lettered_and_the_rest_stored(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.reject_marker = "BAD-STATEMENT"
    statements = [give(n) for n in range(10)]
    bad = statements[4] = give(4, note="BAD-STATEMENT")
    queue(database, clock, statements)
    forwarder = make()

    assert await forwarder.drain_once() == 9

    good = [s for s in statements if s is not bad]
    assert_stored_once(fake_lrs, good)
    assert bad.id not in fake_lrs.stored
    c = counts(database)
    assert (c.sent, c.dead, c.pending) == (9, 1, 0)
    (letter,) = dead_letters(database)
    assert letter.statement_id == bad.id
    assert "(400)" in letter.reason
    assert f"Invalid statement {bad.id}: BAD-STATEMENT" in letter.reason
    assert forwarder.status.state == "idle"


async def test_lrs_down_then_up_delivers_everything_exactly_once(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(n) for n in range(5)])
    forwarder = make()
    await fake_lrs.stop()

    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "retrying"
    assert "cannot reach the LRS" in (forwarder.status.detail or "")
    assert counts(database).pending == 5

    # Still backing off: nothing is claimed, so nothing is sent even once the LRS is back.
    await fake_lrs.start()
    assert await forwarder.drain_once() == 0
    assert fake_lrs.posts == []

    clock.advance(8)
    assert await forwarder.drain_once() == 5
    assert_stored_once(fake_lrs, statements)
    assert counts(database).sent == 5
    assert forwarder.status.state == "idle"


async def test_server_error_resends_the_same_bytes_with_growing_backoff(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(n) for n in range(2)])
    fake_lrs.canned = [(500, {}), (502, {}), (503, {})]
    forwarder = make()

    delays = []
    for _ in range(3):
        assert await forwarder.drain_once() == 0
        assert forwarder.status.state == "retrying"
        with database.reading() as session:
            row = session.exec(select(OutboxStatement)).first()
            assert row is not None
            delays.append((row.next_attempt_at - clock()).total_seconds())
        clock.advance(delays[-1])
    assert await forwarder.drain_once() == 2

    assert forwarder.status.detail is None
    assert len({post.body for post in fake_lrs.posts}) == 1
    assert_stored_once(fake_lrs, statements)
    # Equal jitter: each delay lies in [ceiling/2, ceiling] with the ceiling doubling.
    for attempt, delay in enumerate(delays):
        ceiling = 2.0**attempt
        assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize("header", ["seconds", "http-date"])
async def test_429_waits_for_retry_after(
    header: str, make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(0)])
    retry_after = (
        "30" if header == "seconds" else format_datetime(clock() + timedelta(seconds=30), True)
    )
    fake_lrs.canned = [(429, {"Retry-After": retry_after})]
    forwarder = make()

    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "retrying"
    assert "429" in (forwarder.status.detail or "")

    clock.advance(25)
    assert await forwarder.drain_once() == 0
    assert len(fake_lrs.posts) == 1

    clock.advance(6)
    assert await forwarder.drain_once() == 1
    assert_stored_once(fake_lrs, statements)


async def test_413_halves_the_batch_down_to_what_the_lrs_takes(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.max_batch = 3
    statements = queue(database, clock, [give(n) for n in range(10)])
    forwarder = make()

    assert await forwarder.drain_once() == 10

    assert_stored_once(fake_lrs, statements)
    accepted = [post.ids for post in fake_lrs.posts if len(post.ids) <= 3]
    # Halves are sent in order, so the LRS stores them oldest first.
    assert [i for ids in accepted for i in ids] == [s.id for s in statements]
    assert counts(database).sent == 10


async def test_slow_lrs_times_out_and_the_resend_is_not_stored_twice(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    # The LRS stores the batch but answers after the client gave up; a strict LRS then says 409.
    fake_lrs.strict = True
    fake_lrs.delay = 1.0
    statements = queue(database, clock, [give(n) for n in range(3)])
    forwarder = make(request_timeout=0.2)

    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "retrying"
    assert "did not answer within 0.2 s" in (forwarder.status.detail or "")

    fake_lrs.delay = 0
    clock.advance(8)
    assert await forwarder.drain_once() == 3

    assert_stored_once(fake_lrs, statements)
    assert counts(database).sent == 3
    read_back = [r.query for r in fake_lrs.requests if r.method == "GET"]
    assert read_back == [{"statementId": s.id} for s in statements]


async def test_409_after_a_partial_store_sends_only_the_missing_statements(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.strict = True
    statements = queue(database, clock, [give(n) for n in range(5)])
    # A previous process delivered two of them and died before marking them sent.
    for statement in statements[1:3]:
        fake_lrs.stored[statement.id] = statement.data
        fake_lrs.writes[statement.id] += 1
    forwarder = make()

    assert await forwarder.drain_once() == 5

    assert_stored_once(fake_lrs, statements)
    assert [post.ids for post in fake_lrs.posts] == [
        [s.id for s in statements],
        [statements[0].id, statements[3].id, statements[4].id],
    ]
    assert counts(database).sent == 5
    assert forwarder.status.state == "idle"


async def test_409_for_a_voided_statement_is_found_by_voided_statement_id(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.strict = True
    target = give(0)
    voiding = void(target)
    # Both reached the LRS before a crash; only the target is still pending locally.
    for statement in (target, voiding):
        fake_lrs.stored[statement.id] = statement.data
        fake_lrs.writes[statement.id] += 1
    fake_lrs.voided.add(target.id)
    queue(database, clock, [target])
    forwarder = make()

    assert await forwarder.drain_once() == 1

    assert statuses(database, [target]) == {target.id: "sent"}
    assert fake_lrs.writes[target.id] == 1
    assert [r.query for r in fake_lrs.requests if r.method == "GET"] == [
        {"statementId": target.id},
        {"voidedStatementId": target.id},
    ]


async def test_voiding_statements_travel_alone_and_after_their_targets(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    a, b, c = give(0), give(1), give(2)
    voiding = void(a)
    queue(database, clock, [a, b, voiding, c])
    fake_lrs.canned = [(500, {})]
    forwarder = make()

    assert await forwarder.drain_once() == 0
    # The targets are backing off, so the voiding statement behind them must wait too.
    assert await forwarder.drain_once() == 0
    clock.advance(8)
    while await forwarder.drain_once():
        pass

    assert [post.ids for post in fake_lrs.posts] == [
        [a.id, b.id],
        [a.id, b.id],
        [voiding.id],
        [c.id],
    ]
    assert fake_lrs.visible == {b.id, c.id, voiding.id}
    assert fake_lrs.voided == {a.id}
    assert counts(database).sent == 4


@pytest.mark.parametrize("failure", [401, 403])
async def test_rejected_credentials_pause_and_drop_nothing(
    failure: int, make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(n) for n in range(3)])
    if failure == 401:
        forwarder = make(lrs=LrsConfig(fake_lrs.endpoint, fake_lrs.key, "new-password"))
    else:
        fake_lrs.forbidden = True
        forwarder = make()

    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "paused"
    assert forwarder.status.detail == f"LRS rejected the credentials ({failure})"
    c = counts(database)
    assert (c.pending, c.dead, c.sent) == (3, 0, 0)

    # Paused: no request until the pause retry comes round.
    clock.advance(30)
    assert await forwarder.drain_once() == 0
    assert len(fake_lrs.posts) == 1

    # The operator fixes it on the LRS side; the next retry recovers.
    if failure == 401:
        fake_lrs.secret = "new-password"
    fake_lrs.forbidden = False
    clock.advance(31)
    assert await forwarder.drain_once() == 3
    assert_stored_once(fake_lrs, statements)
    assert forwarder.status.state == "idle"
    assert forwarder.status.detail is None


async def test_a_restart_recovers_from_a_pause_at_once(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(n) for n in range(2)])
    paused = make(lrs=LrsConfig(fake_lrs.endpoint, fake_lrs.key, "wrong"))
    assert await paused.drain_once() == 0
    assert paused.status.state == "paused"
    await paused.close()

    assert await make().drain_once() == 2
    assert_stored_once(fake_lrs, statements)


async def test_an_lrs_rejecting_everything_pauses_instead_of_dead_lettering(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.reject_all = "Unknown property 'context.platform'"
    statements = queue(database, clock, [give(n) for n in range(6)])
    forwarder = make()

    assert await forwarder.drain_once() == 0

    assert forwarder.status.state == "paused"
    assert "Unknown property 'context.platform'" in (forwarder.status.detail or "")
    assert "configuration problem" in (forwarder.status.detail or "")
    c = counts(database)
    assert (c.pending, c.dead) == (6, 0)

    fake_lrs.reject_all = None
    clock.advance(61)
    assert await forwarder.drain_once() == 6
    assert_stored_once(fake_lrs, statements)


async def test_a_lone_bad_statement_after_good_ones_is_dead_lettered(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.reject_marker = "BAD-STATEMENT"
    forwarder = make()
    queue(database, clock, [give(0)])
    assert await forwarder.drain_once() == 1

    bad = queue(database, clock, [give(1, note="BAD-STATEMENT")])[0]
    assert await forwarder.drain_once() == 0

    assert statuses(database, [bad]) == {bad.id: "dead"}
    assert forwarder.status.state == "idle"


async def test_a_lone_rejected_statement_with_no_success_yet_pauses(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    # Nothing shows the LRS accepts our statements at all, so nothing is dead-lettered.
    fake_lrs.reject_marker = "BAD-STATEMENT"
    bad = queue(database, clock, [give(0, note="BAD-STATEMENT")])[0]
    forwarder = make()

    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "paused"
    assert statuses(database, [bad]) == {bad.id: "pending"}

    # Once a good statement shares its batch, the bad one is told apart and dead-lettered.
    good = queue(database, clock, [give(1)])[0]
    clock.advance(61)
    assert await forwarder.drain_once() == 1
    assert statuses(database, [bad, good]) == {bad.id: "dead", good.id: "sent"}
    assert forwarder.status.state == "idle"


async def test_rejections_in_a_row_pause_after_k(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    forwarder = make(max_rejections_in_a_row=3)
    queue(database, clock, [give(0)])
    assert await forwarder.drain_once() == 1

    # The LRS starts refusing everything; statements trickle in one per drain.
    fake_lrs.reject_all = "Statement version not supported"
    trickle = [give(n) for n in range(1, 4)]
    for statement in trickle:
        queue(database, clock, [statement])
        await forwarder.drain_once()

    # Documented trade-off: at most K-1 are dead-lettered before the pause.
    assert statuses(database, trickle) == {
        trickle[0].id: "dead",
        trickle[1].id: "dead",
        trickle[2].id: "pending",
    }
    assert forwarder.status.state == "paused"
    assert "Statement version not supported" in (forwarder.status.detail or "")


async def test_other_client_errors_pause_as_a_wrong_endpoint(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    queue(database, clock, [give(0)])
    forwarder = make(lrs=LrsConfig(fake_lrs.endpoint + "nope/", fake_lrs.key, fake_lrs.secret))

    assert await forwarder.drain_once() == 0

    assert forwarder.status.state == "paused"
    assert "404" in (forwarder.status.detail or "")
    assert "LRS_ENDPOINT" in (forwarder.status.detail or "")
    assert counts(database).pending == 1


async def test_secrets_never_reach_logs_status_or_the_outbox(
    make: MakeForwarder,
    database: Database,
    clock: FakeClock,
    fake_lrs: FakeLrs,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = fake_lrs.secret
    token = base64.b64encode(f"{fake_lrs.key}:{secret}".encode()).decode()
    config = LrsConfig(fake_lrs.endpoint, fake_lrs.key, secret)
    assert secret not in repr(config)
    forwarder = make(lrs=config)
    statements = queue(database, clock, [give(n) for n in range(4)])
    seen: list[str | None] = []

    async def step() -> None:
        await forwarder.drain_once()
        seen.append(forwarder.status.detail)
        clock.advance(61)

    fake_lrs.secret = "rotated"  # 401
    await step()
    fake_lrs.secret = secret
    fake_lrs.canned = [(500, {})]
    await step()
    await fake_lrs.stop()
    await step()
    await fake_lrs.start()
    # An LRS that echoes what it was sent (it happens) must not leak the secret either.
    fake_lrs.reject_all = f"bad request from {secret} with Basic {token}"
    await step()
    fake_lrs.reject_all = None
    original = outbox.mark_sent

    def broken(*args: Any) -> None:
        raise RuntimeError(f"database trouble {secret}")

    monkeypatch.setattr(outbox, "mark_sent", broken)
    await step()
    monkeypatch.setattr(outbox, "mark_sent", original)
    await step()

    assert counts(database).sent == len(statements)
    assert [s is not None for s in seen] == [True, True, True, True, True, False]
    for text in (caplog.text, *(s or "" for s in seen), *last_errors(database)):
        assert token not in text
        # The one place the secret may appear is our own exception's message in a traceback.
        assert secret not in text.replace(f"database trouble {secret}", "")


async def test_disabled_without_an_lrs_keeps_statements_in_the_outbox(
    database: Database, executor: BlockingExecutor, clock: FakeClock
) -> None:
    queue(database, clock, [give(0)])
    forwarder = Forwarder(database, executor, None, clock=clock)

    await forwarder.start()
    forwarder.wake()
    assert await forwarder.drain_once() == 0
    await forwarder.flush(1)
    await forwarder.close()

    assert forwarder.status.state == "disabled"
    assert counts(database).pending == 1


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Polls state owned by other tasks and threads (the fake LRS, the database)."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_the_background_loop_drains_when_woken(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    # A long poll interval: only wake() can explain a prompt delivery.
    forwarder = make(poll_interval=60.0, batch_size=2)
    await forwarder.start()
    await asyncio.sleep(0.05)
    assert fake_lrs.posts == []

    statements = queue(database, clock, [give(n) for n in range(5)])
    forwarder.wake()
    await wait_for(lambda: len(fake_lrs.stored) == 5)
    await wait_for(lambda: counts(database).sent == 5)

    assert_stored_once(fake_lrs, statements)
    assert [len(post.ids) for post in fake_lrs.posts] == [2, 2, 1]
    await wait_for(lambda: forwarder.status.state == "idle")


async def test_close_gives_back_claimed_but_unsent_rows(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    fake_lrs.delay = 5.0
    statements = queue(database, clock, [give(n) for n in range(3)])
    forwarder = make(request_timeout=10.0, poll_interval=60.0)
    await forwarder.start()
    await wait_for(lambda: len(fake_lrs.posts) == 1)

    await forwarder.close()

    assert counts(database).pending == 3
    # The LRS already stored them (it answers late): they count as tried, so an erasure
    # voids them instead of taking them for never sent.
    assert set(fake_lrs.stored) == {s.id for s in statements}
    with database.reading() as session:
        assert {row.attempts for row in session.exec(select(OutboxStatement))} == {1}
    # Claimable again at once, by this process after a restart or by another one.
    with database.transaction() as session:
        again = outbox.claim_batch(session, clock(), 10, timedelta(seconds=120))
    assert [s.statement_id for s in again] == [s.id for s in statements]


async def test_flush_sends_everything_due_then_stops(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(n) for n in range(5)])
    forwarder = make(batch_size=2)

    await forwarder.flush(5.0)

    assert_stored_once(fake_lrs, statements)
    assert counts(database).sent == 5


async def test_flush_returns_when_paused(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    queue(database, clock, [give(0)])
    forwarder = make(lrs=LrsConfig(fake_lrs.endpoint, fake_lrs.key, "wrong"))

    async with asyncio.timeout(2):
        await forwarder.flush(30.0)

    assert forwarder.status.state == "paused"
    assert counts(database).pending == 1


async def test_an_unexpected_error_is_logged_and_retried(
    make: MakeForwarder,
    database: Database,
    clock: FakeClock,
    fake_lrs: FakeLrs,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statements = queue(database, clock, [give(n) for n in range(2)])
    original = outbox.mark_sent
    calls = 0

    def fails_once(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk on fire")
        original(*args)

    monkeypatch.setattr(outbox, "mark_sent", fails_once)
    forwarder = make()

    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "retrying"
    assert forwarder.status.detail is not None
    assert "unexpected error: RuntimeError" in forwarder.status.detail
    (record,) = [r for r in caplog.records if r.exc_info and r.name == "guildbot.xapi"]
    assert "disk on fire" in caplog.text
    assert record.levelno == logging.ERROR

    clock.advance(8)
    assert await forwarder.drain_once() == 2
    # The LRS got the batch twice (lenient, like Learning Locker) and stored it once.
    assert len(fake_lrs.posts) == 2
    assert_stored_once(fake_lrs, statements)


async def test_retrying_clears_once_nothing_is_left_to_send(
    make: MakeForwarder, database: Database, clock: FakeClock, fake_lrs: FakeLrs
) -> None:
    statements = queue(database, clock, [give(0)])
    forwarder = make()
    await fake_lrs.stop()
    assert await forwarder.drain_once() == 0
    assert forwarder.status.state == "retrying"

    # Another replica delivered the row meanwhile.
    with database.transaction() as session:
        outbox.mark_sent(session, [statements[0].id], clock())
    clock.advance(8)
    assert await forwarder.drain_once() == 0

    assert forwarder.status.state == "idle"
    assert forwarder.status.detail is None
