"""One person's week, driven the way Slack would, answers an L&D analyst's questions in the
real LRS: everything Cat took part in, everything about a skill, a whole session, a whole
question; with one actor per person, in account and in e-mail mode; and every statement the
LRS holds follows guildbot's xAPI Profile.

Cat declares a skill and Ann endorses it; Cat gives Bob kudos and gets kudos from Ann; Cat asks
a question Bob answers and Cat accepts, and answers Ann's question, which Ann accepts; Cat
presents a session Bob attends and rates, and attends and rates Dan's.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlmodel import select

from bot.xapi import vocabulary as v
from bot.xapi.statements import derived_id
from storage.models import LunchSession, OutboxStatement, Question
from tests.handlers.test_lunchlearn import START, form, open_form, rating_values, stored, tick
from tests.handlers.test_questions import ask, check, reply
from tests.handlers.test_skills_command import buttons
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.lrs import (
    RealLrs,
    real_lrs_fixture,  # noqa: F401 (registers the fixture)
)
from tests.support.slack import DEFAULT_SCOPES, TEAM_ID, WORKSPACE_URL, FakeSlack
from tests.support.xapi_profile import Checker, evaluate

pytestmark = pytest.mark.lrs
QA = "C0QA"
MONDAY = datetime.fromisoformat("2026-11-30T09:00:00+00:00")


class Week:
    """The people of one run: ids and addresses no other test in the LRS session uses."""

    def __init__(self, slack: FakeSlack) -> None:
        tag = uuid.uuid4().hex[:6].upper()
        self.tag = tag
        self.skill = f"elixir{tag.lower()}"
        self.ids: dict[str, str] = {}
        for name, full in (
            ("ann", "Ann Archer"),
            ("bob", "Bob Baker"),
            ("cat", "Cat Chen"),
            ("dan", "Dan Dunn"),
        ):
            user_id = f"U0{name[0].upper()}{tag}"
            slack.add_user(
                user_id, full.split()[0], real_name=full, email=f"{name}.{tag}@example.com"
            )
            self.ids[name] = user_id

    def __getattr__(self, name: str) -> str:
        return self.ids[name]


@pytest.fixture(params=["account", "email"])
async def week(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    slack: FakeSlack,
    clock: SettableClock,
    real_lrs: RealLrs,
) -> AsyncIterator[tuple[BotHarness, Week]]:
    people = Week(slack)
    slack.scopes = DEFAULT_SCOPES + ",users:read.email"
    settings = settings_for(
        tmp_path,
        slack,
        QA_CHANNEL=QA,
        LND_ADMINS=people.ann,
        XAPI_ACTOR=request.param,
        LRS_ENDPOINT=real_lrs.endpoint,
        LRS_KEY=real_lrs.key,
        LRS_SECRET=real_lrs.secret,
    )
    clock.now = MONDAY
    harness = await BotHarness(settings, slack, clock).start()
    await live_a_week(harness, clock, people)
    while await harness.services.forwarder.drain_once():
        pass
    yield harness, people
    await harness.close()


async def live_a_week(bot: BotHarness, clock: SettableClock, p: Week) -> None:
    def later() -> None:
        clock.now += timedelta(minutes=7)

    await bot.command("/skills", f"add {p.skill}:expert", p.cat)
    later()
    _, profile = await bot.command("/skills", f"<@{p.cat}>", p.ann)
    [endorse] = buttons(profile["blocks"])
    await bot.press("skill_endorse", endorse["value"], p.ann)
    later()
    await bot.command(
        "/kudos", f"<@{p.bob}> for the careful review of my pull request #{p.skill}", p.cat
    )
    later()
    await bot.command("/kudos", f"<@{p.cat}> for the patient pairing session #{p.skill}", p.ann)
    later()
    q1_ts, _ = await ask(bot, p.cat, f"How do supervisors restart their children? #{p.skill}")
    later()
    a1_ts = await reply(bot, p.bob, "One for one, by default", q1_ts, f"Ev{p.skill}1")
    later()
    await check(bot, p.cat, a1_ts, f"Ev{p.skill}2")
    later()
    q2_ts, _ = await ask(bot, p.ann, f"When should I use a GenServer over an Agent? #{p.skill}")
    later()
    a2_ts = await reply(bot, p.cat, "When it has behaviour, not just state", q2_ts, f"Ev{p.skill}3")
    later()
    await check(bot, p.ann, a2_ts, f"Ev{p.skill}4")
    later()
    presented = await schedule(bot, p, "Supervision trees", p.cat, f"V0S1{p.tag}")
    attended = await schedule(bot, p, "OTP in production", p.dan, f"V0S2{p.tag}")
    later()
    await bot.press("lunch_going", presented.id, p.bob)
    await bot.press("lunch_going", attended.id, p.cat)
    clock.now = START - timedelta(minutes=10)
    await tick(bot)
    await bot.press("lunch_checkin", presented.id, p.bob)
    await bot.press("lunch_checkin", attended.id, p.cat)
    clock.now = START + timedelta(minutes=1)
    await tick(bot)  # the presenters present
    clock.now = START + timedelta(minutes=46)
    await tick(bot)  # feedback prompts
    for lunch, person, rating in ((presented, p.bob, 4), (attended, p.cat, 5)):
        await bot.press(f"lunch_rate_{rating}", f"{lunch.id}|{rating}", person)
        view = bot.opened_views()[-1]
        await bot.submit(view, rating_values(rating), person, view_id=f"V0R{person}{p.tag}")
        clock.now += timedelta(minutes=1)


async def schedule(
    bot: BotHarness, p: Week, title: str, presenter: str, view_id: str
) -> LunchSession:
    view = await open_form(bot, p.ann)
    typed = form(title=title, tags=f"#{p.skill}", presenter=presenter, capacity="10")
    status, ack = await bot.submit(view, typed, p.ann, view_id=view_id)
    assert status == 200 and "response_action" not in ack, ack
    return stored(bot, derived_id(TEAM_ID, "lunch-session", f"form:{view_id}"))


# Reading the LRS --------------------------------------------------------------------------------


async def everything(lrs: RealLrs, **query: str) -> list[dict[str, Any]]:
    status, page = await lrs.get(limit="500", **query)
    assert status == 200, page
    assert not page.get("more"), "one page holds a week"
    return page["statements"]


def agent(bot: BotHarness, user_id: str) -> dict[str, Any]:
    """The person as an LRS query names them: as every statement names them."""
    person = bot.slack.users[user_id]
    if bot.settings.xapi_actor == "email":
        return {"mbox": f"mailto:{person.email}"}
    return {"account": {"homePage": WORKSPACE_URL, "name": user_id}}


def kinds(statements: list[dict[str, Any]], p: Week) -> Counter[tuple[str, str]]:
    """(verb, whose statement) of each statement, by first name."""
    names = {user_id: name for name, user_id in p.ids.items()}
    found: Counter[tuple[str, str]] = Counter()
    for statement in statements:
        actor = statement["actor"]
        person = names.get((actor.get("account") or {}).get("name", ""))
        person = person or actor.get("name", "").split()[0].lower()
        found[(statement["verb"]["id"].rsplit("/", 1)[1], person)] += 1
    return found


async def sent_by_the_bot(bot: BotHarness, lrs: RealLrs) -> list[dict[str, Any]]:
    """Every statement of this run the LRS holds (voided ones leave the query)."""
    with bot.database.reading() as session:
        ids = session.exec(select(OutboxStatement.statement_id)).all()
    found = []
    for statement_id in ids:
        status, statement = await lrs.statement(statement_id)
        if status == 200:
            found.append(statement)
    return found


# The analyst's questions ------------------------------------------------------------------------


async def test_everything_they_took_part_in_is_one_agent_query(
    week: tuple[BotHarness, Week], real_lrs: RealLrs
) -> None:
    """Their own statements, the endorsement of them, their answer someone else accepted (it
    references their `answered`), and every statement about the session they presented."""
    bot, p = week

    theirs = await everything(real_lrs, agent=json.dumps(agent(bot, p.cat)), related_agents="true")

    assert kinds(theirs, p) == Counter(
        {
            ("add", "cat"): 1,
            ("like", "ann"): 1,  # Ann endorsed Cat
            ("give", "cat"): 1,
            ("receive", "cat"): 1,
            ("asked", "cat"): 1,
            ("accept", "cat"): 1,  # Cat accepted Bob's answer
            ("answered", "cat"): 1,
            ("accept", "ann"): 1,  # Ann accepted Cat's answer
            ("schedule", "ann"): 1,  # the session Cat presented, all of it
            ("registered", "bob"): 1,
            ("attended", "bob"): 1,
            ("present", "cat"): 1,
            ("rated", "bob"): 1,
            ("registered", "cat"): 1,  # the session Cat attended
            ("attended", "cat"): 1,
            ("rated", "cat"): 1,
        }
    )


async def test_everything_about_the_skill_is_one_activity_query(
    week: tuple[BotHarness, Week], real_lrs: RealLrs
) -> None:
    bot, p = week
    skill = bot.services.statements.for_team(TEAM_ID).activity_id("skills", p.skill)

    about = await everything(real_lrs, activity=skill, related_activities="true")

    verbs = Counter(verb for verb, _ in kinds(about, p).elements())
    assert verbs == Counter(
        {
            "add": 1,
            "like": 1,
            "give": 2,
            "receive": 2,
            "asked": 2,
            "answered": 2,
            "accept": 2,
            "schedule": 2,
            "registered": 2,
            "attended": 2,
            "present": 2,
            "rated": 2,
        }
    )


async def test_a_session_and_a_question_are_each_one_registration_following_the_profile(
    week: tuple[BotHarness, Week], real_lrs: RealLrs
) -> None:
    bot, p = week
    checker = Checker(profile_served := await served_profile(bot))
    presented = stored(bot, derived_id(TEAM_ID, "lunch-session", f"form:V0S1{p.tag}"))
    [question] = [q for q in question_ids(bot) if q[1] == p.cat]

    session = await everything(real_lrs, registration=presented.id)
    asked = await everything(real_lrs, registration=question[0])
    by_question = await everything(
        real_lrs,
        activity=bot.services.statements.for_team(TEAM_ID).activity_id("questions", question[0]),
        related_activities="true",
    )

    assert kinds(session, p) == Counter(
        {
            ("schedule", "ann"): 1,
            ("registered", "bob"): 1,
            ("attended", "bob"): 1,
            ("present", "cat"): 1,
            ("rated", "bob"): 1,
        }
    )
    assert (
        kinds(asked, p)
        == kinds(by_question, p)
        == Counter({("asked", "cat"): 1, ("answered", "bob"): 1, ("accept", "cat"): 1})
    )
    [attended] = [s for s in session if s["verb"]["id"] == v.ATTENDED.id]
    assert attended["result"]["duration"] == "PT45M"  # checked in early: the whole session
    assert evaluate(attended, "$.context.instructor.name") == ["Cat Chen"]
    checker.remember([*session, *asked])
    assert checker.follows(session) and checker.follows(asked)
    assert profile_served["id"] == v.PROFILE


async def test_every_statement_follows_the_profile_with_one_actor_per_person(
    week: tuple[BotHarness, Week], real_lrs: RealLrs
) -> None:
    bot, p = week
    statements = await sent_by_the_bot(bot, real_lrs)
    checker = Checker(served := await served_profile(bot))
    checker.remember(statements)

    assert len(statements) == 22
    for statement in statements:
        outcome = checker.validates(statement)
        assert outcome.outcome == "success" and len(outcome.templates) == 1, (statement, outcome)
        assert evaluate(statement, "$.context.contextActivities.category[*].id") == [
            served["versions"][0]["id"]
        ]
    identities: dict[str, set[str]] = {}
    for statement in statements:
        for person in people_in(statement):
            key = person.get("mbox") or person["account"]["name"]
            identities.setdefault(person["name"], set()).add(key)
    expected = {
        bot.slack.users[user_id].real_name: {json.dumps(agent(bot, user_id), sort_keys=True)}
        for user_id in p.ids.values()
    }
    assert {
        name: {json.dumps(agent_of(key, bot), sort_keys=True) for key in keys}
        for name, keys in identities.items()
        if name != "guildbot"
    } == expected


def people_in(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Agent a statement names: actor, object, instructor, the kudos `target`."""
    found = [statement["actor"]]
    if statement["object"].get("objectType") == "Agent":
        found.append(statement["object"])
    context = statement.get("context") or {}
    found += [context[k] for k in ("instructor",) if k in context]
    target = (context.get("extensions") or {}).get(v.EXT_TARGET)
    return [*found, *([target] if target else [])]


def agent_of(key: str, bot: BotHarness) -> dict[str, Any]:
    if key.startswith("mailto:"):
        return {"mbox": key}
    return {"account": {"homePage": WORKSPACE_URL, "name": key}}


async def served_profile(bot: BotHarness) -> dict[str, Any]:
    async with (
        ClientSession() as http,
        http.get(bot.url.replace("/slack/events", "/xapi/profile")) as response,
    ):
        assert response.status == 200
        return json.loads(await response.read())


def question_ids(bot: BotHarness) -> list[tuple[str, str]]:
    with bot.database.reading() as session:
        return [(q.id, q.asker_id) for q in session.exec(select(Question)).all()]
