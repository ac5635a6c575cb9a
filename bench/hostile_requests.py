"""What hostile clients cost guildbot: how fast it refuses them, and its real acks meanwhile.

Starts FakeSlack (its own process) and `python -m bot` (SQLite, no LRS) pinned to CPU 0; the
bench itself runs on CPU 1, so the load never shares the bot's core.

1. Refusals, one request at a time: unsigned 1 MiB bodies, 1 MiB bodies with a wrong signature,
   `X-Slack-Request-Timestamp: abc`, a 2 MiB Content-Length. Time to the 401/413.
2. Real acks, open loop at `--rate` (alternating a real `/kudos` and `/guild help`), first
   alone, then while `--half-open` connections hang mid-headers and unsigned 1 MiB bodies
   arrive at `--flood` per second.

    .venv/bin/python bench/hostile_requests.py [--rate 100] [--seconds 5] [--half-open 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from ack_latency import Result, bot_requests, open_loop, start_helper, stop_helper  # noqa: E402

from tests.support.process import LOOPBACK, BotProcess, bot_env, free_port  # noqa: E402
from tests.support.slack import sign  # noqa: E402

MIB = 1024 * 1024
BOT_CPU, LOAD_CPU = 0, 1


def junk(size: int) -> bytes:
    return b"payload=" + b"A" * (size - len("payload="))


async def refusal_times(url: str, count: int) -> dict[str, tuple[list[float], set[int]]]:
    fresh = str(int(time.time()))
    body = junk(MIB)
    forged = {"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": "v0=" + "0" * 64}
    cases = {
        "unsigned 1 MiB": (body, {}),
        "wrong signature 1 MiB": (body, forged),
        "timestamp abc": (b"a=b", {**sign("a=b"), "X-Slack-Request-Timestamp": "abc"}),
        "2 MiB announced": (junk(2 * MIB), forged),
    }
    times: dict[str, tuple[list[float], set[int]]] = {}
    async with aiohttp.ClientSession() as session:
        for name, (data, headers) in cases.items():
            taken: list[float] = []
            statuses: set[int] = set()
            for _ in range(count):
                started = time.perf_counter()
                try:
                    async with session.post(url, data=data, headers=headers) as response:
                        await response.read()
                        statuses.add(response.status)
                except aiohttp.ClientError as error:
                    statuses.add(-1)  # the server hung up mid-body (413 sent early)
                    del error
                taken.append((time.perf_counter() - started) * 1000)
            times[name] = (taken, statuses)
    return times


async def hold_half_open(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection(LOOPBACK, port)
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: guildbot\r\nContent-Le")
        writers.append(writer)
    return writers


async def flood(url: str, per_second: float, stop: asyncio.Event) -> int:
    sent = 0
    body = junk(MIB)
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError):
                async with session.post(url, data=body) as response:
                    await response.read()
            sent += 1
            await asyncio.sleep(1 / per_second)
    return sent


def summary(result: Result) -> str:
    failures = dict(result.failures) or "none"
    return (
        f"ok {len(result.latencies_ms)}/{result.sent}, p50 {result.percentile(0.5):.2f} ms, "
        f"p99 {result.percentile(0.99):.2f} ms, failures {failures}"
    )


async def bench(rate: float, seconds: float, half_open: int, flood_rate: float) -> None:
    os.sched_setaffinity(0, {LOAD_CPU})
    workdir = Path(tempfile.mkdtemp(prefix="guildbot-hostile-"))
    slack, slack_url = await start_helper(["slack"], workdir)
    bot = BotProcess(bot_env(workdir, slack_url, free_port(), KUDOS_DAILY_LIMIT="100000"), workdir)
    try:
        await bot.start()
        os.sched_setaffinity(bot.pid, {BOT_CPU})
        url = bot.events_url
        await open_loop(url, bot_requests("warmup", 50), rate)

        print("1. refusals, one at a time (ms to the answer)")
        for name, (taken, statuses) in (await refusal_times(url, 100)).items():
            taken.sort()
            print(
                f"   {name:<22} statuses {sorted(statuses)}  p50 {statistics.median(taken):6.2f}"
                f"  p99 {taken[int(len(taken) * 0.99) - 1]:6.2f}  max {taken[-1]:6.2f}"
            )

        count = round(rate * seconds)
        print(f"2. real acks, open loop {rate:g}/s for {seconds:g} s")
        print(
            f"   alone:        {summary(await open_loop(url, bot_requests('calm', count), rate))}"
        )
        writers = await hold_half_open(bot.port, half_open)
        stop = asyncio.Event()
        flooding = asyncio.create_task(flood(url, flood_rate, stop))
        under_attack = await open_loop(url, bot_requests("attack", count), rate)
        stop.set()
        flooded = await flooding
        print(
            f"   under attack: {summary(under_attack)}  ({half_open} half-open connections, "
            f"{flooded} unsigned 1 MiB bodies)"
        )
        for writer in writers:
            writer.close()
        tracebacks = bot.stderr().count("Traceback")
        print(f"   tracebacks in the bot's log: {tracebacks}")
    finally:
        await bot.stop()
        await stop_helper(slack)


def main() -> None:
    parser = argparse.ArgumentParser(description="Hostile requests against guildbot.")
    parser.add_argument("--rate", type=float, default=100.0, help="real requests per second")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--half-open", type=int, default=1000, help="connections left hanging")
    parser.add_argument("--flood", type=float, default=20.0, help="unsigned 1 MiB bodies/s")
    args = parser.parse_args()
    asyncio.run(bench(args.rate, args.seconds, args.half_open, args.flood))


if __name__ == "__main__":
    main()
