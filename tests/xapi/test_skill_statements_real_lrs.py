"""Skill statements in a real LRS: "everything about #python" is one query.

The LRS lives for the whole test session, so each test makes its own skill name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.executor import BlockingExecutor
from bot.xapi.forwarder import Forwarder, LrsConfig
from bot.xapi.statements import KudosFacts, Learner, StatementBuilder, XapiIdentity, queued
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories import outbox
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.xapi_profile import off_profile

pytestmark = pytest.mark.lrs

BASE = "https://guildbot.example.com/xapi"
WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ANN, BOB = Learner("U0ANN", "Ann"), Learner("U0BOB", "Bob")


async def test_one_query_finds_declarations_endorsements_searches_and_kudos_of_a_skill(
    real_lrs: RealLrs, tmp_path: Path
) -> None:
    skill = "python-" + uuid.uuid4().hex[:8]
    builder = StatementBuilder(XapiIdentity("T0ACME", "https://acme.slack.com/", BASE))
    give, receive = builder.kudos_given(
        KudosFacts(
            kudos_id=str(uuid.uuid4()),
            giver=ANN,
            receiver=BOB,
            reason="for the review",
            values=(skill, "teamwork"),
            skills=(skill,),
            channel_id="C0GENERAL",
            permalink=None,
            timestamp=WHEN,
        )
    )
    about_skill = [
        builder.skill_changed(BOB, skill, "expert", skill, WHEN),
        builder.endorsed(ANN, BOB, skill, skill, WHEN),
        builder.searched(ANN, skill, "who knows it", skill, WHEN),
        give,
        receive,
    ]
    unrelated = builder.skill_changed(BOB, skill + "-other", "learning", skill, WHEN)
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    upgrade(database)
    with database.transaction() as session:
        outbox.add(session, queued("T0ACME", [*about_skill, unrelated]), WHEN)
    executor = BlockingExecutor(2)
    forwarder = Forwarder(
        database, executor, LrsConfig(real_lrs.endpoint, real_lrs.key, real_lrs.secret)
    )
    try:
        assert await forwarder.drain_once() == len(about_skill) + 1
    finally:
        await forwarder.close()
        executor.shutdown()
        database.dispose()

    status, page = await real_lrs.get(
        activity=f"{BASE}/skills/{skill}", related_activities="true", limit="100"
    )

    assert status == 200, page
    assert {s["id"] for s in page["statements"]} == {s.id for s in about_skill}
    assert off_profile(page["statements"]) == []
