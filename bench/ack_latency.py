"""Ack latency of guildbot against a bare Bolt app, open loop.

Starts, all on 127.0.0.1: FakeSlack (its own process), `python -m bot` (SQLite in a temporary
directory, KUDOS_DAILY_LIMIT raised so no request is refused for quota), and a bare
`AsyncApp(process_before_response=True)` whose only command `/noop` just acks (its own process,
same aiohttp glue as guildbot). Then, one target after the other (never both at once: they share
the machine's cores), it sends correctly signed slash commands at a fixed interval whatever the
answers (open loop): alternating `/kudos <@U0BOB> …` (a real receiver, unique trigger_id) and
`/guild help` to guildbot, `/noop` to bare Bolt.

Latency runs from the moment a request was *due* to the end of its answer, so a slow answer
delays nothing else and a late send is charged to the target (no coordinated omission).

    .venv/bin/python bench/ack_latency.py [--rate 200] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script from anywhere: the repository root holds `tests` (process and Slack helpers).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.support.process import BotProcess, base_env, bot_env, free_port  # noqa: E402
from tests.support.slack import sign, slash_command_body  # noqa: E402

SERVERS = Path(__file__).resolve().parent / "_servers.py"
HELPER_START_TIMEOUT_S = 30.0
WARMUP_S = 1.0
SETTLE_S = 1.0  # lets lazy work (recognition posts) finish between measurements
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]
    expect: str | None
    """Text the answer must contain, else it counts as a wrong answer."""


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    max_send_lag_ms: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + sum(self.failures.values())

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in ms (nan with no answers)."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _signed(command: str, text: str, user: str, trigger_id: str, expect: str | None) -> Request:
    body = slash_command_body(command, text, user, trigger_id=trigger_id)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    return Request(body.encode(), headers, expect)


def bot_requests(label: str, count: int) -> list[Request]:
    """Alternating /kudos (stored, posted) and /guild help (ack only), signed now."""
    requests: list[Request] = []
    for i in range(count):
        if i % 2 == 0:
            requests.append(
                _signed(
                    "/kudos",
                    f"<@U0BOB> for the great demo number {i}",
                    "U0ANN",
                    f"bench.{label}.{i}",
                    "Kudos sent",
                )
            )
        else:
            requests.append(_signed("/guild", "help", "U0ANN", f"bench.{label}.{i}", "/kudos"))
    return requests


def bare_requests(label: str, count: int) -> list[Request]:
    return [_signed("/noop", "", "U0ANN", f"bench.{label}.{i}", None) for i in range(count)]


async def open_loop(url: str, requests: Sequence[Request], rate: float) -> Result:
    """Sends `requests` every 1/rate s regardless of answers; one ClientSession throughout."""
    result = Result()
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0)  # open loop: never queue behind a pool limit

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(request: Request, due: float) -> None:
            result.max_send_lag_ms = max(result.max_send_lag_ms, (loop.time() - due) * 1000)
            try:
                async with session.post(url, data=request.body, headers=request.headers) as r:
                    text = await r.text()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError) as error:
                result.failures[type(error).__name__] += 1
                return
            if status != 200:
                result.failures[f"HTTP {status}"] += 1
            elif request.expect is not None and request.expect not in text:
                result.failures["wrong answer"] += 1
            else:
                result.latencies_ms.append((loop.time() - due) * 1000)

        tasks: list[asyncio.Task[None]] = []
        start = loop.time() + 0.05
        for i, request in enumerate(requests):
            due = start + i * interval
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(request, due)))
        await asyncio.gather(*tasks)
    return result


async def start_helper(
    args: Sequence[str], workdir: Path
) -> tuple[asyncio.subprocess.Process, str]:
    """Starts a bench/_servers.py server; returns it and the URL it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SERVERS),
        *args,
        env=base_env(workdir),
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), HELPER_START_TIMEOUT_S)
    if not line.startswith(b"READY "):
        process.kill()
        raise RuntimeError(f"{' '.join(args)} did not start: {line!r}")
    return process, line.decode().split()[1]


async def stop_helper(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def _row(run: str, target: str, result: Result) -> str:
    failures = ", ".join(f"{n} {what}" for what, n in result.failures.items()) or "-"
    return (
        f"{run:>6}  {target:<9} {result.sent:>6} {len(result.latencies_ms):>6} "
        f"{result.percentile(0.50):>8.2f} {result.percentile(0.99):>8.2f} "
        f"{max(result.latencies_ms, default=math.nan):>8.2f} {result.max_send_lag_ms:>8.2f}  "
        f"{failures}"
    )


async def bench(rate: float, seconds: float, runs: int) -> int:
    count = max(1, round(rate * seconds))
    workdir = Path(tempfile.mkdtemp(prefix="guildbot-bench-"))
    slack, slack_url = await start_helper(["slack"], workdir)
    bot: BotProcess | None = None
    bare: asyncio.subprocess.Process | None = None
    try:
        bot = BotProcess(
            bot_env(
                workdir,
                slack_url,
                free_port(),
                KUDOS_DAILY_LIMIT="100000",
                KUDOS_MANAGER_DAILY_LIMIT="100000",
            ),
            workdir,
        )
        await bot.start()
        bare, bare_url = await start_helper(
            ["bare", "--port", str(free_port()), "--slack-url", slack_url], workdir
        )
        targets = {
            "guildbot": (bot.events_url, bot_requests),
            "bare Bolt": (bare_url + "/slack/events", bare_requests),
        }
        warm = max(2, round(rate * WARMUP_S))
        for name, (url, make) in targets.items():
            # First requests pay for auth.test and the profile look-ups: not measured.
            warmup = await open_loop(url, make(f"warmup.{name}", warm), rate)
            if warmup.failures:
                raise RuntimeError(f"{name} failed during warm-up: {dict(warmup.failures)}")
            await asyncio.sleep(SETTLE_S)

        print(
            f"ack latency, open loop: {rate:g} requests/s for {seconds:g} s, {runs} run(s) per "
            "target, one target at a time; ms from the due time to the end of the answer"
        )
        print(
            f"{'run':>6}  {'target':<9} {'sent':>6} {'ok':>6} {'p50':>8} {'p99':>8} "
            f"{'max':>8} {'send lag':>8}  failures"
        )
        results: dict[str, list[Result]] = {name: [] for name in targets}
        for run in range(1, runs + 1):
            for name, (url, make) in targets.items():
                result = await open_loop(url, make(f"run{run}.{name}", count), rate)
                results[name].append(result)
                print(_row(str(run), name, result), flush=True)
                await asyncio.sleep(SETTLE_S)

        p50 = {
            name: statistics.median(r.percentile(0.5) for r in rs) for name, rs in results.items()
        }
        p99 = {
            name: statistics.median(r.percentile(0.99) for r in rs) for name, rs in results.items()
        }
        bot_p99, bare_p99 = p99["guildbot"], p99["bare Bolt"]
        budget = max(1.5 * bare_p99, bare_p99 + 5.0)
        within = bot_p99 <= budget
        print()
        print(f"median of {runs}: {'target':<9} {'p50':>8} {'p99':>8}")
        for name in targets:
            print(f"{'':>11} {name:<9} {p50[name]:>8.2f} {p99[name]:>8.2f}")
        print(f"ratio p99 guildbot / bare Bolt: {bot_p99 / bare_p99:.2f}")
        print(
            f"p99 guildbot {bot_p99:.2f} ms ≤ max(1.5 × {bare_p99:.2f}, {bare_p99:.2f} + 5) "
            f"= {budget:.2f} ms: {'yes' if within else 'NO'}"
        )
        failed = sum(sum(r.failures.values()) for rs in results.values() for r in rs)
        if failed:
            print(f"{failed} request(s) failed; see the failures column")
        return 0 if within and not failed else 1
    finally:
        if bare is not None:
            await stop_helper(bare)
        if bot is not None:
            await bot.stop()
            errors = [line for line in bot.stderr().splitlines() if "ERROR" in line]
            if errors:
                print(f"guildbot logged {len(errors)} error line(s), first: {errors[0]}")
        await stop_helper(slack)


def main() -> None:
    parser = argparse.ArgumentParser(description="Ack latency: guildbot against bare Bolt.")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs per target (median reported)")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.runs < 1:
        parser.error("--rate and --seconds must be positive, --runs at least 1")
    started = time.monotonic()
    code = asyncio.run(bench(args.rate, args.seconds, args.runs))
    print(f"({time.monotonic() - started:.0f} s in all)")
    sys.exit(code)


if __name__ == "__main__":
    main()
