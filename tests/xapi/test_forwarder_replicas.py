"""Two forwarder processes on one outbox and a slow LRS: each statement is POSTed by one of them.

A batch can outlast its lease: here the lease is 2 s and every POST takes 0.6 s, and one bad
statement makes the LRS reject batches until bisection isolates it (about 9 POSTs, over 5 s).
The forwarder renews its lease between requests, so the other replica never takes over rows
still in flight. Runs on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.executor import BlockingExecutor
from bot.xapi.forwarder import Forwarder
from storage.database import Database
from storage.repositories import outbox
from storage.repositories.outbox import NewStatement
from tests.support.lrs import FakeLrs

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
LEASE_S, REQUEST_TIMEOUT_S, LRS_DELAY_S = 2.0, 0.9, 0.6
BAD = "statement-the-lrs-rejects"


def new_statement(n: int, bad: bool = False) -> NewStatement:
    statement_id = str(uuid.uuid4())
    body = {
        "id": statement_id,
        "actor": {"account": {"homePage": "https://acme.slack.com/", "name": "U0ANN"}},
        "verb": {"id": "http://activitystrea.ms/give"},
        "object": {"id": f"https://guild.example.com/kudos/{BAD if bad else n}"},
        "timestamp": (NOW + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z"),
    }
    return NewStatement(statement_id, "T0ACME", "U0ANN", json.dumps(body), NOW)


async def run_replica(database: Database, lrs: FakeLrs, name: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.forwarder_replica",
        database.url,
        lrs.endpoint,
        name,
        str(LEASE_S),
        str(REQUEST_TIMEOUT_S),
        cwd=ROOT,
    )
    return await asyncio.wait_for(process.wait(), 90)


def replica_of(headers: dict[str, str]) -> str:
    token = headers["Authorization"].removeprefix("Basic ")
    return base64.b64decode(token).decode().split(":")[0]


async def test_two_replicas_never_post_the_same_statement(database: Database) -> None:
    statements = [new_statement(n, bad=n == 5) for n in range(64)]
    with database.transaction() as session:
        outbox.add(session, statements, NOW)
    lrs = FakeLrs(check_credentials=False, delay=LRS_DELAY_S, reject_marker=BAD)
    await lrs.start()
    try:
        exits = await asyncio.gather(
            run_replica(database, lrs, "replica-a"), run_replica(database, lrs, "replica-b")
        )
    finally:
        await lrs.stop()

    assert exits == [0, 0]
    posted_by: dict[str, set[str]] = defaultdict(set)
    for post in lrs.posts:
        for statement_id in post.ids:
            posted_by[statement_id].add(replica_of(post.headers))
    assert set(posted_by) == {s.statement_id for s in statements}
    shared = {sid: who for sid, who in posted_by.items() if len(who) > 1}
    assert shared == {}, f"{len(shared)} statements were POSTed by both replicas"
    # Both took part, and everything ended delivered once, the bad one dead-lettered.
    assert {replica_of(p.headers) for p in lrs.posts} == {"replica-a", "replica-b"}
    assert set(lrs.writes.values()) == {1} and len(lrs.writes) == 63
    with database.reading() as session:
        counts = outbox.counts(session)
    assert (counts.sent, counts.dead, counts.pending) == (63, 1, 0)


def test_a_lease_shorter_than_two_request_timeouts_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")

    with pytest.raises(ValueError, match="twice the LRS request timeout"):
        Forwarder(database, BlockingExecutor(1), None, lease=timedelta(seconds=10))
