"""Forwarder throughput to a real local LRS, against a plain batched aiohttp client.

Starts the test LRS (npm `xapi-statements`, in memory, from `tests/lrs`: `npm ci --prefix
tests/lrs`) pinned to one core and runs everything else on another. Each run queues
`--statements` kudos statements (a kudos' `give` and `receive`, as `/kudos` builds them) in a
fresh outbox (SQLite in a temporary directory, or a scratch PostgreSQL database with
`--postgres`), then times, one after the other on the same LRS:

- raw: a plain aiohttp client POSTing the same statements (other ids, the same bytes
  otherwise) as JSON arrays of `--batch`, one request at a time, as fast as the LRS answers;
- forwarder: guildbot's `Forwarder` draining the outbox in batches of `--batch` (claim, POST,
  mark sent, each in the database) until nothing is pending.

They take turns, 2,000 statements each (the outbox filled before each turn, untimed), the one
that goes first alternating, since the LRS slows as it fills.

It prints statements per second for both, per run and the median, and the forwarder's share of
the raw client's rate.

    .venv/bin/python bench/forwarder.py [--statements 20000] [--batch 50] [--runs 3]
    .venv/bin/python bench/forwarder.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.ack_latency import database_url  # noqa: E402
from bot.executor import BlockingExecutor  # noqa: E402
from bot.xapi.forwarder import Forwarder, LrsConfig  # noqa: E402
from bot.xapi.statements import (  # noqa: E402
    BuiltStatement,
    KudosFacts,
    Learner,
    StatementBuilder,
    XapiIdentity,
    queued,
)
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.repositories import outbox  # noqa: E402
from tests.support.lrs import (  # noqa: E402
    LRS_DIR,
    LRS_ENTRY,
    VERSION_HEADER,
    _free_port,
    _ready,
    npm_lrs_env,
)

TEAM = "T0BENCH"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KEY, SECRET = "bench", "bench-secret"
CHUNK = 2000  # statements each client sends in its turn


def kudos_statements(label: str, count: int) -> list[BuiltStatement]:
    """`count` statements: the `give` and `receive` of count/2 kudos, as `/kudos` builds them."""
    builder = StatementBuilder(
        XapiIdentity(TEAM, "https://bench.slack.com", "https://bench.slack.com/guildbot")
    )
    built: list[BuiltStatement] = []
    for n in range(count // 2):
        built += builder.kudos_given(
            KudosFacts(
                kudos_id=f"{label}-{n}",
                giver=Learner("U0ANN", "Ann Archer"),
                receiver=Learner("U0BOB", "Bob Baker"),
                reason=f"for the great demo number {n}",
                values=("teamwork",),
                skills=(),
                channel_id="C0GENERAL",
                permalink=None,
                timestamp=NOW,
            )
        )
    return built


def fill_outbox(database: Database, statements: list[BuiltStatement]) -> None:
    chunk = 1000
    for start in range(0, len(statements), chunk):
        with database.transaction() as session:
            outbox.add(session, queued(TEAM, statements[start : start + chunk]), NOW)


def pending(database: Database) -> int:
    with database.reading() as session:
        return outbox.counts(session).pending


async def raw_client(endpoint: str, statements: list[BuiltStatement], batch: int) -> float:
    """Seconds a plain client takes to POST `bodies` in arrays of `batch`, one at a time."""
    token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    headers = {
        "Authorization": f"Basic {token}",
        VERSION_HEADER: "1.0.3",
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for start in range(0, len(statements), batch):
            # The stored bytes spliced into an array, as the forwarder sends them.
            data = "[" + ",".join(s.body for s in statements[start : start + batch]) + "]"
            async with session.post(endpoint + "statements", data=data, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"the LRS answered {r.status}")
        return time.perf_counter() - started


async def forwarder_drain(database: Database, endpoint: str, batch: int) -> float:
    """Seconds guildbot's forwarder takes to send everything pending."""
    executor = BlockingExecutor(2)
    forwarder = Forwarder(database, executor, LrsConfig(endpoint, KEY, SECRET), batch_size=batch)
    try:
        started = time.perf_counter()
        while await forwarder.drain_once():
            pass
        taken = time.perf_counter() - started
        if left := await executor.run(pending, database):
            raise RuntimeError(f"{left} statements still pending: {forwarder.status}")
        return taken
    finally:
        await forwarder.close()
        executor.shutdown()


@contextlib.contextmanager
def npm_lrs(workdir: Path, cpu: int) -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not LRS_ENTRY.is_file():
        raise SystemExit("the test LRS needs node and `npm ci --prefix tests/lrs`")
    port = _free_port()
    env = npm_lrs_env(port, workdir)
    endpoint = f"http://127.0.0.1:{port}/xAPI/"
    with (workdir / "lrs.log").open("wb") as log_file:
        process = subprocess.Popen(
            ["taskset", "-c", str(cpu), node, "-r", str(LRS_DIR / "loopback.js"), str(LRS_ENTRY)],
            cwd=LRS_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while not _ready(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the test LRS did not start; see {workdir / 'lrs.log'}")
            time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


async def bench(args: argparse.Namespace) -> None:
    cores = sorted(os.sched_getaffinity(0))
    lrs_cpu, own_cpu = cores[-1], cores[0]
    os.sched_setaffinity(0, {own_cpu})
    workdir = Path(tempfile.mkdtemp(prefix="guildbot-bench-forwarder-"))
    raw_rates, forwarder_rates = [], []
    with npm_lrs(workdir, lrs_cpu) as endpoint:
        # Warm-up: the LRS's first requests pay for its start.
        await raw_client(endpoint, kudos_statements("warmup", 500), args.batch)
        print(
            f"forwarder against a plain client, {args.statements} statements in batches of "
            f"{args.batch}, {args.runs} run(s); npm test LRS on CPU {lrs_cpu}, this on {own_cpu}; "
            f"{'PostgreSQL' if args.postgres else 'SQLite'}"
        )
        print(f"{'run':>4} {'raw /s':>9} {'forwarder /s':>13} {'share':>7}")
        for run in range(1, args.runs + 1):
            run_dir = workdir / f"run{run}"
            run_dir.mkdir()
            with database_url(run_dir, args.postgres) as url:
                database = Database(url)
                try:
                    upgrade(database)
                    raw = forwarded = 0.0
                    # In turns, a chunk each, whoever goes first alternating: the LRS slows as it
                    # fills, and both clients must meet it at the same sizes.
                    for chunk in range(0, args.statements, CHUNK):
                        size = min(CHUNK, args.statements - chunk)
                        label = f"run{run}.{chunk}"
                        fill_outbox(database, kudos_statements(label + ".forwarder", size))
                        plain = kudos_statements(label + ".raw", size)
                        if (chunk // CHUNK) % 2:
                            forwarded += await forwarder_drain(database, endpoint, args.batch)
                            raw += await raw_client(endpoint, plain, args.batch)
                        else:
                            raw += await raw_client(endpoint, plain, args.batch)
                            forwarded += await forwarder_drain(database, endpoint, args.batch)
                finally:
                    database.dispose()
            raw_rates.append(args.statements / raw)
            forwarder_rates.append(args.statements / forwarded)
            print(
                f"{run:>4} {raw_rates[-1]:>9.0f} {forwarder_rates[-1]:>13.0f} "
                f"{forwarder_rates[-1] / raw_rates[-1]:>6.0%}",
                flush=True,
            )
    raw_median, forwarder_median = statistics.median(raw_rates), statistics.median(forwarder_rates)
    print(
        f"median: raw {raw_median:.0f}/s, forwarder {forwarder_median:.0f}/s = "
        f"{forwarder_median / raw_median:.0%} of raw"
    )
    print(json.dumps({"raw": raw_rates, "forwarder": forwarder_rates}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20000, help="per run and client")
    parser.add_argument("--batch", type=int, default=50, help="statements per POST")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: the outbox on it")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
