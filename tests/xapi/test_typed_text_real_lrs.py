"""With XAPI_INCLUDE_TEXT, a real LRS stores and hands back typed text as a person reads it,
not in Slack's escaped shape."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.executor import BlockingExecutor
from bot.xapi.forwarder import Forwarder, LrsConfig
from bot.xapi.statements import (
    AnswerFacts,
    Learner,
    QuestionFacts,
    StatementBuilder,
    XapiIdentity,
    queued,
)
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
ANN, BOB = Learner("U0ANN", "Ann Archer"), Learner("U0BOB", "Bob Baker")


async def test_questions_and_answers_come_back_from_the_lrs_as_typed(
    real_lrs: RealLrs, tmp_path: Path
) -> None:
    builder = StatementBuilder(
        XapiIdentity("T0ACME", "https://acme.slack.com/", BASE, include_text=True)
    )
    question_id = str(uuid.uuid4())
    asked = builder.asked(
        QuestionFacts(
            question_id,
            ANN,
            "Is &lt;select&gt; &amp; <https://htmx.org|htmx> enough, <@U0BOB>?",
            (),
            "C0QA",
            WHEN,
        )
    )
    answered = builder.answered(
        AnswerFacts(
            str(uuid.uuid4()),
            question_id,
            None,
            BOB,
            "Yes &gt; no, as <@U0BOB> found",
            None,
            (),
            "C0QA",
            WHEN,
        )
    )
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    upgrade(database)
    with database.transaction() as session:
        outbox.add(session, queued("T0ACME", [asked, answered]), WHEN)
    executor = BlockingExecutor(2)
    forwarder = Forwarder(
        database, executor, LrsConfig(real_lrs.endpoint, real_lrs.key, real_lrs.secret)
    )
    try:
        assert await forwarder.drain_once() == 2
    finally:
        await forwarder.close()
        executor.shutdown()
        database.dispose()

    responses, found = [], []
    for built in (asked, answered):
        status, stored = await real_lrs.get(statementId=built.id)
        assert status == 200, stored
        responses.append(stored["result"]["response"])
        found.append(stored)
    assert off_profile(found) == []

    # Each statement names its own actor; anyone else stays an id.
    assert responses == [
        "Is <select> & https://htmx.org enough, @U0BOB?",
        "Yes > no, as @Bob Baker found",
    ]
