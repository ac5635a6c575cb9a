"""An L&D lead gets the report of what was done in the playground: from the page (the same
counts as `guildbot report --format json`, the CSV and the chart), and from `guildbot report
--dir .playground` with no Slack settings at all."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.playground.guard import TOKEN_HEADER
from bot.playground.server import Playground, PlaygroundOptions
from bot.views.chart import HEIGHT_PX, PALETTE, WIDTH_PX
from tests.unit.test_chart import picture, rgb, tallest_run

REPO_ROOT = Path(__file__).resolve().parents[2]
ADA, BEN, CHI = "U0ADA", "U0BEN", "U0CHI"
GENERAL = "C0GENERAL"


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    options = PlaygroundOptions(
        directory=tmp_path / ".playground", port=0, seed=False, environ={}, env_file=None
    )
    started = await Playground(options).start()
    yield started
    await started.stop()


class Page:
    """What the page does: calls to /pg/… with the run's token, changes from its own origin."""

    def __init__(self, playground: Playground, http: ClientSession) -> None:
        self.base = playground.slack.public_url
        self.headers = {TOKEN_HEADER: playground.guard.token, "Origin": self.base.rstrip("/")}
        self.http = http

    async def type(self, user: str, text: str) -> None:
        body = {"user": user, "channel": GENERAL, "text": text}
        async with self.http.post(self.base + "pg/type", json=body, headers=self.headers) as sent:
            assert sent.status == 200 and (await sent.json())["status"] == 200

    async def get(self, path: str) -> tuple[int, str, bytes]:
        async with self.http.get(self.base + path, headers=self.headers) as answered:
            return answered.status, answered.content_type, await answered.read()


async def a_session(playground: Playground) -> Page:
    """Skills, kudos and a question, typed on the page by three people."""
    async with ClientSession() as http:
        page = Page(playground, http)
        await page.type(BEN, "/skills add python:expert, testing")
        await page.type(CHI, "/skills add kafka:expert")
        await page.type(ADA, "/kudos @Ben for the patient code review #python")
        await page.type(CHI, "/ask How do I profile a slow #python service?")
        await playground.settle()
    return page


def guildbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line as an L&D lead runs it: no Slack, LRS or database settings at all."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LRS_", "DATABASE_URL", "XAPI_"))
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def totals(csv_text: str) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[1][:2] == ["total", "all"]
    return dict(zip(rows[0], rows[1], strict=True))


async def test_the_report_of_a_playground_session_from_the_command_line(
    playground: Playground, tmp_path: Path
) -> None:
    await a_session(playground)
    await playground.stop()
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()

    ran = guildbot(
        "report", "--dir", ".playground", "--since", since, "--format", "csv",
        "--chart", "out.png", cwd=tmp_path,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    assert "SLACK" not in ran.stderr and "Traceback" not in ran.stderr
    total = totals(ran.stdout)
    assert total["kudos_given"] == "1" and total["kudos_received"] == "1"
    assert total["skills_added"] == "3" and total["questions_asked"] == "1"
    image = picture((tmp_path / "out.png").read_bytes())
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    kudos, qa, skills, _ = (tallest_run(image, rgb(c)) for c in PALETTE)
    assert skills > qa > 30 and kudos > 30, "one week: skills 3, kudos 1 (given), Q&A 1"


async def test_the_page_serves_the_same_report_as_the_command_line(
    playground: Playground, tmp_path: Path
) -> None:
    await a_session(playground)
    until = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    async with ClientSession() as http:
        page = Page(playground, http)
        status, kind, body = await page.get(f"pg/report?since={since}&until={until}")
        assert (status, kind) == (200, "application/json")
        shown: dict[str, Any] = json.loads(body)
        status, kind, csv_body = await page.get("pg/report?format=csv")
        assert (status, kind) == (200, "text/csv")
        status, kind, png = await page.get("pg/report?format=png")
        assert (status, kind) == (200, "image/png")
        assert (await page.get("pg/report?since=last+week"))[0] == 400
        async with http.get(page.base + "pg/report") as without_token:
            assert without_token.status == 403

    ran = guildbot(
        "report", "--dir", ".playground", "--since", since, "--until", until,
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    assert shown == json.loads(ran.stdout)
    assert shown["totals"]["kudos_given"] == 1
    # By default the page's report starts on the day of the first statement made here.
    assert totals(csv_body.decode())["skills_added"] == "3"
    assert picture(png).size == (WIDTH_PX, HEIGHT_PX)
