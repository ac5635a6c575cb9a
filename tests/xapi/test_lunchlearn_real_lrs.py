"""A whole lunch-and-learn, driven the way Slack would, with its statements in the real LRS:
scheduled, registered, unregistered, attended, presented, rated, grouped by registration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.handlers.test_lunchlearn import (
    START,
    add_people,
    rating_values,
    schedule,
    tick,
)
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.slack import FakeSlack
from tests.support.xapi_profile import off_profile

pytestmark = pytest.mark.lrs

AS, ADL, TINCAN = (
    "http://activitystrea.ms/",
    "http://adlnet.gov/expapi/verbs/",
    ("http://id.tincanapi.com/verb/"),
)


@pytest.fixture
async def bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock, real_lrs: RealLrs
) -> AsyncIterator[BotHarness]:
    add_people(slack)
    settings = settings_for(
        tmp_path,
        slack,
        LND_ADMINS="U0ANN",
        LRS_ENDPOINT=real_lrs.endpoint,
        LRS_KEY=real_lrs.key,
        LRS_SECRET=real_lrs.secret,
    )
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


async def test_a_session_from_scheduling_to_feedback_reaches_the_lrs(
    bot: BotHarness, clock: SettableClock, real_lrs: RealLrs
) -> None:
    lunch = await schedule(bot, capacity="1")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    await bot.press("lunch_going", lunch.id, "U0DAN")  # waitlisted
    await bot.press("lunch_not_going", lunch.id, "U0BOB")  # Dan is promoted
    clock.now = START - timedelta(minutes=5)
    await tick(bot)
    await bot.press("lunch_checkin", lunch.id, "U0DAN")
    clock.now = START + timedelta(minutes=1)
    await tick(bot)  # the presenter is recorded
    clock.now = START + timedelta(minutes=46)
    await tick(bot)  # feedback prompts
    await bot.press("lunch_rate_4", f"{lunch.id}|4", "U0DAN")
    await bot.submit(bot.opened_views()[-1], rating_values(4), "U0DAN", view_id="V0RATE")

    while await bot.services.forwarder.drain_once():
        pass
    status, page = await real_lrs.get(registration=lunch.id, limit="100")

    assert status == 200, page
    stored = sorted((s["verb"]["id"], s["actor"]["account"]["name"]) for s in page["statements"])
    assert stored == sorted(
        [
            (AS + "schedule", "U0ANN"),
            (ADL + "registered", "U0BOB"),
            (TINCAN + "unregistered", "U0BOB"),
            (ADL + "registered", "U0DAN"),
            (ADL + "attended", "U0DAN"),
            (AS + "present", "U0CAT"),
            (TINCAN + "rated", "U0DAN"),
        ]
    )
    assert off_profile(page["statements"]) == []
    [rated] = [s for s in page["statements"] if s["verb"]["id"] == TINCAN + "rated"]
    assert rated["result"]["score"] == {"raw": 4, "min": 1, "max": 5, "scaled": 0.75}
