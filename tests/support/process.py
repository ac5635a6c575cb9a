"""`python -m bot` as a real process, for black-box tests and benchmarks.

The bot gets a hand-built environment (never the test runner's, which may hold real settings)
and runs in its own working directory, so no stray `.env` is read. Its stderr goes to a file
that tests read after the fact.

Loopback only: the bot gets HOST=127.0.0.1. As a guard for any process started without it, a
`sitecustomize` module written next to its working directory (the Python twin of
`tests/lrs/loopback.js`) pins aiohttp servers that bind "all interfaces" to 127.0.0.1. It
changes nothing else.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from sqlmodel import select

from bot.operations import outbox_counts
from storage.database import Database
from storage.repositories.outbox import OutboxCounts
from tests.support.slack import SIGNING_SECRET, sign, slash_command_body

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
LOOPBACK = "127.0.0.1"
BOT_TOKEN = "xoxb-blackbox-0000-DO-NOT-LOG"
START_TIMEOUT_S = 30.0

_SITECUSTOMIZE = '''\
"""Test-only: aiohttp servers asked to bind every interface bind 127.0.0.1 instead."""
try:
    from aiohttp import web_runner as _web_runner
except ImportError:  # the bot fails on its own; nothing to pin
    pass
else:
    _original_init = _web_runner.TCPSite.__init__

    def _loopback_init(self, runner, host=None, *args, **kwargs):
        _original_init(self, runner, host or "127.0.0.1", *args, **kwargs)

    _web_runner.TCPSite.__init__ = _loopback_init
'''


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it; released before returning)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def loopback_shim(directory: Path) -> Path:
    """Writes the loopback `sitecustomize` into `directory/pyshim` and returns that folder."""
    shim = directory / "pyshim"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return shim


def base_env(workdir: Path) -> dict[str, str]:
    """What any Python process needs, and nothing of the caller's guildbot settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(loopback_shim(workdir))]),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


def bot_env(
    workdir: Path, slack_api_url: str, port: int, **overrides: str | None
) -> dict[str, str]:
    """A complete, valid guildbot environment; an override of None removes the variable."""
    env = {
        **base_env(workdir),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "PORT": str(port),
        "HOST": LOOPBACK,
        "DATABASE_URL": f"sqlite:///{workdir / 'guildbot.db'}",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_bot_once(
    env: Mapping[str, str], workdir: Path, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Runs `python -m bot` to completion (for start-up failures); `timeout` only guards hangs."""
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        env=dict(env),
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class BotProcess:
    """One `python -m bot` run, driven over HTTP like Slack and an operator would."""

    _runs = 0

    def __init__(self, env: Mapping[str, str], workdir: Path) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.port = int(self.env["PORT"])
        self.host = self.env.get("HOST") or LOOPBACK
        BotProcess._runs += 1
        self.log_path = workdir / f"bot-{BotProcess._runs}.stderr"
        self.process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def events_url(self) -> str:
        return self.base_url + "/slack/events"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process else None

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rows(self, model: type[T]) -> list[T]:
        """Every row of the table, read from this side (as an operator would)."""
        database = self.database()
        try:
            with database.reading() as session:
                return list(session.exec(select(model)))
        finally:
            database.dispose()

    def database(self) -> Database:
        """The bot's database, opened from this side (SQLite in WAL: safe next to the bot)."""
        return Database(self.env["DATABASE_URL"])

    async def start(self, timeout: float = START_TIMEOUT_S) -> BotProcess:
        """Spawns the bot and waits until /healthz answers 200."""
        with self.log_path.open("wb") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        deadline = time.monotonic() + timeout
        while True:
            if self.process.returncode is not None:
                raise RuntimeError(
                    f"the bot exited with {self.process.returncode} during start-up:\n"
                    + self.stderr()[-3000:]
                )
            try:
                status, _ = await self.get("/healthz")
                if status == 200:
                    return self
            except aiohttp.ClientError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                await self.kill()
                raise RuntimeError(
                    f"the bot did not answer /healthz within {timeout:g} s:\n"
                    + self.stderr()[-3000:]
                )
            await asyncio.sleep(0.05)

    # HTTP ----------------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def get(self, path: str) -> tuple[int, Any]:
        async with self._session().get(self.base_url + path) as response:
            return response.status, await _parsed(response)

    def outbox_counts(self) -> OutboxCounts:
        """Pending, sent and dead statements, read from the bot's database."""
        database = self.database()
        try:
            return outbox_counts(database)
        finally:
            database.dispose()

    def status(self) -> str:
        """What `guildbot status` prints for this bot (same settings, same database)."""
        finished = subprocess.run(
            [str(Path(sys.executable).with_name("guildbot")), "status"],
            env=self.env,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert finished.returncode == 0, finished.stderr
        return finished.stdout

    async def post(
        self,
        body: str,
        headers: Mapping[str, str],
        content_type: str = "application/x-www-form-urlencoded",
    ) -> tuple[int, Any]:
        """POST /slack/events with `body` as is (signing is the caller's)."""
        async with self._session().post(
            self.events_url,
            data=body.encode(),
            headers={"Content-Type": content_type, **headers},
        ) as response:
            return response.status, await _parsed(response)

    async def command(self, command: str, text: str, user: str, **kwargs: Any) -> tuple[int, Any]:
        """A correctly signed slash command; returns as soon as the ack arrives."""
        body = slash_command_body(command, text, user, **kwargs)
        return await self.post(body, sign(body))

    async def event(self, payload: dict[str, Any]) -> tuple[int, Any]:
        body = json.dumps(payload)
        return await self.post(body, sign(body), content_type="application/json")

    # Lifecycle -----------------------------------------------------------------------------

    def send_signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float) -> int:
        """The exit code; raises TimeoutError if the bot is still running after `timeout`."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, like a crash or the OOM killer."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._close_http()

    async def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it overstays. Returns the exit code (None if killed)."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await self.wait(timeout)
            except TimeoutError:
                await self.kill()
                return None
        await self._close_http()
        return self.process.returncode

    async def _close_http(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


async def _parsed(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    if response.content_type == "application/json":
        return json.loads(text)
    # Bolt answers a text-only ack as text/plain, which Slack shows like {"text": …}.
    return {"text": text} if response.status == 200 else text


async def eventually(
    check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Polls `check()` (sync or async) until it returns something truthy; that is returned."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)
