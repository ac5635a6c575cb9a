"""What a kudos naming a skill costs as its receiver's evidence for that skill grows.

A kudos whose values name a skill (`#python`) is evidence for the receiver in `/expert`: the
same transaction rescores the receiver's standing for that skill from their evidence. This
starts FakeSlack and `python -m bot` as `ack_latency.py` does (the bot pinned to `--bot-cpu`,
the load on the other cores), then sends `--kudos` real `/kudos <@U0BOB> … #python` in chunks
(closed loop, 8 in flight), every one to Bob, and prints each chunk's rate and the bot's CPU time
per kudos. Then the same number of kudos naming no skill, as the anchor: a cost that grows
with Bob's evidence shows as chunks getting slower than the anchor.

    .venv/bin/python bench/skill_evidence.py [--kudos 5000] [--chunk 1000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ack_latency import (  # noqa: E402
    closed_loop,
    cpu_seconds,
    database_url,
    drained,
    start_bots,
    start_helper,
    stop_helper,
    write_requests,
)
from tests.support.process import BotProcess  # noqa: E402


async def chunks(bot: BotProcess, slack_url: str, args: argparse.Namespace, values: str) -> None:
    """`--kudos` kudos in chunks of `--chunk`, each chunk's rate and CPU per kudos."""
    sent = 0
    while sent < args.kudos:
        count = min(args.chunk, args.kudos - sent)
        requests = write_requests(f"evidence.{values or 'none'}.{sent}", count, values)
        cpu_before = cpu_seconds(bot.pid)
        started = time.perf_counter()
        await closed_loop([bot.events_url], requests, args.in_flight)
        acked = time.perf_counter() - started
        args.posted += count
        await drained(slack_url, args.posted, timeout=600)
        cpu = cpu_seconds(bot.pid) - cpu_before
        sent += count
        print(
            f"{values or 'no skill':>9}: kudos {sent - count + 1:>6}–{sent:<6} "
            f"{count / acked:6.0f}/s acknowledged, {1000 * cpu / count:5.2f} ms CPU per kudos",
            flush=True,
        )


async def bench(args: argparse.Namespace) -> None:
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, (cores - {args.bot_cpu}) or cores)
    workdir = Path(tempfile.mkdtemp(prefix="guildbot-bench-evidence-"))
    slack, slack_url = await start_helper(["slack"], workdir)
    args.posted = 0
    args.replicas = 1
    bots: list[BotProcess] = []
    with database_url(workdir, args.postgres) as url:
        try:
            bots += await start_bots(args, workdir, slack_url, url)
            print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, bot on CPU {args.bot_cpu}")
            await chunks(bots[0], slack_url, args, "#python")
            await chunks(bots[0], slack_url, args, "")
        finally:
            for bot in bots:
                await bot.stop()
            await stop_helper(slack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=5000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--bot-cpu", type=int, default=0)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run the bot on it")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
