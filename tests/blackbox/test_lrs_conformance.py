"""ADL's LRS conformance suite (xAPI 1.0.3, all 1,365 tests) against `python -m bot`'s /xapi/,
with a key made by `guildbot lrs credentials add`: the acceptance test of the inbuilt LRS.

The suite is vendored unchanged in tests/lrs-conformance (MIT; `make test` installs its npm
dependencies there). It stores data and never voids it: each run gets a fresh database, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.blackbox import StartBot
from tests.support.databases import DIALECTS, dialect_of, postgres_url, scratch_postgres
from tests.support.process import REPO_ROOT, BotProcess

SUITE = REPO_ROOT / "tests" / "lrs-conformance"
SUITE_TIMEOUT_S = 900
TESTS = 1365


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if dialect_of(request) == "sqlite":
        yield f"sqlite:///{tmp_path / 'lrs.db'}"
        return
    with scratch_postgres(postgres_url()) as url:
        yield url


def key_from_cli(bot: BotProcess) -> tuple[str, str]:
    """A read-write key, made as an operator makes one."""
    made = subprocess.run(
        [str(Path(sys.executable).with_name("guildbot")), "lrs", "credentials", "add", "adl"],
        env=bot.env,
        cwd=bot.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = dict(line.split(":", 1) for line in made.stdout.splitlines() if ":" in line)
    return lines["key"].strip(), lines["secret"].strip()


def read_and_remove_log(path: Path) -> list[str]:
    failures = failing_tests(json.loads(path.read_text()))
    path.unlink()
    return failures


def failing_tests(log: dict[str, Any]) -> list[str]:
    """The full title of every failing test in the suite's log, with its error."""
    found = []

    def walk(node: dict[str, Any], titles: list[str]) -> None:
        here = [*titles, node.get("title") or ""]
        children = node.get("tests") or []
        if node.get("status") == "failed" and not children:
            found.append(" > ".join(t for t in here if t) + f": {node.get('error', '')[:300]}")
        for child in children:
            walk(child, here)

    walk(log.get("log") or {}, [])  # with -z, a run without failures logs no tests
    return found


async def test_the_inbuilt_lrs_passes_adls_conformance_suite(
    start_bot: StartBot, database_url: str
) -> None:
    node = shutil.which("node")
    if node is None or not (SUITE / "node_modules").is_dir():
        pytest.skip("the conformance suite needs Node.js and `make test` (its npm dependencies)")
    bot = await start_bot(DATABASE_URL=database_url)
    key, secret = await asyncio.to_thread(key_from_cli, bot)

    run = await asyncio.create_subprocess_exec(
        *[node, "bin/console_runner.js", "-e", f"{bot.base_url}/xapi", "-a"],
        *["-u", key, "-p", secret, "-x", "1.0.3", "-z"],
        cwd=SUITE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(run.communicate(), SUITE_TIMEOUT_S)

    text = output.decode(errors="replace")
    tallies = [json.loads(line) for line in text.splitlines() if line.startswith('{"total"')]
    written = re.search(r"Full run log written to (\S+\.log)", text)
    assert tallies and written, text[-3000:]
    failures = await asyncio.to_thread(read_and_remove_log, Path(written.group(1)))
    assert tallies[-1] == {"total": TESTS, "passed": TESTS, "failed": 0, "version": "1.0.3"}, (
        "\n".join(failures)
    )
