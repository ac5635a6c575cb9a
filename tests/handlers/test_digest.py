"""The weekly digest: driven by the test's clock, it posts once per period with the right
counts, also with two bot processes on one database (SQLite, and PostgreSQL with
TEST_DATABASE_URL); its chart goes in the digest's thread; a failed post is retried."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

import handlers.digest
from bot.cli import main
from bot.domain.digest import GRACE, Period
from bot.domain.people import Profile
from bot.domain.questions import AskIntent
from bot.slack_client import build_web_client
from bot.views.chart import HEIGHT_PX, WIDTH_PX, activity_chart
from handlers.digest import post_digest
from storage.database import Database
from storage.models import DigestRun, Question
from tests.handlers.test_lunchlearn import add_people, schedule
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack
from tests.unit.test_chart import picture

DIGEST = "C0DIGEST"
QA = "C0QA"
BERLIN = "Europe/Berlin"
# `0 9 * * 1` in Berlin: Monday 30 November 2026, 09:00 CET is 08:00 UTC.
END = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
START = END - timedelta(days=7)
PERIOD = Period(START, END)


@dataclass
class Failures:
    expected: int = 0


@pytest.fixture(autouse=True)
def logged_failures(caplog: pytest.LogCaptureFixture) -> Iterator[Failures]:
    """Every failure is logged with a traceback; a test must not pass on one silently, unless
    it says how many it expects."""
    caplog.set_level(logging.ERROR, logger="guildbot")
    failures = Failures()
    yield failures
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = [r for r in records if r.name.startswith("guildbot") and r.exc_info]
    assert len(logged) == failures.expected, [r.getMessage() for r in logged]


class Processes:
    """Bot processes (harnesses) on the test's database, each with its own fake Slack."""

    def __init__(self, tmp_path: Path, database: Database, clock: SettableClock) -> None:
        self._tmp_path = tmp_path
        self._url = database.url
        self._clock = clock
        self.running: list[BotHarness] = []
        self.fakes: list[FakeSlack] = []

    async def start(self, **overrides: str) -> BotHarness:
        slack = FakeSlack()
        for user_id, name in (("U0ANN", "Ann"), ("U0BOB", "Bob"), ("U0CAT", "Cat")):
            slack.add_user(user_id, name)
        add_people(slack)
        await slack.start()
        self.fakes.append(slack)
        settings: dict[str, str] = {
            "DATABASE_URL": self._url,
            "DIGEST_CHANNEL": DIGEST,
            "TIMEZONE": BERLIN,
            "QA_CHANNEL": QA,
            "LND_ADMINS": "U0ANN",
        }
        settings.update(overrides)
        harness = BotHarness(settings_for(self._tmp_path, slack, **settings), slack, self._clock)
        self.running.append(await harness.start())
        return harness

    async def close(self) -> None:
        for harness in self.running:
            await harness.close()
        for fake in self.fakes:
            await fake.stop()


@pytest.fixture
async def processes(
    tmp_path: Path, database: Database, clock: SettableClock
) -> AsyncIterator[Processes]:
    started = Processes(tmp_path, database, clock)
    yield started
    await started.close()


def client_of(bot: BotHarness) -> AsyncWebClient:
    return build_web_client(bot.settings)


async def run_digest(bot: BotHarness) -> bool:
    return await post_digest(bot.services, client_of(bot), TEAM_ID)


def digests(*fakes: FakeSlack) -> list[dict[str, Any]]:
    return [c for f in fakes for c in f.calls_to("chat.postMessage") if c["channel"] == DIGEST]


def text_of(post: dict[str, Any]) -> str:
    blocks = post["blocks"]
    return "\n".join(
        b["text"]["text"] if b["type"] in ("section", "header") else "" for b in blocks
    )


# A seeded week -----------------------------------------------------------------------------------


@dataclass
class Seeded:
    waiting: list[Question]
    """Unanswered before the end, oldest first."""


def ask(bot: BotHarness, asker: str, text: str, tags: tuple[str, ...], key: str) -> Question:
    """A question stored and posted as `/ask` would (not routed)."""
    services = bot.services
    intent = AskIntent(text, tags)
    profile = Profile(asker, asker[2:].title())
    question = services.questions.ask(TEAM_ID, profile, intent, QA, key).question
    ts = bot.slack.write(QA, None, text, bot_id="B0GUILD")
    link = f"https://acme.slack.com/archives/{QA}/p{ts.replace('.', '')}"
    services.questions.posted(question.id, ts, link)
    question.ts, question.permalink = ts, link
    return question


def reply(bot: BotHarness, question: Question, author: str) -> str:
    assert question.ts
    ts = bot.slack.write(QA, author, "Here is how", thread_ts=question.ts)
    assert bot.services.questions.record_answer(
        question, Profile(author, author[2:].title()), ts, "Here is how", None
    )
    return ts


async def kudos(bot: BotHarness, giver: str, text: str) -> dict[str, Any]:
    status, reply = await bot.command("/kudos", text, giver)
    assert status == 200 and reply["text"].startswith("Kudos sent"), reply
    return reply


async def seed(bot: BotHarness, clock: SettableClock) -> Seeded:
    """A week (START to END) with activity before, during and after it."""

    def at(day: int, hour: int, minute: int = 0) -> None:
        clock.now = datetime(2026, 11, day, hour, minute, tzinfo=UTC)

    at(1, 10)
    _, added = await bot.command("/skills", "add python, kafka, rust", "U0DAN")
    assert added["text"].startswith("Added"), added
    at(10, 10)
    old_open = ask(bot, "U0ANN", "How do we size kafka partitions?", ("kafka",), "q6")
    at(20, 10)
    old_slow = ask(bot, "U0CAT", "Which python profiler?", ("python",), "q4")
    at(22, 10)
    await kudos(bot, "U0ANN", "<@U0CAT> for the careful review yesterday #care")

    # The week.
    at(24, 9)
    accepted = ask(bot, "U0ANN", "How do I pin python dependencies?", ("python",), "q1")
    at(24, 9, 10)
    cat_answer = reply(bot, accepted, "U0CAT")  # first, after 10 minutes
    at(24, 9, 30)
    reply(bot, accepted, "U0BOB")
    at(24, 10)
    reply(bot, old_slow, "U0BOB")  # first answer to an older question, 4 days on
    at(24, 11)
    bot.services.questions.accept(TEAM_ID, QA, cat_answer, Profile("U0ANN", "Ann"), "seed")
    at(24, 12)
    await kudos(bot, "U0ANN", "<@U0BOB> <@U0CAT> for the great demo today #teamwork #python")
    at(25, 10)
    answered = ask(bot, "U0BOB", "Who runs the kafka cluster?", ("kafka",), "q2")
    at(25, 12)
    reply(bot, answered, "U0ANN")  # after 2 hours
    at(25, 13)
    await kudos(bot, "U0BOB", "<@U0ANN> for reviewing my pull request #teamwork")
    at(26, 9)
    undone = await kudos(bot, "U0CAT", "<@U0ANN> for the quick fix this morning #speed")
    status, _ = await bot.press("kudos_undo", undone["blocks"][0]["accessory"]["value"], "U0CAT")
    assert status == 200
    at(26, 10)
    open_now = ask(bot, "U0ANN", "Kafka consumer lag alerts?", ("kafka",), "q3")
    at(26, 11)
    await schedule(bot)  # Thursday 3 December, noon
    at(26, 12)
    await bot.command("/share", "<https://docs.pytest.org/> The pytest book #python", "U0CAT")

    # After the end (Monday 08:00 UTC), before the digest runs.
    at(30, 8, 30)
    ask(bot, "U0CAT", "Is rust worth it for the CLI?", ("rust",), "q5")
    await bot.command("/share", "<https://example.com/late> Shared too late #rust", "U0CAT")
    await kudos(bot, "U0BOB", "<@U0CAT> for the nice talk this morning #teamwork")
    at(30, 9, 30)
    bot.slack.calls.clear()
    return Seeded(waiting=[old_open, open_now])


# One process --------------------------------------------------------------------------------------


async def test_the_digest_counts_the_period_and_posts_once(
    processes: Processes, clock: SettableClock
) -> None:
    bot = await processes.start()
    seeded = await seed(bot, clock)

    digest = bot.services.digest.build(TEAM_ID, PERIOD)

    assert (digest.kudos, digest.givers, digest.receivers) == (3, 2, 3)
    assert digest.values == [("teamwork", 3), ("python", 2)]
    assert (digest.asked, digest.answered, digest.accepted) == (3, 2, 1)
    assert digest.waiting == 2
    assert [q.question_id for q in digest.oldest_waiting] == [q.id for q in seeded.waiting]
    assert [(h.user_id, h.first_answers, h.median) for h in digest.helpers] == [
        ("U0CAT", 1, timedelta(minutes=10)),
        ("U0ANN", 1, timedelta(hours=2)),
        ("U0BOB", 1, timedelta(days=4)),
    ]
    assert [s.title for s in digest.upcoming] == ["Intro to pytest"]
    assert digest.gaps == bot.services.gaps.top(TEAM_ID, 3)
    assert digest.gaps[0].slug == "kafka" and digest.gaps[0].unanswered == 2
    # The chart: the week itself, and the one before it.
    [*_, before, week] = digest.activity
    assert week.start == START and len(digest.activity) == 8
    # Given kudos (the undone one voided), asked, answered and accepted, the session scheduled.
    assert week.counts == {"kudos": 3, "qa": 3 + 4 + 1, "skills": 0, "lunchlearn": 1}
    assert before.counts == {"kudos": 1, "qa": 1, "skills": 0, "lunchlearn": 0}

    assert await run_digest(bot) is True
    [post] = digests(bot.slack)
    text = text_of(post)
    assert "Guild digest: Mon 23 Nov – Mon 30 Nov" in text
    assert "3 kudos from 2 people to 3 people" in text
    assert "Most recognised: `#teamwork` 3, `#python` 2" in text
    assert "3 questions asked, 2 answered, 1 with an accepted answer" in text
    assert "2 questions still waiting for an answer" in text
    assert seeded.waiting[0].permalink and seeded.waiting[0].permalink in text
    assert text.index("<@U0CAT>: first") < text.index("<@U0ANN>: first") < text.index("<@U0BOB>")
    assert "typically within 10 minutes" in text and "typically within 4 days" in text
    assert "*Intro to pytest*" in text and "`#kafka`: 2 questions unanswered" in text
    assert "<https://docs.pytest.org/|The pytest book> (link), opened by 0 people" in text
    assert "Shared too late" not in text
    assert post["text"].startswith("Guild digest, Mon 23 Nov – Mon 30 Nov: 3 kudos")

    # The chart, in the digest's thread.
    [upload] = bot.slack.calls_to("files.completeUploadExternal")
    assert upload["channel_id"] == DIGEST and upload["thread_ts"]
    [chart] = bot.slack.files.values()
    assert chart["filename"] == "guildbot-weekly-activity.png"
    assert "kudos gold" in chart["comment"]
    assert picture(chart["content"]).size == (WIDTH_PX, HEIGHT_PX)

    # Once per period: later runs in the same period post nothing.
    for _ in range(3):
        assert await run_digest(bot) is False
    clock.now += timedelta(hours=3)
    assert await run_digest(bot) is False
    assert len(digests(bot.slack)) == 1
    with bot.database.reading() as session:
        [run] = session.exec(select(DigestRun)).all()
    assert (run.period_start, run.period_end, run.attempts) == (START, END, 1)
    assert run.posted_at is not None and run.message_ts == upload["thread_ts"]

    # The next week: a new period, a new digest, with what came after the first one's end.
    clock.now = END + timedelta(days=7, seconds=5)
    assert await run_digest(bot) is True
    [_, quiet] = digests(bot.slack)
    assert quiet["text"] == (
        "Guild digest, Mon 30 Nov – Mon 7 Dec: 1 kudos, 1 question asked (0 answered), "
        "0 sessions coming up"
    )


async def test_a_digest_missed_for_longer_than_the_grace_is_skipped(
    processes: Processes, clock: SettableClock
) -> None:
    bot = await processes.start()
    clock.now = END + GRACE + timedelta(seconds=1)

    assert await run_digest(bot) is False

    clock.now = END + GRACE
    assert await run_digest(bot) is True
    assert len(digests(bot.slack)) == 1


async def test_without_a_digest_channel_nothing_is_posted(
    processes: Processes, clock: SettableClock
) -> None:
    bot = await processes.start(DIGEST_CHANNEL="")
    clock.now = END + timedelta(minutes=1)

    assert await run_digest(bot) is False
    assert digests(bot.slack) == []


async def test_a_failed_post_is_tried_again_later_then_given_up(
    processes: Processes, clock: SettableClock, logged_failures: Failures
) -> None:
    bot = await processes.start()
    clock.now = END + timedelta(seconds=10)
    bot.slack.fail_next("chat.postMessage", body={"ok": False, "error": "not_in_channel"})

    assert await run_digest(bot) is False
    # Not at once (every tick would hammer Slack), but after a few minutes.
    assert await run_digest(bot) is False
    clock.now += timedelta(minutes=5)
    assert await run_digest(bot) is True
    assert len(digests(bot.slack)) == 2  # the refused one, then the posted one

    # A channel that keeps refusing is given up after three attempts.
    clock.now = END + timedelta(days=7, seconds=10)
    bot.slack.fail_next("chat.postMessage", body={"ok": False, "error": "not_in_channel"}, times=5)
    for _ in range(5):
        await run_digest(bot)
        clock.now += timedelta(minutes=5)
    assert len(digests(bot.slack)) == 2 + 3
    logged_failures.expected = 4


async def test_the_chart_is_drawn_off_the_event_loop(
    processes: Processes, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first chart in a process takes most of a second: drawn on the loop, it would hold
    up every Slack request meanwhile."""
    bot = await processes.start()
    clock.now = END + timedelta(seconds=10)
    drawn_in: list[threading.Thread] = []

    def observed(*args: Any, **kwargs: Any) -> bytes:
        drawn_in.append(threading.current_thread())
        return activity_chart(*args, **kwargs)

    monkeypatch.setattr(handlers.digest, "activity_chart", observed)

    assert await run_digest(bot) is True

    assert len(drawn_in) == 1 and drawn_in[0] is not threading.current_thread()
    [chart] = bot.slack.files.values()
    assert picture(chart["content"]).size == (WIDTH_PX, HEIGHT_PX)


async def test_a_chart_that_fails_to_upload_does_not_post_the_digest_again(
    processes: Processes, clock: SettableClock, logged_failures: Failures
) -> None:
    bot = await processes.start()
    clock.now = END + timedelta(seconds=10)
    bot.slack.fail_next("files.getUploadURLExternal")

    assert await run_digest(bot) is True
    clock.now += timedelta(minutes=10)
    assert await run_digest(bot) is False
    assert len(digests(bot.slack)) == 1
    logged_failures.expected = 1


# Two processes on one database ---------------------------------------------------------------------


async def test_two_processes_post_each_period_once(
    processes: Processes, clock: SettableClock
) -> None:
    one = await processes.start()
    two = await processes.start()
    await seed(one, clock)

    results = await asyncio.gather(*(run_digest(bot) for bot in (one, two) for _ in range(4)))

    assert sorted(results) == [False] * 7 + [True]
    [post] = digests(one.slack, two.slack)
    assert "3 kudos from 2 people to 3 people" in text_of(post)
    assert len(one.slack.files) + len(two.slack.files) == 1

    # Later ticks in both processes: nothing more. The next period: one post again.
    clock.now += timedelta(minutes=30)
    assert await asyncio.gather(run_digest(one), run_digest(two)) == [False, False]
    clock.now = END + timedelta(days=7, seconds=1)
    results = await asyncio.gather(*(run_digest(bot) for bot in (two, one) for _ in range(4)))
    assert sorted(results) == [False] * 7 + [True]
    assert len(digests(one.slack, two.slack)) == 2


async def test_a_lapsed_claim_is_taken_over_by_the_other_process(
    processes: Processes, clock: SettableClock
) -> None:
    """A process that claimed the digest and died before posting holds it only for a lease."""
    one = await processes.start()
    two = await processes.start()
    clock.now = END + timedelta(seconds=10)
    assert one.services.digest.claim(TEAM_ID, DIGEST, "0 9 * * 1") == PERIOD  # …and then it died

    assert await run_digest(two) is False
    clock.now += timedelta(minutes=5)
    assert await run_digest(two) is True
    assert await run_digest(one) is False
    assert len(digests(one.slack, two.slack)) == 1


def test_a_malformed_digest_cron_stops_start_up_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    monkeypatch.setenv("DIGEST_CRON", "0 9 * * 8")

    assert main(["run"]) == 2

    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("guildbot: DIGEST_CRON='0 9 * * 8'")
    assert not (tmp_path / "never.db").exists()
