"""The README's test command on a machine where PostgreSQL is not running.

The PostgreSQL variants of the storage tests skip, saying why, so `make test` passes on a fresh
machine; with `REQUIRE_POSTGRES=1` (what CI sets) the same situation fails instead, so CI never
passes while quietly testing SQLite alone. Each case runs pytest in a child process, on one
storage test, with `TEST_DATABASE_URL` pointing at a port where nothing listens.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_STORAGE_TEST = (
    "tests/storage/test_repositories.py::test_a_redelivered_slack_event_is_claimed_only_once"
)


def nothing_listening() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is free again once the probe closes: no server answers there.
    return f"postgresql://postgres@127.0.0.1:{port}/test"


def run_pytest(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "REQUIRE_POSTGRES"}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", ONE_STORAGE_TEST],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_postgresql_the_storage_tests_skip_and_say_why() -> None:
    url = nothing_listening()
    result = run_pytest(TEST_DATABASE_URL=url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert f"no PostgreSQL answered at postgresql+psycopg://postgres@127.0.0.1:{port}/test" in (
        result.stdout
    )


def test_ci_refuses_to_skip_postgresql_quietly() -> None:
    result = run_pytest(TEST_DATABASE_URL=nothing_listening(), REQUIRE_POSTGRES="1")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "REQUIRE_POSTGRES=1 forbids skipping them" in result.stdout


def test_ci_also_refuses_when_no_postgresql_url_is_given() -> None:
    result = run_pytest(TEST_DATABASE_URL="", REQUIRE_POSTGRES="1")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "TEST_DATABASE_URL is not set" in result.stdout
