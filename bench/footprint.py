"""guildbot's memory: resident set size when idle, and after many real kudos.

Starts FakeSlack and `python -m bot` the way `ack_latency.py` does (SQLite in a temporary
directory, or a scratch PostgreSQL database with `--postgres`; the inbuilt LRS on, as it is
when LRS_ENDPOINT is not set), the bot pinned to `--bot-cpu`. It reads the bot's RSS from
/proc once it is ready and idle, then sends `--kudos` real `/kudos` (closed loop, 8 in flight),
waits until every recognition is posted, lets it idle again, and reads RSS and peak RSS.

    .venv/bin/python bench/footprint.py                     # 100,000 kudos, SQLite
    .venv/bin/python bench/footprint.py --kudos 10000 --postgres postgresql://postgres@127.0.0.1:5432/test
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
    database_url,
    drained,
    posts_made,
    start_bots,
    start_helper,
    stop_helper,
    write_requests,
)
from tests.support.process import BotProcess  # noqa: E402

IDLE_S = 3.0
# Requests are signed when built and Slack's signature is good for 5 minutes: build them in
# chunks that are sent well within that.
CHUNK = 2000
REPORT_EVERY = 10000


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of the process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def bench(args: argparse.Namespace) -> None:
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, (cores - {args.bot_cpu}) or cores)
    workdir = Path(tempfile.mkdtemp(prefix="guildbot-bench-footprint-"))
    slack, slack_url = await start_helper(["slack"], workdir)
    args.replicas = 1
    bots: list[BotProcess] = []
    with database_url(workdir, args.postgres) as url:
        try:
            bots += await start_bots(args, workdir, slack_url, url)
            [bot] = bots
            await asyncio.sleep(IDLE_S)
            idle, _ = memory_mb(bot.pid)
            print(
                f"idle after start: RSS {idle:.1f} MB ({'PostgreSQL' if args.postgres else 'SQLite'})"
            )
            started = time.perf_counter()
            sent = 0
            while sent < args.kudos:
                count = min(CHUNK, args.kudos - sent)
                await closed_loop(
                    [bot.events_url], write_requests(f"footprint.{sent}", count), args.in_flight
                )
                sent += count
                await drained(slack_url, sent, timeout=600)
                if sent % REPORT_EVERY == 0 or sent == args.kudos:
                    rss, peak = memory_mb(bot.pid)
                    rate = sent / (time.perf_counter() - started)
                    print(
                        f"{sent:>7} kudos: RSS {rss:.1f} MB, peak {peak:.1f} MB ({rate:.0f}/s)",
                        flush=True,
                    )
            await asyncio.sleep(IDLE_S)
            rss, peak = memory_mb(bot.pid)
            print(
                f"after {sent} kudos ({await posts_made(slack_url)} recognitions posted), idle: "
                f"RSS {rss:.1f} MB, peak {peak:.1f} MB"
            )
        finally:
            for bot in bots:
                await bot.stop()
            await stop_helper(slack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--bot-cpu", type=int, default=0)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run the bot on it")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
