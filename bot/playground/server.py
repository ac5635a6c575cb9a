"""Starts the playground: the real guildbot (`bot.runtime.serve`: same handlers, domain, SQLite,
outbox, forwarder and an LRS if one is configured) talking to the local Slack stand-in, and the
page on localhost. The stand-in signs every request with a secret generated for this run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from sqlmodel import col, func, select

from bot.config import Settings, load_settings
from bot.playground.guard import LOOPBACK, Guard
from bot.playground.page import add_page_routes
from bot.playground.slack import Channel, Person, PlaygroundSlack
from bot.runtime import StartupError, serve
from storage.database import Database
from storage.models import OutboxStatement
from storage.repositories import lrs_statements

log = logging.getLogger("guildbot.playground")

DEFAULT_DIRECTORY = Path(".playground")
DATABASE_FILE = "guildbot.db"
DEFAULT_PORT = 3000
READY_TIMEOUT_S = 60.0

LND_LEAD = "U0ADA"
PEOPLE = [
    Person(LND_LEAD, "Ada Lovelace", "L&D lead (a guildbot admin here)"),
    Person("U0BEN", "Ben Okafor", "Backend developer"),
    Person("U0CHI", "Chioma Eze", "Data engineer"),
    Person("U0DAN", "Dan Kowalski", "New joiner"),
]
QA_CHANNEL = "C0QUESTIONS"
CHANNELS = [
    Channel("C0GENERAL", "general", "Everyone. Try /kudos, /ask, /lunchlearn, /expert, /skills"),
    Channel(QA_CHANNEL, "questions", "The Q&A channel (QA_CHANNEL): /ask posts questions here"),
    Channel("C0PYTHON", "python", "A topic channel: a typed #python becomes a link to it"),
]

# Seed data: sent through the bot as the people would (signed slash commands), once per data
# directory. Everything it leaves on the page carries a "seed" badge.
SEED_COMMANDS = [
    ("U0BEN", "C0GENERAL", "/skills", "add python:expert, testing, code review"),
    ("U0CHI", "C0GENERAL", "/skills", "add kafka:expert, sql:expert, python"),
    ("U0DAN", "C0GENERAL", "/skills", "add python:learning"),
    ("U0ADA", "C0GENERAL", "/skills", "add facilitation:expert"),
    ("U0DAN", "C0GENERAL", "/ask", "How do I consume a Kafka topic from a Python service? #kafka"),
]
SEED_MESSAGES = [
    (
        "U0CHI",
        "C0GENERAL",
        "Seed data: the playground wrote this and the skills and question you see at first. "
        "Start it with --no-seed for an empty workspace.",
    ),
]


@dataclass
class PlaygroundOptions:
    directory: Path = DEFAULT_DIRECTORY
    port: int = DEFAULT_PORT
    seed: bool = True
    lrs_endpoint: str | None = None
    """Only an LRS named on the playground's command line is used, never LRS_* settings."""
    lrs_key: str | None = field(default=None, repr=False)
    lrs_secret: str | None = field(default=None, repr=False)
    environ: Mapping[str, str] | None = None
    env_file: str | None = ".env"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def data_environment(directory: Path) -> dict[str, str]:
    """The settings every playground run fixes whatever the environment says: its database in
    `directory`, its channels and L&D lead, no digest, the stand-in's home page, and no LRS from
    the environment (trying guildbot must not write to the operator's LRS). The operator's
    commands given `--dir` read the playground's data with these too."""
    return {
        "DATABASE_URL": f"sqlite:///{directory.resolve() / DATABASE_FILE}",
        "QA_CHANNEL": QA_CHANNEL,
        "LND_ADMINS": LND_LEAD,
        "DIGEST_CHANNEL": "",
        "XAPI_HOMEPAGE": "",
        "LRS_ENDPOINT": "",
        "LRS_KEY": "",
        "LRS_SECRET": "",
    }


def playground_settings(
    options: PlaygroundOptions, slack: PlaygroundSlack, api_url: str, bot_port: int
) -> Settings:
    """The operator's settings (quotas, aliases…) with Slack replaced by the stand-in, and the LRS
    given on the command line in place of theirs."""
    environ = dict(os.environ if options.environ is None else options.environ)
    environ.update(data_environment(options.directory))
    environ.update(
        SLACK_BOT_TOKEN=slack.token,
        SLACK_SIGNING_SECRET=slack.signing_secret,
        SLACK_APP_TOKEN="",
        SLACK_API_URL=api_url,
        PORT=str(bot_port),
        LRS_ENDPOINT=options.lrs_endpoint or "",
        LRS_KEY=options.lrs_key or "",
        LRS_SECRET=options.lrs_secret or "",
    )
    return load_settings(environ, env_file=options.env_file)


class Playground:
    def __init__(self, options: PlaygroundOptions) -> None:
        self.options = options
        self.slack = PlaygroundSlack(PEOPLE, CHANNELS, state_file=options.directory / "slack.json")
        self.guard = Guard()
        self.settings: Settings
        self.url = ""
        self.bot_port = 0
        """The bot's own port: a free one picked at each start, where the stand-in posts."""
        self.database: Database
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._bot: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._saver: asyncio.Task[None] | None = None

    async def start(self) -> Playground:
        options = self.options
        options.directory.mkdir(parents=True, exist_ok=True)
        self.slack.load()
        self.slack.on_change(self._changed.set)
        app = web.Application(middlewares=[self.guard.middleware])
        self.slack.routes(app)
        add_page_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Loopback only: the page and the stand-in are for this machine's browser and bot.
        site = web.TCPSite(self._runner, LOOPBACK, options.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise StartupError(
                f"the playground cannot listen on {LOOPBACK}:{options.port} "
                f"({error.strerror}): pick another port with --port"
            ) from None
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.guard.port = port
        self.url = f"http://localhost:{port}/"
        self.slack.public_url = f"http://{LOOPBACK}:{port}/"
        self.bot_port = bot_port = free_port()
        self.settings = playground_settings(
            options, self.slack, self.slack.public_url + "api/", bot_port
        )
        self.slack.bot_url = f"http://{LOOPBACK}:{bot_port}/slack/events"
        await self.slack.start()
        self._bot = asyncio.create_task(serve(self.settings, stop=self._stop, host=LOOPBACK))
        await self._wait_ready(bot_port)
        self.database = Database(self.settings.database_url)
        self._saver = asyncio.create_task(self._save_changes())
        marker = options.directory / "seeded"
        if options.seed and not marker.exists():
            await self.seed()
            marker.write_text("seed data sent on first start; delete this file to send again\n")
        return self

    async def _wait_ready(self, bot_port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with ClientSession(timeout=ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if self._bot is not None and self._bot.done():
                    self._bot.result()  # raises the start-up problem
                    raise StartupError("the bot stopped while starting")
                try:
                    async with http.get(f"http://{LOOPBACK}:{bot_port}/healthz") as response:
                        if response.status == 200:
                            return
                except Exception:
                    pass
                await asyncio.sleep(0.1)
        raise StartupError(f"the bot did not start within {READY_TIMEOUT_S:.0f} s")

    async def seed(self) -> None:
        """Optional seed data, through the real bot; marked on the page."""
        self.slack.seeding = True
        try:
            for user, channel, text in SEED_MESSAGES:
                await self.slack.type_message(user, channel, text)
            for user, channel, command, text in SEED_COMMANDS:
                await self.slack.slash_command(user, channel, command, text)
            await self.settle()
        finally:
            self.slack.seeding = False

    async def settle(self, quiet_s: float = 0.6, limit_s: float = 10.0) -> None:
        """Waits until the bot has stopped calling Slack for a moment (its lazy work is done)."""
        deadline = time.monotonic() + limit_s
        seen = self.slack.version
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            if self.slack.version != seen:
                seen, quiet_since = self.slack.version, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return

    async def _save_changes(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await asyncio.to_thread(self.slack.save)
            except OSError as error:
                log.warning("could not save the playground state: %s", error)
            await asyncio.sleep(0.5)

    async def wait_change(self, since: int, timeout: float) -> None:
        if self.slack.version != since:
            return
        event = asyncio.Event()
        self.slack.on_change(event.set)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self.slack._listeners.remove(event.set)

    @property
    def inbuilt_lrs_url(self) -> str:
        """guildbot's inbuilt LRS, on the bot's own port (a new one at each start)."""
        return f"http://{LOOPBACK}:{self.bot_port}/xapi/"

    def statements(self, limit: int = 100) -> list[dict[str, Any]]:
        """The outbox, newest first, as the page's xAPI panel shows it, each with whether the
        inbuilt LRS holds it."""
        with self.database.reading() as session:
            rows = session.exec(
                select(OutboxStatement).order_by(col(OutboxStatement.seq).desc()).limit(limit)
            ).all()
            stored = lrs_statements.by_ids(session, [row.statement_id for row in rows])
        names = {p.id: p.name for p in PEOPLE}
        return [describe_statement(row, names, row.statement_id in stored) for row in rows]

    def first_activity(self) -> datetime | None:
        """When the first statement was made here: where the page's report starts."""
        with self.database.reading() as session:
            return session.exec(select(func.min(OutboxStatement.statement_timestamp))).one()

    async def run_until_stopped(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop.set)
        assert self._bot is not None
        await self._bot
        await self.stop()

    async def stop(self) -> None:
        self._stop.set()
        if self._bot is not None:
            try:
                await self._bot
            except Exception:
                log.exception("the bot stopped with an error")
        if self._saver is not None:
            self._saver.cancel()
        await self.slack.stop()
        self.slack.save()
        if self._runner is not None:
            await self._runner.cleanup()
        if hasattr(self, "database"):
            self.database.dispose()


def describe_statement(
    row: OutboxStatement, names: Mapping[str, str], in_inbuilt_lrs: bool = False
) -> dict[str, Any]:
    try:
        body = json.loads(row.body)
    except ValueError:
        body = {}
    actor = body.get("actor") or {}
    actor_id = (actor.get("account") or {}).get("name") or actor.get("mbox") or row.actor_id
    verb = body.get("verb") or {}
    verb_name = (verb.get("display") or {}).get("en-US") or str(verb.get("id", "")).rsplit("/")[-1]
    target = body.get("object") or {}
    definition = target.get("definition") or {}
    object_name = (definition.get("name") or {}).get("en-US") or target.get("id", "")
    if target.get("objectType") == "StatementRef":
        object_name = f"statement {target.get('id', '')[:8]}"
    return {
        "id": row.statement_id,
        "actor": names.get(actor_id, actor_id),
        "verb": verb_name,
        "object": object_name,
        "voiding": row.voiding,
        "status": row.status,
        "in_inbuilt_lrs": in_inbuilt_lrs,
        "attempts": row.attempts,
        "error": row.last_error,
        "timestamp": row.statement_timestamp.isoformat() if row.statement_timestamp else None,
        "body": body,
    }


async def run_playground(options: PlaygroundOptions) -> None:
    """`guildbot playground`: serves until SIGINT or SIGTERM, printing the page's URL."""
    playground = Playground(options)
    try:
        await playground.start()
    except BaseException:
        await playground.stop()
        raise
    lrs = (
        f"statements go to the LRS at {playground.settings.lrs_endpoint} (--lrs-endpoint)"
        if playground.settings.lrs_configured
        else (
            f"no LRS configured: statements are stored in guildbot's inbuilt LRS, "
            f"{playground.inbuilt_lrs_url} (read them with a key from `.venv/bin/guildbot lrs "
            f"credentials add NAME --read-only --dir {options.directory}`; see --lrs-endpoint)"
        )
    )
    print(
        f"guildbot playground: open {playground.url}\n"
        f"  the real bot against a local stand-in of Slack; data in {options.directory}/; {lrs}.\n"
        f"  Port {playground.guard.port} serves the page and the stand-in of Slack. The bot itself "
        f"listens on {LOOPBACK}:{playground.bot_port} "
        "(a free port picked at each start, loopback only): the stand-in delivers Slack's signed "
        "requests there, as Slack would to a real bot.\n"
        f"  What was done here: the page's Report button, or "
        f"`.venv/bin/guildbot report --dir {options.directory} --since YYYY-MM-DD`.\n"
        "  Ctrl-C stops it.",
        flush=True,
    )
    await playground.run_until_stopped()
