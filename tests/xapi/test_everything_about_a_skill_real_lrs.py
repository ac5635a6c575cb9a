"""One LRS query answers "everything about #skill": the question asked on it, its answer and
acceptance, the kudos naming it and the lunch-and-learn on it, all driven the way Slack would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.handlers.test_lunchlearn import START, add_people, schedule, tick
from tests.handlers.test_questions import ask, check, reply
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.slack import TEAM_ID, FakeSlack
from tests.support.xapi_profile import off_profile

pytestmark = pytest.mark.lrs


@pytest.fixture
async def bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock, real_lrs: RealLrs
) -> AsyncIterator[BotHarness]:
    add_people(slack)
    settings = settings_for(
        tmp_path,
        slack,
        QA_CHANNEL="C0QA",
        LND_ADMINS="U0ANN",
        LRS_ENDPOINT=real_lrs.endpoint,
        LRS_KEY=real_lrs.key,
        LRS_SECRET=real_lrs.secret,
    )
    harness = await BotHarness(settings, slack, clock).start()
    yield harness
    await harness.close()


async def test_one_query_returns_everything_about_a_skill(
    bot: BotHarness, clock: SettableClock, real_lrs: RealLrs
) -> None:
    # A skill no other test in this LRS session uses.
    skill = "elixir" + uuid.uuid4().hex[:6]
    await bot.command("/skills", f"add {skill}:expert", "U0CAT")
    question_ts, _ = await ask(bot, "U0ANN", f"How do supervisors restart children? #{skill}")
    answer_ts = await reply(bot, "U0CAT", "One for one, by default", question_ts, "Ev1")
    await check(bot, "U0ANN", answer_ts, "Ev2")
    await bot.command("/kudos", f"<@U0CAT> for the patient explanation #{skill}", "U0ANN")
    lunch = await schedule(bot, title="Supervision trees", tags=f"#{skill}")
    await bot.press("lunch_going", lunch.id, "U0BOB")
    clock.now = START + timedelta(minutes=1)
    await tick(bot)  # the presenter is recorded
    while await bot.services.forwarder.drain_once():
        pass

    base = bot.services.statements.for_team(TEAM_ID).activity_id("skills", skill)
    status, page = await real_lrs.get(activity=base, related_activities="true", limit="200")

    assert status == 200, page
    assert off_profile(page["statements"]) == []
    verbs = sorted(s["verb"]["id"].rsplit("/", 1)[-1] for s in page["statements"])
    assert verbs == sorted(
        [
            "add",  # Cat declares it
            "asked",
            "answered",
            "accept",
            "give",  # the kudos naming it, and its receive
            "receive",
            "schedule",  # the session on it, Bob's registration, and the presenting
            "registered",
            "present",
        ]
    )
