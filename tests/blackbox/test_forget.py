"""`guildbot forget --user` against `python -m bot` and the real test LRS, on SQLite and on
PostgreSQL: a person uses every capability, then is forgotten while the forwarder is in the
middle of sending their statements. Afterwards nothing names them: no table row, no outbox
statement, no byte of the SQLite file, no statement the LRS still returns."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from storage.database import Database
from storage.models import LunchSession, OutboxStatement, Question
from tests.support.blackbox import StartBot, lrs_env, new_person
from tests.support.databases import postgres_url, scratch_postgres
from tests.support.lrs import HeldAnswers, RealLrs
from tests.support.lunch import rating_values, schedule_values
from tests.support.process import BotProcess, eventually
from tests.support.slack import (
    FakeSlack,
    block_action_body,
    event_body,
    reaction_event,
    sign,
    view_submission_body,
)

pytestmark = pytest.mark.lrs

QA = "C0QA"
LUNCH = "C0LUNCH"
GUILDBOT = Path(sys.executable).with_name("guildbot")
PRESENT = '"http://activitystrea.ms/present"'


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'guildbot.db'}"
        return
    with scratch_postgres(postgres_url()) as url:
        yield url


@pytest.fixture
async def held(real_lrs: RealLrs) -> AsyncIterator[HeldAnswers]:
    stand_in = HeldAnswers(real_lrs.endpoint)
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


# Driving the bot like Slack -----------------------------------------------------------------------


async def press(bot: BotProcess, slack: FakeSlack, action_id: str, value: str, user: str) -> None:
    body = block_action_body(action_id, value, user, slack.response_url)
    status, _ = await bot.post(body, sign(body))
    assert status == 200


async def submit(
    bot: BotProcess, view: dict[str, Any], values: dict[str, Any], user: str, view_id: str
) -> dict[str, Any]:
    body = view_submission_body(view, view_id, values, user)
    status, ack = await bot.post(body, sign(body))
    assert status == 200, ack
    return ack if isinstance(ack, dict) else {}


async def event(bot: BotProcess, payload: dict[str, Any]) -> None:
    body = event_body(payload, f"Ev{uuid.uuid4().hex[:10]}")
    status, _ = await bot.post(body, sign(body), content_type="application/json")
    assert status == 200


async def opened_view(slack: FakeSlack, before: int) -> dict[str, Any]:
    views = await eventually(
        lambda: slack.calls_to("views.open")[before:], what="a form to be opened"
    )
    return views[-1]["view"]


def delivered(bot: BotProcess) -> bool:
    """Every statement reached the LRS (none pending, being sent or dead)."""
    return {row.status for row in bot.rows(OutboxStatement)} <= {"sent"}


def every_row(database: Database) -> list[str]:
    """Every row of every table (the search index's included), as text."""
    found: list[str] = []
    with database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            found += [f"{table}: {tuple(row)!r}" for row in result]
    return found


def files_naming(directory: Path, *needles: str) -> list[str]:
    """The SQLite files (database, -wal, -shm) whose bytes contain any of these."""
    return [
        path.name
        for path in directory.glob("guildbot.db*")
        if any(n.encode() in path.read_bytes() for n in needles)
    ]


def mentioning(texts: list[str], *needles: str) -> list[str]:
    return [t for t in texts if any(n.lower() in t.lower() for n in needles)]


async def thread_reply(bot: BotProcess, slack: FakeSlack, user: str, words: str, ts: str) -> str:
    reply_ts = slack.write(QA, user, words, thread_ts=ts)
    message = {"type": "message", "channel": QA, "user": user, "text": words}
    await event(bot, {**message, "ts": reply_ts, "thread_ts": ts, "event_ts": reply_ts})
    return reply_ts


async def asked(bot: BotProcess, user: str, words: str) -> Question:
    before = {q.id for q in bot.rows(Question)}
    status, _ = await bot.command("/ask", words, user)
    assert status == 200
    [question] = await eventually(
        lambda: [q for q in bot.rows(Question) if q.id not in before and q.ts],
        what="the question to be posted",
    )
    return question


async def schedule(
    bot: BotProcess, slack: FakeSlack, admin: str, presenter: str, start: datetime, title: str
) -> str:
    before = len(slack.calls_to("views.open"))
    await bot.command("/lunchlearn", "", admin)
    view = await opened_view(slack, before)
    values = schedule_values(
        start, presenter=presenter, title=title, duration="60", capacity=None, channel=LUNCH
    )
    ack = await submit(bot, view, values, admin, f"V{uuid.uuid4().hex[:8]}")
    assert "response_action" not in ack, ack
    [lunch] = await eventually(
        lambda: [s for s in bot.rows(LunchSession) if s.title == title],
        what="the session to be stored",
    )
    return lunch.id


async def use_everything(
    bot: BotProcess, slack: FakeSlack, dana: str, bob: str, ann: str
) -> datetime:
    """Kudos given and received, skills, endorsements both ways, a question answered and
    accepted, an answer, a routed question declined and paused, a session presented, an RSVP
    checked in and rated with a comment, searches. Returns when the sessions start."""
    await bot.command("/skills", "add python:expert", dana)
    await bot.command("/skills", "add python:practitioner", bob)
    for endorser, person in ((dana, bob), (bob, dana)):
        value = json.dumps({"user": person, "skill": "python", "from": "profile"})
        await press(bot, slack, "skill_endorse", value, endorser)
    await bot.command("/kudos", f"<@{bob}> for pairing on the python upgrade #python", dana)
    await bot.command("/kudos", f"<@{dana}> for the patient code review #python", bob)
    await bot.command("/kudos", f"<@{bob}> for the demo with <@{dana}> and the team", ann)

    question = await asked(bot, dana, "How do I profile a slow python script? #python")
    answer = await thread_reply(bot, slack, bob, "Use cProfile and snakeviz", question.ts or "")
    slack.react(QA, answer, "white_check_mark", dana)
    await event(bot, reaction_event("reaction_added", dana, "white_check_mark", QA, answer, bob))
    bobs = await asked(bot, bob, "How should we pin our python dependencies? #python")
    await press(bot, slack, "route_decline", bobs.id, dana)
    await press(bot, slack, "route_pause", bobs.id, dana)
    await thread_reply(bot, slack, dana, "A constraints file per service", bobs.ts or "")

    start = datetime.now(UTC) + timedelta(seconds=4)
    await schedule(bot, slack, ann, dana, start, f"Profiling with {dana}")
    attended = await schedule(bot, slack, ann, bob, start, "Packaging python")
    await press(bot, slack, "lunch_going", attended, dana)
    await press(bot, slack, "lunch_checkin", attended, dana)
    before = len(slack.calls_to("views.open"))
    await press(bot, slack, "lunch_rate_4", f"{attended}|4", dana)
    rating = await opened_view(slack, before)
    await submit(bot, rating, rating_values(4, "Loved the live demo"), dana, "V0RATE")
    await bot.command("/faq", "profile slow python", dana)
    await bot.command("/expert", "python", dana)
    return start


async def forget(bot: BotProcess, user_id: str) -> str:
    """`guildbot forget --user` as the operator runs it, next to the running bot."""
    process = await asyncio.create_subprocess_exec(
        str(GUILDBOT),
        "forget",
        "--user",
        user_id,
        env=bot.env,
        cwd=bot.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


# The test -----------------------------------------------------------------------------------------


async def test_a_forgotten_person_is_nowhere_even_when_forgotten_mid_send(
    start_bot: StartBot,
    slack: FakeSlack,
    real_lrs: RealLrs,
    held: HeldAnswers,
    database_url: str,
    tmp_path: Path,
) -> None:
    name = f"Dana Forgotten {uuid.uuid4().hex[:6]}"
    dana, bob, ann = new_person(slack, name), new_person(slack, "Bob"), new_person(slack, "Ann")
    settings = {
        "DATABASE_URL": database_url,
        "QA_CHANNEL": QA,
        "LND_ADMINS": ann,
        "XAPI_INCLUDE_TEXT": "true",
        **lrs_env(held.endpoint),
    }
    bot = await start_bot(**settings)
    start = await use_everything(bot, slack, dana, bob, ann)
    # Past the sessions' start, a restart's first tick records who presented.
    await asyncio.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds() + 0.5))
    await bot.stop()
    bot = await start_bot(**settings)
    await eventually(
        lambda: [r for r in bot.rows(OutboxStatement) if r.actor_id == dana and PRESENT in r.body],
        what="her session's start to be recorded",
    )
    await eventually(lambda: delivered(bot), timeout=30, what="everything to reach the LRS")

    # Dana thanks Bob once more; the LRS stores it but its answer is held back: the forwarder
    # is mid-send when the operator erases her. Meanwhile she adds a skill: never sent.
    held.hold()
    await bot.command("/kudos", f"<@{bob}> for the release notes", dana)
    in_flight = await held.until_held()
    await bot.command("/skills", "add docker:learning", dana)
    [never_sent] = await eventually(
        lambda: [r.statement_id for r in bot.rows(OutboxStatement) if "docker" in r.body],
        what="the skill statement to be queued",
    )

    if database_url.startswith("sqlite"):
        assert files_naming(tmp_path, dana, name) != []  # she is in the file's bytes now

    said = await forget(bot, dana)

    # Everything she did had reached the LRS, or was on its way: voided. The skill never left.
    erased = re.search(r"(\d+) statement\(s\) queued for voiding.*, (\d+) unsent", said)
    assert erased is not None, said
    assert int(erased[1]) > len(in_flight) and int(erased[2]) == 1, said
    database = bot.database()
    try:
        assert mentioning(every_row(database), dana, name) == []
    finally:
        database.dispose()
    held.release()
    await eventually(lambda: delivered(bot), timeout=30, what="the voiding to reach the LRS")

    # The database, statements and the SQLite file's bytes: nothing names her.
    database = bot.database()
    try:
        assert mentioning(every_row(database), dana, name, "Loved the live demo") == []
    finally:
        database.dispose()
    assert not any(dana in r.body or name in r.body for r in bot.rows(OutboxStatement))
    if database_url.startswith("sqlite"):
        assert files_naming(tmp_path, dana, name) == []
    # The LRS: what was mid-send arrived and is voided; what never left never arrives; no
    # statement it still returns names her.
    for statement_id in in_flight:
        assert (await real_lrs.statement(statement_id))[0] == 404
        assert (await real_lrs.voided_statement(statement_id))[0] == 200
    assert (await real_lrs.statement(never_sent))[0] == 404
    assert (await real_lrs.voided_statement(never_sent))[0] == 404
    remaining = await real_lrs.all_statements()
    assert [s["id"] for s in remaining if dana in json.dumps(s) or name in json.dumps(s)] == []
    # What others keep stays: the session she presented, by a former colleague.
    status, listed = await bot.command("/lunchlearn", "list", bob)
    assert status == 200 and "a former colleague" in json.dumps(listed)
    await bot.stop()
    assert "Traceback" not in bot.stderr()
    if database_url.startswith("sqlite"):
        assert files_naming(tmp_path, dana, name) == []
