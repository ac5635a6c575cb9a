"""Helper servers for the benchmarks, each in its own process so it never shares a GIL with the
load generator. Both bind 127.0.0.1 only, print `READY <url>` on stdout once listening, and
stop on SIGTERM or SIGINT.

    python bench/_servers.py slack                         FakeSlack (tests/support/slack.py)
    python bench/_servers.py bare --port N --slack-url U   a bare Bolt AsyncApp with /noop
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

# Run as a script from anywhere: the repository root holds `tests` (FakeSlack, signing).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack import SIGNING_SECRET, FakeSlack

LOOPBACK = "127.0.0.1"
BENCH_USERS = {"U0ANN": "Ann", "U0BOB": "Bob"}
# The people who give kudos in the benchmarks (ack_latency.GIVERS): each has a daily quota and
# a lock of their own, as a workplace's many givers have.
GIVER_COUNT = 64
BENCH_USERS.update({f"U0GIVER{n:02d}": f"Giver {n}" for n in range(GIVER_COUNT)})


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_fake_slack() -> None:
    slack = FakeSlack()
    for user_id, name in BENCH_USERS.items():
        slack.add_user(user_id, name)
    await slack.start()
    print(f"READY {slack.base_url}", flush=True)
    try:
        await _until_signalled()
    finally:
        await slack.stop()


def bare_bolt_app(slack_url: str) -> AsyncApp:
    """The baseline: the same Bolt settings as guildbot, one listener that only acks."""
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench-bare", base_url=slack_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )

    @app.command("/noop")
    async def noop(ack: AsyncAck) -> None:
        await ack()

    return app


async def serve_bare_bolt(port: int, slack_url: str) -> None:
    bolt = bare_bolt_app(slack_url)

    # The same glue as bot/app.py, so the comparison is Bolt + aiohttp against guildbot.
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, port).start()
    print(f"READY http://{LOOPBACK}:{port}", flush=True)
    try:
        await _until_signalled()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    servers = parser.add_subparsers(dest="server", required=True)
    servers.add_parser("slack")
    bare = servers.add_parser("bare")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--slack-url", required=True)
    args = parser.parse_args()
    # Like guildbot (bot/cli.py): library chatter off, warnings kept.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.server == "slack":
        asyncio.run(serve_fake_slack())
    else:
        asyncio.run(serve_bare_bolt(args.port, args.slack_url))


if __name__ == "__main__":
    main()
