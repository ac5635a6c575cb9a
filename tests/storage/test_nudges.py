"""Nudges: questions past QA_NUDGE_HOURS are routed on (no answer) or remind the asker (answers,
none accepted), each once, also with two processes on one database; and the database tick.

Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.domain.people import Profile
from bot.domain.questions import AskIntent
from bot.scheduler import TICK_SECONDS, start_tick
from bot.slack_client import build_web_client
from handlers import tick_jobs
from handlers.questions import nudge_questions
from storage.database import Database
from storage.models import Question, QuestionRoute
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack, event_body, reaction_event, sign

QA = "C0QA"
DECLINE = "route_decline"
EXPERTS = ("U0BOB", "U0CAT", "U0DAN", "U0EVE", "U0FAY")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("guildbot") and r.levelno >= logging.ERROR
    ]


@pytest.fixture(autouse=True)
def log_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="guildbot")


async def new_slack() -> FakeSlack:
    fake = FakeSlack()
    fake.add_user("U0ANN", "Ann")
    for user in EXPERTS:
        fake.add_user(user, user[2:].title())
    await fake.start()
    return fake


class Processes:
    """Bot processes (harnesses) on the test's database, SQLite or PostgreSQL, each with its own
    fake Slack."""

    def __init__(self, tmp_path: Path, database: Database, clock: SettableClock) -> None:
        self._tmp_path = tmp_path
        self._url = database.url
        self._clock = clock
        self.running: list[BotHarness] = []
        self.fakes: list[FakeSlack] = []

    async def start(self, **overrides: str) -> BotHarness:
        slack = await new_slack()
        self.fakes.append(slack)
        settings = settings_for(
            self._tmp_path,
            slack,
            QA_CHANNEL=QA,
            QA_NUDGE_HOURS="0.5",
            DATABASE_URL=self._url,
            **overrides,
        )
        harness = await BotHarness(settings, slack, self._clock).start()
        self.running.append(harness)
        return harness

    async def stop(self, harness: BotHarness) -> None:
        self.running.remove(harness)
        await harness.close()


@pytest.fixture
async def processes(
    tmp_path: Path, database: Database, clock: SettableClock
) -> AsyncIterator[Processes]:
    started = Processes(tmp_path, database, clock)
    yield started
    for harness in list(started.running):
        await started.stop(harness)
    for fake in started.fakes:
        await fake.stop()


# Helpers ---------------------------------------------------------------------------------------


def client_of(bot: BotHarness) -> AsyncWebClient:
    return build_web_client(bot.settings)


async def nudge(bot: BotHarness) -> int:
    return await nudge_questions(bot.services, bot.effects, client_of(bot), TEAM_ID)


def dms(slack: FakeSlack) -> list[tuple[str, dict[str, Any]]]:
    """(user, chat.postMessage call) of every DM: posts to the `D…` channel that
    `conversations.open` gave for the user."""
    opened: dict[str, str] = {}
    found = []
    for call in slack.calls:
        if call.method == "conversations.open":
            opened["D" + call.args["users"].lstrip("UW")] = call.args["users"]
        elif call.method == "chat.postMessage" and call.args.get("channel", "").startswith("D"):
            assert call.args["channel"] in opened
            found.append((opened[call.args["channel"]], call.args))
    return found


def question_of(call: dict[str, Any]) -> str | None:
    """The question id on a routed DM's buttons (None for other DMs)."""
    for block in call.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == DECLINE:
                return element["value"]
    return None


def routed(slack: FakeSlack, question: Question) -> list[str]:
    return [user for user, call in dms(slack) if question_of(call) == question.id]


def reminders(slack: FakeSlack) -> list[tuple[str, str]]:
    """(user, text) of the DMs that are not routed questions."""
    return [(user, call["text"]) for user, call in dms(slack) if question_of(call) is None]


def stored(bot: BotHarness, question_id: str) -> Question:
    with bot.database.reading() as session:
        found = session.get(Question, question_id)
    assert found is not None
    return found


def routes(bot: BotHarness) -> list[QuestionRoute]:
    with bot.database.reading() as session:
        return list(session.exec(select(QuestionRoute)))


async def declare_experts(bot: BotHarness) -> None:
    """#python, best first: Bob, Cat, Dan, Eve, Fay."""
    levels = ["expert", "expert", "expert", "practitioner", "learning"]
    endorsements = [2, 1, 0, 0, 0]
    for user, level, times in zip(EXPERTS, levels, endorsements, strict=True):
        _, reply = await bot.command("/skills", f"add python:{level}", user)
        assert reply["text"].startswith("Added"), reply
        for n in range(times):
            bot.services.skills.endorse(
                TEAM_ID, Profile(f"U0END{n}", "E"), Profile(user, user), "python", f"e:{user}{n}"
            )
    bot.slack.calls.clear()


async def ask(bot: BotHarness, text: str) -> Question:
    """Ann asks with `/ask`; returns the posted question."""
    with bot.database.reading() as session:
        before = set(session.exec(select(Question.id)))
    status, reply = await bot.command("/ask", text, "U0ANN")
    assert status == 200 and reply["text"] == f"Posting your question in <#{QA}>…", reply
    with bot.database.reading() as session:
        [question] = [q for q in session.exec(select(Question)) if q.id not in before]
    assert question.ts and question.permalink
    return question


async def answer(bot: BotHarness, question: Question, user: str, event_id: str) -> str:
    """`user` replies in the question's thread (Slack stores it, then sends the event)."""
    assert question.ts
    text = "Try cProfile and snakeviz."
    ts = bot.slack.write(QA, user, text, thread_ts=question.ts)
    event = {
        "type": "message",
        "channel": QA,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "thread_ts": question.ts,
        "channel_type": "channel",
    }
    body = event_body(event, event_id)
    status, _ = await bot.post(body, sign(body), content_type="application/json")
    assert status == 200
    await bot.settle()
    return ts


async def accept(bot: BotHarness, ts: str, event_id: str) -> None:
    """Ann ✅s the answer at `ts`."""
    author = bot.slack.messages[(QA, ts)]["user"]
    bot.slack.react(QA, ts, "white_check_mark", "U0ANN")
    event = reaction_event("reaction_added", "U0ANN", "white_check_mark", QA, ts, author)
    body = event_body(event, event_id)
    status, _ = await bot.post(body, sign(body), content_type="application/json")
    assert status == 200
    await bot.settle()


def seed_questions(bot: BotHarness, count: int, answered: bool, tag: str) -> list[Question]:
    """Questions stored and posted as `/ask` would (but not routed), quickly; `answered` ones
    get one answer from Cat."""
    services = bot.services
    ann = Profile("U0ANN", "Ann")
    made = []
    for n in range(count):
        intent = AskIntent(f"Seeded question {tag} number {n}?", ("python",))
        question = services.questions.ask(TEAM_ID, ann, intent, QA, f"seed:{tag}:{n}").question
        ts = bot.slack.write(QA, None, intent.text, bot_id="B0GUILD")
        link = f"https://acme.slack.com/archives/{QA}/p{ts.replace('.', '')}"
        services.questions.posted(question.id, ts, link)
        question.ts, question.permalink = ts, link
        if answered:
            reply_ts = bot.slack.write(QA, "U0CAT", "An answer", thread_ts=ts)
            assert services.questions.record_answer(
                question, Profile("U0CAT", "Cat"), reply_ts, "An answer", None
            )
        made.append(question)
    return made


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


# One process -----------------------------------------------------------------------------------


async def test_due_questions_are_routed_on_or_remind_the_asker_once(
    processes: Processes, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await processes.start()
    await declare_experts(bot)
    unanswered = await ask(bot, "How do I profile a slow script? #python")
    answered = await ask(bot, "Which logging library should we use? #python")
    resolved = await ask(bot, "Is asyncio worth it for this service? #python")
    for question in (unanswered, answered, resolved):
        assert routed(bot.slack, question) == ["U0BOB", "U0CAT", "U0DAN"]
    await answer(bot, answered, "U0CAT", "Ev1")
    accepted = await answer(bot, resolved, "U0DAN", "Ev2")
    await accept(bot, accepted, "Ev3")
    assert stored(bot, resolved.id).status == "resolved"
    assert stored(bot, unanswered.id).nudge_at == clock.now + timedelta(minutes=30)
    sent = len(dms(bot.slack))

    # Not due yet.
    clock.now += timedelta(minutes=29, seconds=59)
    assert await nudge(bot) == 0
    assert len(dms(bot.slack)) == sent

    clock.now += timedelta(seconds=1)
    assert await nudge(bot) == 2

    # No answer: the next experts, not the three already asked.
    assert routed(bot.slack, unanswered) == ["U0BOB", "U0CAT", "U0DAN", "U0EVE", "U0FAY"]
    # An answer, none accepted: one reminder to the asker, with the link and the count.
    [(to, text)] = reminders(bot.slack)
    assert to == "U0ANN"
    assert "an answer" in text and answered.permalink in text
    # Resolved: nothing.
    assert routed(bot.slack, resolved) == ["U0BOB", "U0CAT", "U0DAN"]
    assert len(dms(bot.slack)) == sent + 3
    assert stored(bot, unanswered.id).nudge_at is None
    assert stored(bot, answered.id).nudge_at is None

    # Each question once: later ticks do nothing.
    assert await nudge(bot) == 0
    clock.now += timedelta(days=2)
    assert await nudge(bot) == 0
    assert len(dms(bot.slack)) == sent + 3
    assert errors(caplog) == []


async def test_a_nudge_slack_failed_is_done_by_a_later_tick_once(
    processes: Processes, clock: SettableClock
) -> None:
    bot = await processes.start()
    await declare_experts(bot)
    unanswered = await ask(bot, "How do I profile a slow script? #python")
    answered = await ask(bot, "Which logging library should we use? #python")
    await answer(bot, answered, "U0CAT", "Ev1")
    sent = len(dms(bot.slack))
    # Slack fails for the two DMs routing on and the asker's reminder.
    bot.slack.fail_next("conversations.open", body={"ok": False, "error": "fatal_error"}, times=3)

    clock.now += timedelta(hours=1)
    assert await nudge(bot) == 2

    # Claimed (no other tick nudges them again), and nothing sent yet…
    assert stored(bot, unanswered.id).nudge_at is None
    assert len(dms(bot.slack)) == sent
    assert await nudge(bot) == 0
    # …but owed: the next tick sends each once.
    clock.now += timedelta(minutes=11)
    await bot.effects.perform_due(client_of(bot), TEAM_ID)
    assert routed(bot.slack, unanswered) == ["U0BOB", "U0CAT", "U0DAN", "U0EVE", "U0FAY"]
    [(to, text)] = reminders(bot.slack)
    assert to == "U0ANN" and "an answer" in text
    clock.now += timedelta(minutes=11)
    assert await bot.effects.perform_due(client_of(bot), TEAM_ID) == 0
    assert len(dms(bot.slack)) == sent + 3


async def test_a_reminder_counts_the_answers(processes: Processes, clock: SettableClock) -> None:
    bot = await processes.start()
    await declare_experts(bot)
    question = await ask(bot, "How do I profile a slow script? #python")
    await answer(bot, question, "U0CAT", "Ev1")
    await answer(bot, question, "U0BOB", "Ev2")

    clock.now += timedelta(hours=1)
    assert await nudge(bot) == 1

    [(to, text)] = reminders(bot.slack)
    assert to == "U0ANN" and "2 answers" in text


async def test_a_question_that_fell_due_while_no_process_ran_is_nudged_on_the_first_tick(
    processes: Processes, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = await processes.start()
    await declare_experts(first)
    question = await ask(first, "How do I profile a slow script? #python")
    assert routed(first.slack, question) == ["U0BOB", "U0CAT", "U0DAN"]
    await processes.stop(first)

    # Three days later a process starts: the tick runs at start-up and finds the question.
    clock.now += timedelta(days=3)
    second = await processes.start()
    tick = start_tick(tick_jobs(second.services, second.effects, second.installed))
    try:
        await eventually(lambda: stored(second, question.id).nudge_at is None)
        await eventually(lambda: len(routed(second.slack, question)) == 2)
    finally:
        tick.scheduler.shutdown(wait=False)

    assert routed(second.slack, question) == ["U0EVE", "U0FAY"]
    assert await nudge(second) == 0
    assert errors(caplog) == []


async def test_similar_questions_are_offered_on_both_databases(
    processes: Processes,
    database: Database,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await processes.start()
    await declare_experts(bot)
    first = await ask(bot, "How do I profile a slow script? #python")
    await accept(bot, await answer(bot, first, "U0CAT", "Ev1"), "Ev2")
    earlier = len(bot.slack.responses)

    await ask(bot, "How do I profile a slow test suite? #python")

    [told] = bot.slack.responses[earlier:]
    assert told["text"].startswith("I posted")
    assert "Already answered" in told["text"] and f"<{first.permalink}|" in told["text"]
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


# Two processes on one database -----------------------------------------------------------------


async def test_two_processes_nudge_every_due_question_exactly_once(
    processes: Processes, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    one = await processes.start(QA_MAX_ROUTED_PER_DAY="1000")
    two = await processes.start(QA_MAX_ROUTED_PER_DAY="1000")
    await declare_experts(one)
    # More than one claim's worth (50), so the processes take turns and overlap.
    unanswered = seed_questions(one, 70, answered=False, tag="open")
    answered = seed_questions(one, 70, answered=True, tag="answered")
    assert routes(one) == []

    clock.now += timedelta(hours=1)
    nudged = 0
    for _ in range(10):
        counts = await asyncio.gather(nudge(one), nudge(two))
        nudged += sum(counts)
        if counts == [0, 0]:
            break
    assert nudged == 140

    all_dms = dms(one.slack) + dms(two.slack)
    per_question: dict[str | None, list[str]] = {}
    for user, call in all_dms:
        per_question.setdefault(question_of(call), []).append(user)
    # Each unanswered question went to the top three once; no one got one twice.
    for question in unanswered:
        assert sorted(per_question.get(question.id, [])) == ["U0BOB", "U0CAT", "U0DAN"]
    assert len(routes(one)) == 70 * 3
    # Each answered question reminded the asker once.
    texts = [call["text"] for user, call in all_dms if user == "U0ANN"]
    for question in answered:
        assert question.permalink
        assert sum(question.permalink in text for text in texts) == 1
    assert len(all_dms) == 70 * 3 + 70
    assert errors(caplog) == []


async def test_two_processes_keep_the_daily_cap_when_routing_at_once(
    processes: Processes, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    one = await processes.start(QA_MAX_ROUTED_PER_DAY="1")
    two = await processes.start(QA_MAX_ROUTED_PER_DAY="1")
    await declare_experts(one)
    seed_questions(one, 12, answered=False, tag="open")

    clock.now += timedelta(hours=1)
    await asyncio.gather(nudge(one), nudge(two))

    # Five people, one question each: five DMs in all, whoever sent them.
    got = sorted(user for user, _ in dms(one.slack) + dms(two.slack))
    assert got == sorted(EXPERTS)
    assert sorted(r.user_id for r in routes(one)) == sorted(EXPERTS)
    assert errors(caplog) == []


# The tick --------------------------------------------------------------------------------------


async def test_the_tick_runs_at_start_and_every_30_seconds_one_run_at_a_time() -> None:
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    tick = start_tick([job])
    try:
        [interval] = tick.scheduler.get_jobs()
        assert interval.trigger.interval == timedelta(seconds=TICK_SECONDS)
        assert TICK_SECONDS == 30
        assert interval.coalesce is True
        assert interval.max_instances == 1
        assert interval.misfire_grace_time == TICK_SECONDS
        await asyncio.wait_for(ran.wait(), timeout=5)
    finally:
        tick.scheduler.shutdown(wait=False)


async def test_a_failing_job_is_logged_and_the_next_job_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    done = asyncio.Event()

    async def broken() -> None:
        calls.append("broken")
        raise RuntimeError("database went away")

    async def fine() -> None:
        calls.append("fine")
        done.set()

    tick = start_tick([broken, fine])
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
        # The next tick runs both again.
        [interval] = tick.scheduler.get_jobs()
        await interval.func()
    finally:
        tick.scheduler.shutdown(wait=False)

    assert calls == ["broken", "fine", "broken", "fine"]
    failed = [r for r in caplog.records if r.name == "guildbot.scheduler"]
    assert len(failed) == 2
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failed)
    assert "database went away" in str(failed[0].exc_info[1])  # type: ignore[index]


async def test_a_tick_still_running_at_shutdown_gets_its_grace_then_ends_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="guildbot")
    started, finished = asyncio.Event(), asyncio.Event()

    async def quick() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()

    tick = start_tick([quick])
    await asyncio.wait_for(started.wait(), timeout=5)
    await tick.stop(grace=5)
    assert finished.is_set()  # the grace let it finish

    started.clear()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(3600)

    tick = start_tick([stuck])
    await asyncio.wait_for(started.wait(), timeout=5)
    await tick.stop(grace=0.1)

    assert "the tick was cut short by shutdown" in caplog.text
    assert "Traceback" not in caplog.text and "raised an exception" not in caplog.text
