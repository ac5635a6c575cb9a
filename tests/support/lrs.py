"""LRS peers for forwarder tests.

- `fake_lrs`: an in-process aiohttp LRS on 127.0.0.1 that stores statements by id and fails on
  demand (down, 5xx, 429, 400 for marked statements, 401/403, 413, slow, strict 409).
- `real_lrs`: a real LRS process, started once per test session, in two variants: Learning
  Locker's statement service (`npm_lrs`: npm `xapi-statements`, in memory, from `tests/lrs`,
  `npm ci --prefix tests/lrs`) and guildbot's own inbuilt LRS (`inbuilt_lrs`, on a SQLite file).
- `HeldAnswers`: a stand-in in front of an LRS that passes everything through, but on demand
  keeps a POST's answer back after the LRS stored it (a send still under way, for forcing
  interleavings with it).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

VERSION_HEADER = "X-Experience-API-Version"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
LRS_DIR = Path(__file__).resolve().parents[1] / "lrs"
LRS_ENTRY = LRS_DIR / "node_modules" / "xapi-statements" / "dist" / "index.js"
LRS_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Recorded:
    """One request the fake LRS received."""

    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    ids: list[str]


@dataclass
class FakeLrs:
    """An LRS that behaves like the real ones (all-or-nothing batches) and fails on demand."""

    key: str = "guildbot"
    secret: str = "s3cr3t-lrs-password"
    strict: bool = False
    """Answer 409 to a batch holding an id already stored (ADL's LRS); else 200 (Learning Locker)."""
    check_credentials: bool = True
    forbidden: bool = False
    reject_marker: str | None = None
    """400 for any batch holding a statement whose body contains this text."""
    reject_all: str | None = None
    """400 with this message for every POST (an LRS that dislikes everything we send)."""
    max_batch: int | None = None
    """413 for a batch of more statements than this."""
    delay: float = 0.0
    """Seconds to sleep before answering a POST (after storing it)."""
    canned: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """Answers for the next POSTs, used up first-in first-out; nothing is stored."""

    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    voided: set[str] = field(default_factory=set)
    writes: Counter[str] = field(default_factory=Counter)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def visible(self) -> set[str]:
        """Ids a `GET statements?statementId=` finds (stored and not voided)."""
        return set(self.stored) - self.voided

    async def start(self) -> None:
        """Starts (or restarts, on the same port) the server."""
        app = web.Application()
        app.router.add_post("/xAPI/statements", self._post)
        app.router.add_get("/xAPI/statements", self._get)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Takes the LRS down: connections are refused until `start()`."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, request: web.Request) -> web.Response | None:
        if self.check_credentials:
            token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {token}":
                return web.json_response({"message": "Unauthorised"}, status=401)
        if self.forbidden:
            return web.json_response({"message": "Forbidden"}, status=403)
        if request.headers.get(VERSION_HEADER) != "1.0.3":
            return web.json_response({"message": "Unsupported version"}, status=400)
        return None

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        statements: list[dict[str, Any]] = json.loads(body)
        ids = [s["id"] for s in statements]
        self.requests.append(
            Recorded("POST", dict(request.query), dict(request.headers), body, ids)
        )
        refused = self._authorised(request)
        if refused is None:
            refused = self._refusal(statements)
        if refused is not None:
            return refused
        self._store(statements)
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(ids)

    def _refusal(self, statements: list[dict[str, Any]]) -> web.Response | None:
        """The failure the test asked for, or a conflict with what is stored; None to store."""
        if self.canned:
            status, headers = self.canned.pop(0)
            return web.json_response(
                {"message": f"canned {status}"}, status=status, headers=headers
            )
        if self.max_batch is not None and len(statements) > self.max_batch:
            return web.json_response({"message": "Payload too large"}, status=413)
        if self.reject_all is not None:
            return web.json_response({"message": self.reject_all}, status=400)
        marked = self._marked(statements)
        if marked is not None:
            return web.json_response(
                {"message": f"Invalid statement {marked}: {self.reject_marker}"}, status=400
            )
        for statement in statements:
            known = self.stored.get(statement["id"])
            if known is not None and (self.strict or known != statement):
                return web.json_response(
                    {"message": f"Statement {statement['id']} already exists"}, status=409
                )
        return None

    def _marked(self, statements: list[dict[str, Any]]) -> str | None:
        """The id of the first statement carrying `reject_marker`, if one does."""
        if self.reject_marker is None:
            return None
        marker = self.reject_marker
        return next(
            (s["id"] for s in statements if marker in json.dumps(s, ensure_ascii=False)), None
        )

    def _store(self, statements: list[dict[str, Any]]) -> None:
        for statement in statements:
            if statement["id"] not in self.stored:
                self.stored[statement["id"]] = statement
                self.writes[statement["id"]] += 1
                if statement["verb"]["id"] == VOIDED:
                    self.voided.add(statement["object"]["id"])

    async def _get(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded("GET", dict(request.query), dict(request.headers), b"", []))
        denied = self._authorised(request)
        if denied is not None:
            return denied
        if "statementId" in request.query:
            found = request.query["statementId"]
            if found in self.stored and found not in self.voided:
                return web.json_response(self.stored[found])
        elif "voidedStatementId" in request.query:
            found = request.query["voidedStatementId"]
            if found in self.voided:
                return web.json_response(self.stored[found])
        return web.json_response({"message": "No Statement found"}, status=404)


# Fixtures are named with `name=` so a test module can import them (`..._fixture`, noqa F401)
# and take `fake_lrs` / `real_lrs` as parameters without ruff seeing a redefinition.
@pytest_asyncio.fixture(name="fake_lrs")
async def fake_lrs_fixture() -> AsyncIterator[FakeLrs]:
    lrs = FakeLrs()
    await lrs.start()
    try:
        yield lrs
    finally:
        await lrs.stop()


@dataclass(frozen=True)
class RealLrs:
    """A running test LRS (the npm one accepts any Basic credentials: AUTH_REPO=test)."""

    endpoint: str
    key: str = "guildbot"
    secret: str = "any-secret"

    def _headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", VERSION_HEADER: "1.0.3"}

    async def get(self, **params: str) -> tuple[int, Any]:
        """`GET statements?<params>`: (status, parsed JSON body)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                self.endpoint + "statements", params=params, headers=self._headers()
            ) as response,
        ):
            return response.status, await response.json(content_type=None)

    async def statement(self, statement_id: str) -> tuple[int, Any]:
        return await self.get(statementId=statement_id)

    async def voided_statement(self, statement_id: str) -> tuple[int, Any]:
        return await self.get(voidedStatementId=statement_id)

    async def all_ids(self) -> list[str]:
        """Ids of every non-voided statement stored, following `more` links (duplicates kept)."""
        return [statement["id"] for statement in await self.all_statements()]

    async def all_statements(self) -> list[dict[str, Any]]:
        """Every non-voided statement stored, following `more` links (duplicates kept)."""
        found: list[dict[str, Any]] = []
        status, page = await self.get(limit="500")
        assert status == 200, page
        while True:
            found.extend(page["statements"])
            more = page.get("more")
            if not more:
                return found
            async with (
                aiohttp.ClientSession() as session,
                session.get(urljoin(self.endpoint, more), headers=self._headers()) as response,
            ):
                page = await response.json(content_type=None)


@dataclass
class HeldAnswers:
    """Between the bot and an LRS: every request goes through, but after `hold()` the next
    POST of statements is stored by the LRS and its answer kept back until `release()`. The
    bot's forwarder is then mid-send: its statements are in the LRS, it doesn't know yet."""

    upstream: str
    """The LRS's endpoint, ending in `/xAPI/`."""
    port: int = 0
    held_ids: list[str] = field(default_factory=list)
    _holding: bool = False
    _held: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/xAPI/{tail:.*}", self._pass)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def hold(self) -> None:
        self._holding = True

    async def until_held(self, timeout: float = 15.0) -> list[str]:
        """Waits for a POST to be held; returns the ids it carried."""
        await asyncio.wait_for(self._held.wait(), timeout)
        return self.held_ids

    def release(self) -> None:
        self._released.set()

    async def _pass(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in ("authorization", "content-type", VERSION_HEADER.lower())
        }
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                self.upstream + request.match_info["tail"],
                params=request.query,
                data=body,
                headers=headers,
            ) as answer,
        ):
            status, content = answer.status, await answer.read()
            content_type = answer.content_type
        if request.method == "POST" and self._holding and 200 <= status < 300:
            self._holding = False
            self.held_ids = [statement["id"] for statement in json.loads(body)]
            self._held.set()
            await self._released.wait()
        return web.Response(status=status, body=content, content_type=content_type)


def npm_lrs_env(port: int, workdir: Path) -> dict[str, str]:
    """The environment the npm test LRS runs in: in memory, any credentials, on `port`."""
    return {
        **os.environ,
        "EXPRESS_PORT": str(port),
        "MODELS_REPO": "memory",
        "AUTH_REPO": "test",
        "EVENTS_REPO": "test",
        "STORAGE_REPO": "local",
        "FS_LOCAL_STORAGE_DIR": str(workdir / "storage"),
        "EXPRESS_MORGAN_DIRECTORY": str(workdir / "accessLogs"),
        "SERVICE_AWAIT_UPDATES": "true",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ready(endpoint: str) -> bool:
    request = urllib.request.Request(endpoint + "about", headers={VERSION_HEADER: "1.0.3"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            # The npm LRS names the header in its answer; xAPI's About resource has `version`.
            names = {name.lower() for name in json.loads(response.read())}
            return response.status == 200 and bool(names & {VERSION_HEADER.lower(), "version"})
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _npm_lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLrs]:
    if not LRS_ENTRY.is_file():
        pytest.skip(
            f"the test LRS is not installed ({LRS_ENTRY} missing): run `npm ci --prefix tests/lrs`"
        )
    node = shutil.which("node")
    if node is None:
        pytest.skip("the test LRS needs Node.js (`node` not on PATH)")
    workdir = tmp_path_factory.mktemp("lrs")
    port = _free_port()
    env = npm_lrs_env(port, workdir)
    log_path = workdir / "lrs.log"
    endpoint = f"http://127.0.0.1:{port}/xAPI/"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [node, "-r", str(LRS_DIR / "loopback.js"), str(LRS_ENTRY)],
            cwd=LRS_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + LRS_START_TIMEOUT
        while not _ready(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"the test LRS did not start (exit {process.poll()}):\n{tail}")
            time.sleep(0.2)
        yield RealLrs(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _inbuilt_lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLrs]:
    """guildbot's inbuilt LRS as a process (tests/support/inbuilt_lrs.py), with a key made the
    way an operator makes one."""
    from bot.clock import utcnow
    from bot.lrs import credentials
    from storage.database import Database
    from storage.migrate import upgrade
    from tests.support.process import base_env

    workdir = tmp_path_factory.mktemp("inbuilt-lrs")
    database_url = f"sqlite:///{workdir / 'lrs.db'}"
    database = Database(database_url)
    upgrade(database)
    made = credentials.add(database, "guildbot-tests", False, utcnow())
    database.dispose()
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}/xapi/"
    log_path = workdir / "lrs.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.inbuilt_lrs", database_url, str(port)],
            cwd=workdir,
            env=base_env(workdir),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + LRS_START_TIMEOUT
        while not _ready(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"the inbuilt LRS did not start (exit {process.poll()}):\n{tail}")
            time.sleep(0.1)
        yield RealLrs(endpoint, made.key, made.secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session", name="real_lrs", params=["xapi-statements", "inbuilt"])
def real_lrs_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealLrs]:
    """Each real LRS in turn: a test using it runs against both. A module that imports this
    fixture gets LRSs of its own (fixtures imported into a module are that module's)."""
    if request.param == "xapi-statements":
        yield from _npm_lrs(tmp_path_factory)
    else:
        yield from _inbuilt_lrs(tmp_path_factory)


@pytest.fixture(scope="session", name="npm_lrs")
def npm_lrs_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLrs]:
    """The npm LRS alone."""
    yield from _npm_lrs(tmp_path_factory)


# The plain names, for `from tests.support.lrs import real_lrs, fake_lrs` (e.g. in a conftest).
fake_lrs = fake_lrs_fixture
real_lrs = real_lrs_fixture
npm_lrs = npm_lrs_fixture
