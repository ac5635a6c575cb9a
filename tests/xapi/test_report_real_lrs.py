"""`guildbot report` against the real test LRS: for a seeded period, the report's counts per
verb and per person equal those of the non-voided statements the LRS holds whose `timestamp`
falls in the period. The LRS's `since`/`until` filter on stored time (today), so the test
fetches everything stored during the test and filters by `timestamp` itself."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest

from bot.cli import main
from bot.domain.reporting import VERB_MEASURES
from storage.repositories import outbox as outbox_repo
from tests.handlers.test_lunchlearn import add_people
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, bot_env, settings_for
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.slack import FakeSlack
from tests.support.xapi_profile import off_profile
from tests.test_report_cli import QA, REPORT, SINCE, UNTIL, seed_all_capabilities

pytestmark = pytest.mark.lrs

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
# A workspace of its own: the test LRS is shared by the whole run.
HOME = f"https://report-{uuid.uuid4().hex[:10]}.slack.com/"


@pytest.fixture
async def bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock, real_lrs: RealLrs
) -> AsyncIterator[BotHarness]:
    add_people(slack)
    settings = settings_for(
        tmp_path,
        slack,
        QA_CHANNEL=QA,
        LND_ADMINS="U0ANN",
        XAPI_HOMEPAGE=HOME,
        LRS_ENDPOINT=real_lrs.endpoint,
        LRS_KEY=real_lrs.key,
        LRS_SECRET=real_lrs.secret,
    )
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


async def stored_since(lrs: RealLrs, since: datetime) -> list[dict[str, Any]]:
    """Every non-voided statement the LRS stored since `since` (its own clock), all pages."""
    status, page = await lrs.get(since=since.isoformat().replace("+00:00", "Z"), limit="200")
    assert status == 200, page
    found = list(page["statements"])
    async with aiohttp.ClientSession() as session:
        while page.get("more"):
            async with session.get(
                urljoin(lrs.endpoint, page["more"]), headers=lrs._headers()
            ) as response:
                assert response.status == 200
                page = await response.json(content_type=None)
            found.extend(page["statements"])
    return found


def timestamp(statement: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00"))


async def test_the_report_counts_what_the_lrs_holds_for_the_period(
    bot: BotHarness,
    clock: SettableClock,
    real_lrs: RealLrs,
    tmp_path: Path,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    test_started = datetime.now(UTC) - timedelta(minutes=1)
    await seed_all_capabilities(bot, clock)
    while await bot.services.forwarder.drain_once():
        pass
    with bot.database.reading() as session:
        counts = outbox_repo.counts(session)
    assert (counts.pending, counts.dead) == (0, 0)

    monkeypatch.chdir(tmp_path)
    for name, value in bot_env(tmp_path, slack).items():
        monkeypatch.setenv(name, value)
    assert main([*REPORT, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)

    ours = [
        s
        for s in await stored_since(real_lrs, test_started)
        if (s["actor"].get("account") or {}).get("homePage") == HOME and s["verb"]["id"] != VOIDED
    ]
    assert off_profile(ours) == []
    in_period = [s for s in ours if SINCE <= timestamp(s) < UNTIL]
    # The LRS holds what came before and after the period too; the period is not empty.
    assert len(ours) > len(in_period) > 10
    assert len({s["id"] for s in in_period}) == len(in_period)

    assert report["verbs"] == dict(Counter(s["verb"]["id"] for s in in_period))
    assert report["statements"] == len(in_period)
    by_person = Counter(
        (s["actor"]["account"]["name"], VERB_MEASURES[s["verb"]["id"]]) for s in in_period
    )
    reported = Counter(
        {
            (person, measure): count
            for person, row in report["people"].items()
            for measure, count in row.items()
            if measure in VERB_MEASURES.values() and count
        }
    )
    assert reported == by_person
    # The undone kudos is voided in the LRS and left out of the report.
    assert report["totals"]["kudos_given"] == 2
