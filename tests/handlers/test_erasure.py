"""Erasure (`guildbot forget --user`) after a person used every capability: nothing of theirs
stays in any table or statement, and what others keep reads "a former colleague"."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.cli import main
from bot.slack_client import build_web_client
from handlers.lunchlearn import run_session_jobs
from storage.models import (
    Answer,
    Kudos,
    LunchSession,
    OutboxStatement,
    Person,
    PersonSkill,
    Question,
    SkillStanding,
)
from storage.repositories import outbox as outbox_repo
from storage.repositories import people as people_repo
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, bot_env, settings_for
from tests.support.lunch import rating_values, schedule_values
from tests.support.slack import TEAM_ID, FakeSlack, reaction_event

QA = "C0QA"
LUNCH = "C0LUNCH"
DANA, DANA_NAME = "U0DANA", "Dana Quintero"
SETTINGS = {"QA_CHANNEL": QA, "LND_ADMINS": "U0ANN", "XAPI_INCLUDE_TEXT": "true"}

pytestmark = pytest.mark.usefixtures("no_listener_failures")


@pytest.fixture
async def qa_bot(
    tmp_path: Path, slack: FakeSlack, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotHarness]:
    """Ann is the L&D admin; Dana is the person to forget. The operator's shell (for
    `guildbot forget`) has the bot's settings."""
    slack.add_user(DANA, DANA_NAME)
    harness = BotHarness(settings_for(tmp_path, slack, **SETTINGS), slack, clock)
    await harness.start()
    monkeypatch.chdir(tmp_path)
    for name, value in bot_env(tmp_path, slack, **SETTINGS).items():
        monkeypatch.setenv(name, value)
    yield harness
    await harness.close()


# Helpers ----------------------------------------------------------------------------------------


def rows(bot: BotHarness, model: type) -> list[Any]:
    with bot.database.reading() as session:
        return list(session.exec(select(model)))


def every_row(bot: BotHarness) -> dict[str, list[str]]:
    """Every row of every table (the search index's included), as text."""
    found: dict[str, list[str]] = {}
    with bot.database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            found[table] = [repr(tuple(row)) for row in result]
    return found


def naming(bot: BotHarness, *needles: str) -> dict[str, list[str]]:
    """The rows, per table, that contain any of these (ignoring case)."""
    wanted = [n.lower() for n in needles]
    return {
        table: hits
        for table, found in every_row(bot).items()
        if (hits := [r for r in found if any(n in r.lower() for n in wanted)])
    }


def deliver_all(bot: BotHarness) -> None:
    """As if the LRS had every statement so far: erasure must void them, not drop them."""
    with bot.database.transaction() as session:
        ids = [r.statement_id for r in session.exec(select(OutboxStatement))]
        outbox_repo.mark_sent(session, ids, datetime.now(UTC))


def endorse(user: str) -> str:
    """The Endorse button's value on someone's python, on their /skills profile."""
    return json.dumps({"user": user, "skill": "python", "from": "profile"})


async def reply(bot: BotHarness, user: str, words: str, question_ts: str, event_id: str) -> str:
    ts = bot.slack.write(QA, user, words, thread_ts=question_ts)
    message = {"type": "message", "channel": QA, "user": user, "text": words, "ts": ts}
    await bot.event({**message, "thread_ts": question_ts, "event_ts": ts}, event_id)
    return ts


async def accept(bot: BotHarness, asker: str, answer_ts: str, author: str, event_id: str) -> None:
    bot.slack.react(QA, answer_ts, "white_check_mark", asker)
    check = reaction_event("reaction_added", asker, "white_check_mark", QA, answer_ts, author)
    await bot.event(check, event_id)


async def ask(bot: BotHarness, user: str, words: str) -> Question:
    before = {q.id for q in rows(bot, Question)}
    await bot.command("/ask", words, user)
    [question] = [q for q in rows(bot, Question) if q.id not in before]
    assert question.ts
    return question


async def schedule(bot: BotHarness, view_id: str, presenter: str, start: datetime) -> str:
    await bot.command("/lunchlearn", "", "U0ANN")
    view = bot.opened_views()[-1]
    values = schedule_values(start, presenter=presenter, title=f"Session {view_id}")
    status, ack = await bot.submit(view, values, "U0ANN", view_id=view_id)
    assert status == 200 and "response_action" not in ack, ack
    [lunch] = [s for s in rows(bot, LunchSession) if s.title == f"Session {view_id}"]
    return lunch.id


async def tick(bot: BotHarness) -> None:
    await run_session_jobs(bot.services, bot.effects, build_web_client(bot.settings), TEAM_ID)


async def use_everything(bot: BotHarness, clock: SettableClock) -> dict[str, str]:
    """Dana gives and gets kudos, declares skills, endorses and is endorsed, asks (answered
    and accepted), answers, is routed questions (declines one, pauses), is asked directly,
    presents a session, goes to another, checks in and rates it with a comment, searches."""
    await bot.command("/skills", "add python:expert", DANA)
    await bot.command("/skills", "add python:practitioner", "U0BOB")
    await bot.press("skill_endorse", endorse("U0BOB"), DANA)
    await bot.press("skill_endorse", endorse(DANA), "U0BOB")
    await bot.command("/kudos", "<@U0BOB> for the python pairing session #python", DANA)
    await bot.command("/kudos", f"<@{DANA}> for the patient code review #python", "U0BOB")
    # Someone else's words that mention her.
    await bot.command("/kudos", f"<@U0CAT> for the demo with <@{DANA}> and the team", "U0ANN")

    asked = await ask(bot, DANA, "How do I profile a slow python script? #python")
    bob_answer = await reply(bot, "U0BOB", "Use cProfile and snakeviz", asked.ts or "", "Ev1")
    await accept(bot, DANA, bob_answer, "U0BOB", "Ev2")
    # Bob's question is routed to Dana; she declines it, pauses, then answers anyway.
    bobs = await ask(bot, "U0BOB", f"How should we pin python dependencies, <@{DANA}>? #python")
    await bot.press("route_decline", bobs.id, DANA)
    await bot.press("route_pause", bobs.id, DANA)
    dana_answer = await reply(bot, DANA, "Use a constraints file", bobs.ts or "", "Ev3")
    await accept(bot, "U0BOB", dana_answer, DANA, "Ev4")

    # Cat asks Dana directly, from /expert.
    _, found = await bot.command("/expert", "python", "U0CAT")
    [button] = [
        e
        for b in found["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "expert_ask" and json.loads(e["value"])["user"] == DANA
    ]
    await bot.press("expert_ask", button["value"], "U0CAT")
    form = bot.opened_views()[-1]
    question = {"question": {"question_input": {"type": "plain_text_input", "value": None}}}
    question["question"]["question_input"]["value"] = "Which profiler works with asyncio code?"
    await bot.submit(form, question, "U0CAT", view_id="V0ASK")

    start = clock.now + timedelta(days=3)
    presented = await schedule(bot, "V0DANA", DANA, start)
    attended = await schedule(bot, "V0BOB", "U0BOB", start)
    upcoming = await schedule(bot, "V0LATER", DANA, start + timedelta(days=7))
    await bot.press("lunch_going", attended, DANA)
    clock.now = start
    await tick(bot)
    await bot.press("lunch_checkin", attended, DANA)
    clock.now = start + timedelta(minutes=45)
    await tick(bot)
    await bot.press("lunch_rate_4", f"{attended}|4", DANA)
    rating = bot.opened_views()[-1]
    await bot.submit(rating, rating_values(4, "Loved the live demo"), DANA, view_id="V0RATE")

    await bot.command("/faq", "profile slow python", DANA)
    await bot.command("/expert", "python", DANA)
    return {"presented": presented, "attended": attended, "upcoming": upcoming, "bobs": bobs.id}


# The test ---------------------------------------------------------------------------------------


async def test_after_forget_no_row_or_statement_names_the_person(
    qa_bot: BotHarness, clock: SettableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    made = await use_everything(qa_bot, clock)
    deliver_all(qa_bot)
    tables = naming(qa_bot, DANA, DANA_NAME)
    # Everything was used: she is everywhere a person can be.
    for table in (
        "person",
        "kudos",
        "kudos_skill",
        "person_skill",
        "endorsement",
        "skill_standing",
        "skill_statement",
        "question",
        "answer",
        "question_route",
        "route_pause",
        "route_decline",
        "lunch_session",
        "rsvp",
        "outbox",
    ):
        assert table in tables, table
    assert any("Loved the live demo" in r for r in tables["rsvp"])

    assert main(["forget", "--user", DANA]) == 0

    assert "forgot U0DANA" in capsys.readouterr().out
    assert naming(qa_bot, DANA, DANA_NAME) == {}
    assert naming(qa_bot, "Loved the live demo", "Use a constraints file") == {}
    # What others keep stays, without her.
    sessions = {s.id: s for s in rows(qa_bot, LunchSession)}
    assert sessions[made["presented"]].presented_at is not None
    assert sessions[made["presented"]].presenter_id is None
    _, listed = await qa_bot.command("/lunchlearn", "list", "U0CAT")
    assert "a former colleague" in json.dumps(listed)
    [mention] = [k.reason for k in rows(qa_bot, Kudos) if k.giver_id == "U0ANN"]
    assert mention == "for the demo with a former colleague and the team"
    [bobs] = [q for q in rows(qa_bot, Question) if q.id == made["bobs"]]
    assert bobs.status == "open" and bobs.accepted_answer_id is None
    assert "a former colleague" in bobs.text
    # Bob keeps his skill; her endorsement of it no longer counts.
    assert [p.user_id for p in rows(qa_bot, PersonSkill)] == ["U0BOB"]
    [bob] = rows(qa_bot, SkillStanding)
    assert (bob.user_id, bob.endorsements) == ("U0BOB", 0)
    # Every statement that may be in the LRS about her is voided by guildbot alone.
    voids = [json.loads(r.body) for r in rows(qa_bot, OutboxStatement) if r.voiding]
    assert voids and {v["actor"]["account"]["name"] for v in voids} == {"UBOT0001"}


async def test_forgetting_an_asker_takes_what_their_acceptance_gave_out_of_rankings(
    qa_bot: BotHarness,
) -> None:
    await qa_bot.command("/skills", "add python", "U0BOB")
    question = await ask(qa_bot, "U0ANN", "How do I profile a slow python script?")
    answer = await reply(qa_bot, "U0BOB", "Use cProfile and snakeviz", question.ts or "", "Ev1")
    await accept(qa_bot, "U0ANN", answer, "U0BOB", "Ev2")
    [bob] = [s for s in rows(qa_bot, SkillStanding) if s.user_id == "U0BOB"]
    assert bob.answers == 1

    assert main(["forget", "--user", "U0ANN"]) == 0

    assert rows(qa_bot, Question) == [] and rows(qa_bot, Answer) == []
    # Bob keeps his declared skill, but the acceptance by Ann no longer counts for him.
    [bob] = [s for s in rows(qa_bot, SkillStanding) if s.user_id == "U0BOB"]
    assert (bob.answers, bob.score) == (0, 2.0)
    # Bob's own records stay: his skill and his answer (the thread was Ann's, the answer his).
    remaining = rows(qa_bot, OutboxStatement)
    verbs = {json.loads(r.body)["verb"]["id"].rsplit("/", 1)[-1] for r in remaining}
    assert verbs == {"add", "answered"}
    assert not any("U0ANN" in r.body for r in remaining)


# A whole workspace (`forget --team`) -------------------------------------------------------------

OTHER_TEAM = "T0OTHER"


def rows_of_team(bot: BotHarness, team_id: str) -> dict[str, int]:
    """How many rows each table holds for the workspace (tables without a team_id skipped)."""
    counts: dict[str, int] = {}
    with bot.database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            columns = {c["name"] for c in inspect(connection).get_columns(table)}
            if "team_id" in columns:
                query = text(f'SELECT COUNT(*) FROM "{table}" WHERE team_id = :team')
                if count := connection.execute(query, {"team": team_id}).scalar_one():
                    counts[table] = count
    return counts


def another_workspace(bot: BotHarness) -> None:
    """A second workspace in the same database (as an organisation-wide install will have)."""
    zed = Person(
        team_id=OTHER_TEAM, user_id="U0ZED", full_name="Zed", refreshed_at=datetime.now(UTC)
    )
    with bot.database.transaction() as session:
        people_repo.save(session, zed)


async def test_forgetting_a_workspace_leaves_nothing_of_it_but_voids_naming_nobody(
    qa_bot: BotHarness, clock: SettableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await use_everything(qa_bot, clock)
    deliver_all(qa_bot)
    another_workspace(qa_bot)
    team = TEAM_ID
    sent = {r.statement_id for r in rows(qa_bot, OutboxStatement)}
    before = rows_of_team(qa_bot, team)
    assert {"workspace", "person", "kudos", "question", "answer", "lunch_session", "rsvp"} <= set(
        before
    )

    assert main(["forget", "--team", team]) == 0

    said = capsys.readouterr().out
    assert f"forgot workspace {team}" in said and f"{len(sent)} statement(s) queued" in said
    # Only the voiding statements stay, one per statement that reached the LRS, by guildbot.
    assert rows_of_team(qa_bot, team) == {"outbox": len(sent)}
    voids = [json.loads(r.body) for r in rows(qa_bot, OutboxStatement)]
    assert {v["object"]["id"] for v in voids} == sent
    assert {v["actor"]["account"]["name"] for v in voids} == {"UBOT0001"}
    everyone = (DANA, DANA_NAME, "U0BOB", "U0CAT", "U0ANN", "Loved the live demo")
    assert naming(qa_bot, *everyone) == {}
    # The other workspace is untouched.
    assert rows_of_team(qa_bot, OTHER_TEAM) == {"person": 1}


async def test_forgetting_an_unknown_workspace_changes_nothing_and_says_so(
    qa_bot: BotHarness, clock: SettableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    await qa_bot.command("/kudos", "<@U0BOB> for the python pairing session #python", DANA)
    before = every_row(qa_bot)

    assert main(["forget", "--team", "T0NOBODY"]) == 2

    assert "no workspace T0NOBODY" in capsys.readouterr().err
    assert every_row(qa_bot) == before
