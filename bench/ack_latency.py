"""Ack latency and capacity of guildbot against a bare Bolt app, on one pinned core.

Starts, all on 127.0.0.1: FakeSlack (its own process), `python -m bot` (SQLite in a temporary
directory, or a scratch PostgreSQL database with `--postgres`; KUDOS_DAILY_LIMIT raised so no
request is refused for quota), and a bare `AsyncApp(process_before_response=True)` whose only
command `/noop` just acks. The bot and bare Bolt are pinned to CPU 0 (`--bot-cpu`); the load
generator and FakeSlack to the other cores, as a small container would run.

Open loop, one target after the other, at `--rate` for `--seconds`, `--runs` times:
- bare Bolt: `/noop`;
- help: `/kudos help` and `/guild help` alternating (guildbot's ack without a write);
- write: a real `/kudos <@U0BOB> …` each (one kudos, its statements and its owed recognition
  committed before the ack).
Before each target the bench waits until every recognition the previous one owed is posted.
Latency runs from the moment a request was *due* to the end of its answer (no coordinated
omission). Budget: p99 ≤ max(1.5 × bare p99, bare p99 + 5 ms), per run and as the median.

Then capacity, closed loop: `--in-flight` real `/kudos` at a time for `--capacity-seconds`;
the figure is kudos acknowledged per second *and* recognised per second (the time until the
last owed recognition reached FakeSlack).

    .venv/bin/python bench/ack_latency.py [--rate 200] [--seconds 10] [--runs 3]
    .venv/bin/python bench/ack_latency.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/ack_latency.py --runs 0 --profile /tmp/capacity.txt  # py-spy on the capacity run

`--profile FILE` samples the (first) bot with py-spy during the capacity run (py-spy must be
on PATH or next to this Python: `.venv/bin/pip install py-spy`, a tool, not a dependency),
writes its collapsed stacks to FILE and prints the frames with the largest inclusive and self
shares. `--runs 0` skips the latency targets (capacity only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script from anywhere: the repository root holds `tests` (process and Slack helpers).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench._servers import GIVER_COUNT  # noqa: E402
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
    # Slack sends every command a response URL on hooks.slack.com (never called here: the bot
    # answers through it only where it cannot post).
    response_url = f"https://hooks.slack.com/commands/T0GUILD/{trigger_id}/bench"
    body = slash_command_body(command, text, user, response_url=response_url, trigger_id=trigger_id)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    return Request(body.encode(), headers, expect)


def help_requests(label: str, count: int) -> list[Request]:
    """`/kudos help` and `/guild help` alternating: guildbot's ack path without a write."""
    return [
        _signed(
            "/kudos" if i % 2 == 0 else "/guild", "help", "U0ANN", f"bench.{label}.{i}", "/kudos"
        )
        for i in range(count)
    ]


def write_requests(label: str, count: int, values: str = "") -> list[Request]:
    """A real /kudos each: stored with its statements and owed recognition before the ack.
    The givers take turns (`GIVER_COUNT` of them, FakeSlack knows each), as in a workplace.
    `values`: appended to each reason (`#python` names a skill: evidence for Bob)."""
    return [
        _signed(
            "/kudos",
            f"<@U0BOB> for the great demo number {i} {values}".rstrip(),
            f"U0GIVER{i % GIVER_COUNT:02d}",
            f"bench.{label}.{i}",
            "Kudos sent",
        )
        for i in range(count)
    ]


def bare_requests(label: str, count: int) -> list[Request]:
    return [_signed("/noop", "", "U0ANN", f"bench.{label}.{i}", None) for i in range(count)]


def bot_requests(label: str, count: int) -> list[Request]:
    """Alternating a real /kudos and /guild help (what other benches use as a mixed load)."""
    writes, helps = write_requests(label, count), help_requests(label, count)
    return [writes[i] if i % 2 == 0 else helps[i] for i in range(count)]


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


async def closed_loop(urls: Sequence[str], requests: Sequence[Request], in_flight: int) -> float:
    """Sends `requests` with `in_flight` outstanding at a time, spread over `urls`; returns the
    seconds until the last answer. Every answer must be a 200 with the expected text."""
    queue = list(reversed(requests))
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    failures: Counter[str] = Counter()
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=timeout
    ) as session:

        async def worker(n: int) -> None:
            url = urls[n % len(urls)]
            while queue:
                request = queue.pop()
                async with session.post(url, data=request.body, headers=request.headers) as r:
                    text = await r.text()
                    if r.status != 200 or (request.expect and request.expect not in text):
                        failures[f"HTTP {r.status}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(in_flight)))
        taken = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"capacity run failed: {dict(failures)}")
    return taken


async def posts_made(slack_url: str) -> int:
    """How many chat.postMessage calls FakeSlack has answered so far."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(slack_url.replace("/api/", "/calls")) as r,
    ):
        return int((await r.json()).get("chat.postMessage", 0))


async def drained(slack_url: str, expected: int, timeout: float = 120.0) -> float:
    """Waits until FakeSlack has `expected` posts; returns when that happened (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while (made := await posts_made(slack_url)) < expected:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {made} of {expected} recognitions were posted")
        await asyncio.sleep(0.02)
    return time.perf_counter()


def _cpu_in(stat: Path) -> float:
    """User + system CPU seconds from a /proc `stat` file (a process's or one thread's)."""
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far (all threads)."""
    return _cpu_in(Path(f"/proc/{pid}/stat"))


def cpu_of_threads(pid: int) -> dict[int, float]:
    """CPU time each thread of the process has used so far, by thread id (the main thread's
    id is the process's)."""
    used = {}
    for thread in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError):  # the thread ended meanwhile
            used[int(thread)] = _cpu_in(Path(f"/proc/{pid}/task/{thread}/stat"))
    return used


def pin(pid: int, cpus: set[int]) -> None:
    """Like `taskset -p`: the process (all its threads) runs only on `cpus`."""
    for thread in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(thread), cpus)


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


def py_spy() -> str:
    """py-spy next to this Python (a venv's bin), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


async def start_profile(pid: int, output: str) -> asyncio.subprocess.Process:
    """py-spy sampling `pid` at 200 Hz until stopped, into collapsed stacks (what flamegraph.pl
    or speedscope.app draw): every thread, but only while it holds the GIL. On one core a
    thread waiting for the GIL is "on CPU" too, and counting it overstated whichever waited."""
    return await asyncio.create_subprocess_exec(
        py_spy(), "record", "--pid", str(pid), "--rate", "200", "--threads", "--gil",
        "--format", "raw", "--output", output, "--nonblocking",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def stop_profile(process: asyncio.subprocess.Process) -> None:
    process.send_signal(2)  # SIGINT: py-spy writes its file and exits
    await asyncio.wait_for(process.wait(), 30)


def top_frames(collapsed: Path, count: int = 15) -> str:
    """The frames with the largest inclusive and self shares of all (on-CPU) samples."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue  # a frame of generated code, its source split over lines
        samples = int(n)
        # The first frame names the thread; the rest are `function (file:line)`.
        frames = [_frame(f) for f in stack.split(";")[1:]]
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        if frames:
            own[frames[-1]] += samples
    lines = [f"{total} samples; inclusive share:"]
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in inclusive.most_common(count)]
    lines.append("self share:")
    lines += [f"  {100 * n / total:5.1f} %  {f}" for f, n in own.most_common(count)]
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """`fn (path/to/module.py:12)` → `fn (module.py)`: lines merged, paths shortened."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.rstrip(')').rpartition(':')[0]).name})"


def _row(run: str, target: str, result: Result) -> str:
    failures = ", ".join(f"{n} {what}" for what, n in result.failures.items()) or "-"
    return (
        f"{run:>6}  {target:<9} {result.sent:>6} {len(result.latencies_ms):>6} "
        f"{result.percentile(0.50):>8.2f} {result.percentile(0.99):>8.2f} "
        f"{max(result.latencies_ms, default=math.nan):>8.2f} {result.max_send_lag_ms:>8.2f}  "
        f"{failures}"
    )


@contextlib.contextmanager
def database_url(workdir: Path, postgres: str | None) -> Iterator[str]:
    """The bot's DATABASE_URL: a SQLite file in `workdir`, or a scratch PostgreSQL database."""
    if postgres is None:
        yield f"sqlite:///{workdir / 'guildbot.db'}"
        return
    from bot.config import _database_url
    from tests.support.databases import scratch_postgres

    with scratch_postgres(_database_url(postgres)) as url:
        yield url


async def start_bots(
    args: argparse.Namespace, workdir: Path, slack_url: str, database: str
) -> list[BotProcess]:
    """The bot's replicas, each pinned to its CPU."""
    bots = []
    for replica in range(args.replicas):
        bot = BotProcess(
            bot_env(
                workdir,
                slack_url,
                free_port(),
                DATABASE_URL=database,
                KUDOS_DAILY_LIMIT="10000000",
                KUDOS_MANAGER_DAILY_LIMIT="10000000",
            ),
            workdir,
        )
        await bot.start()
        pin(bot.pid, {args.bot_cpu + replica})
        bots.append(bot)
    return bots


async def warm_up(
    targets: dict[str, tuple[str, Callable[[str, int], list[Request]]]], rate: float
) -> None:
    """First requests pay for auth.test and the profile look-ups: not measured. Two requests
    per giver, so every profile is cached before the measurements."""
    for name, (target_url, make) in targets.items():
        warmup = await open_loop(
            target_url, make(f"warmup.{name}", 2 * GIVER_COUNT), min(rate, 100)
        )
        if warmup.failures:
            raise RuntimeError(f"{name} failed during warm-up: {dict(warmup.failures)}")


async def measure_latency(
    targets: dict[str, tuple[str, Callable[[str, int], list[Request]]]],
    slack_url: str,
    posted: int,
    rate: float,
    count: int,
    runs: int,
) -> tuple[dict[str, list[Result]], int]:
    """Each target open loop, in turn, `runs` times; returns the results and the posts owed."""
    results: dict[str, list[Result]] = {name: [] for name in targets}
    for run in range(1, runs + 1):
        for name, (target_url, make) in targets.items():
            await drained(slack_url, posted)  # what the last target owed is done
            result = await open_loop(target_url, make(f"run{run}.{name}", count), rate)
            results[name].append(result)
            if name == "write":
                posted += len(result.latencies_ms)
            print(_row(str(run), name, result), flush=True)
            await asyncio.sleep(SETTLE_S)
    await drained(slack_url, posted)
    return results, posted


async def measure_bare_capacity(args: argparse.Namespace, bare_url: str, bare_pid: int) -> None:
    """The anchor: how many `/noop` bare Bolt acknowledges per second on the same core, closed
    loop with as many in flight, and its CPU time per request (the floor under any command)."""
    total = round(args.capacity_seconds * 1000)
    cpu_before = cpu_seconds(bare_pid)
    taken = await closed_loop([bare_url], bare_requests("capacity", total), args.in_flight)
    cpu_used = cpu_seconds(bare_pid) - cpu_before
    print(
        f"capacity of bare Bolt, same loop: {total} /noop acknowledged in {taken:.2f} s = "
        f"{total / taken:.0f}/s; {1000 * cpu_used / total:.2f} ms CPU per request"
    )


async def measure_capacity(
    args: argparse.Namespace, bots: list[BotProcess], slack_url: str, posted: int
) -> None:
    """Closed loop: how many real /kudos the bots acknowledge, and post, per second."""
    urls = [bot.events_url for bot in bots]
    total = round(args.capacity_seconds * 1000)
    kudos = write_requests("capacity", total)
    profiles = []
    if args.profile:
        profiles.append(await start_profile(bots[0].pid, args.profile))
        await asyncio.sleep(1.0)  # py-spy attaches
    cpu_before = sum(cpu_seconds(bot.pid) for bot in bots)
    threads_before = cpu_of_threads(bots[0].pid)
    started = time.perf_counter()
    acked_in = await closed_loop(urls, kudos, args.in_flight)
    done_at = await drained(slack_url, posted + total)
    cpu_used = sum(cpu_seconds(bot.pid) for bot in bots) - cpu_before
    threads_used = {
        tid: used - threads_before.get(tid, 0.0)
        for tid, used in cpu_of_threads(bots[0].pid).items()
    }
    for profile in profiles:
        await stop_profile(profile)
    print(
        f"capacity, closed loop, {args.in_flight} in flight, {args.replicas} "
        f"replica(s): {total} real /kudos acknowledged in {acked_in:.2f} s = "
        f"{total / acked_in:.0f}/s; every recognition posted after "
        f"{done_at - started:.2f} s = {total / (done_at - started):.0f}/s"
    )
    # What a shared machine cannot blur: the bot's own CPU time per kudos.
    print(
        f"bot CPU time: {1000 * cpu_used / total:.2f} ms per kudos, its core "
        f"{100 * cpu_used / (done_at - started) / args.replicas:.0f} % busy"
    )
    # The first bot handled 1 / replicas of the kudos.
    per_kudos = {tid: 1000 * used * args.replicas / total for tid, used in threads_used.items()}
    event_loop = per_kudos.pop(bots[0].pid, 0.0)
    others = sorted((ms for ms in per_kudos.values() if ms > 0), reverse=True)[:4]
    print(
        f"of which, per kudos (first bot): event loop {event_loop:.2f} ms, other threads "
        + ", ".join(f"{ms:.2f}" for ms in others)
        + " ms"
    )
    if args.profile:
        print(f"py-spy, capacity run of the first bot: {args.profile}")
        print(top_frames(Path(args.profile)))


async def bench(args: argparse.Namespace) -> int:
    rate, seconds, runs = args.rate, args.seconds, args.runs
    count = max(1, round(rate * seconds))
    cores = os.sched_getaffinity(0)
    bot_cpus = {args.bot_cpu + i for i in range(args.replicas)}
    load_cpus = (cores - bot_cpus) or cores
    os.sched_setaffinity(0, load_cpus)  # this generator, and FakeSlack started from it
    workdir = Path(tempfile.mkdtemp(prefix="guildbot-bench-"))
    slack, slack_url = await start_helper(["slack"], workdir)
    bots: list[BotProcess] = []
    bare: asyncio.subprocess.Process | None = None
    with database_url(workdir, args.postgres) as url:
        try:
            bots += await start_bots(args, workdir, slack_url, url)
            bare, bare_url = await start_helper(
                ["bare", "--port", str(free_port()), "--slack-url", slack_url], workdir
            )
            pin(bare.pid, {args.bot_cpu})
            bot_url = bots[0].events_url
            targets = {
                "bare Bolt": (bare_url + "/slack/events", bare_requests),
                "help": (bot_url, help_requests),
                "write": (bot_url, write_requests),
            }
            posted = 0
            await warm_up(targets, rate)
            posted = await posts_made(slack_url)
            print(
                f"ack latency, open loop: {rate:g} requests/s for {seconds:g} s, {runs} run(s) "
                f"per target; bot and bare Bolt on CPU {args.bot_cpu}, load on "
                f"{sorted(load_cpus)}; {'PostgreSQL' if args.postgres else 'SQLite'}"
            )
            print(
                f"{'run':>6}  {'target':<9} {'sent':>6} {'ok':>6} {'p50':>8} {'p99':>8} "
                f"{'max':>8} {'send lag':>8}  failures"
            )
            results, posted = await measure_latency(targets, slack_url, posted, rate, count, runs)
            within = report_latency(results, runs) if runs else True
            print()
            await measure_bare_capacity(args, bare_url + "/slack/events", bare.pid)
            await measure_capacity(args, bots, slack_url, posted)
            failed = sum(sum(r.failures.values()) for rs in results.values() for r in rs)
            if failed:
                print(f"{failed} request(s) failed; see the failures column")
            return 0 if within and not failed else 1
        finally:
            if bare is not None:
                await stop_helper(bare)
            for bot in bots:
                await bot.stop()
                errors = [line for line in bot.stderr().splitlines() if "ERROR" in line]
                if errors:
                    print(f"guildbot logged {len(errors)} error line(s), first: {errors[0]}")
            await stop_helper(slack)


def report_latency(results: dict[str, list[Result]], runs: int) -> bool:
    """Prints the medians and the budget check; True when both guildbot targets are within."""
    p50 = {name: statistics.median(r.percentile(0.5) for r in rs) for name, rs in results.items()}
    p99 = {name: statistics.median(r.percentile(0.99) for r in rs) for name, rs in results.items()}
    bare_p99 = p99["bare Bolt"]
    budget = max(1.5 * bare_p99, bare_p99 + 5.0)
    print()
    print(f"median of {runs}: {'target':<9} {'p50':>8} {'p99':>8}")
    for name in results:
        print(f"{'':>11} {name:<9} {p50[name]:>8.2f} {p99[name]:>8.2f}")
    within = True
    for name in ("help", "write"):
        ok = p99[name] <= budget
        within &= ok
        print(
            f"p99 {name} {p99[name]:.2f} ms ≤ max(1.5 × {bare_p99:.2f}, {bare_p99:.2f} + 5) "
            f"= {budget:.2f} ms: {'yes' if ok else 'NO'}"
        )
    return within


def main() -> None:
    parser = argparse.ArgumentParser(description="Ack latency and capacity against bare Bolt.")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs per target (median reported)")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run the bot on it")
    parser.add_argument("--bot-cpu", type=int, default=0, help="the core the bot runs on")
    parser.add_argument("--replicas", type=int, default=1, help="bots on one database")
    parser.add_argument("--in-flight", type=int, default=8, help="capacity: requests at a time")
    parser.add_argument(
        "--capacity-seconds", type=float, default=3.0, help="capacity: 1,000 kudos per second"
    )
    parser.add_argument("--profile", help="py-spy the capacity run into FILE")
    sys.exit(asyncio.run(bench(parser.parse_args())))


if __name__ == "__main__":
    main()
