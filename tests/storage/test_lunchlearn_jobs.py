"""Lunch-and-learn jobs and RSVPs across processes: a restart between scheduling and a
reminder still sends it once, two processes ticking at once do each job once, and the capacity
holds when two processes take Going presses at the same moment.

Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.domain.lunchlearn import SessionDraft
from bot.domain.people import Profile
from bot.slack_client import build_web_client
from bot.xapi.statements import derived_id
from handlers import tick_jobs
from handlers.lunchlearn import run_session_jobs
from storage.database import Database
from storage.models import LunchSession, OutboxStatement, Rsvp, SessionJob
from tests.support.clock import SettableClock
from tests.support.harness import BotHarness, settings_for
from tests.support.slack import TEAM_ID, FakeSlack

LUNCH = "C0LUNCH"
START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PRESENT = "http://activitystrea.ms/present"
PEOPLE = tuple(f"U0P{n:02d}" for n in range(10))


@pytest.fixture(autouse=True)
def no_listener_failures(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The error boundary and the tick log exceptions instead of raising; a test must not pass on one."""
    caplog.set_level(logging.ERROR, logger="guildbot")
    yield
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    failures = [r.getMessage() for r in records if r.name.startswith("guildbot") and r.exc_info]
    assert failures == []


class Processes:
    """Bot processes (harnesses) on the test's database, SQLite or PostgreSQL, all talking to
    the same (fake) Slack workspace."""

    def __init__(
        self, tmp_path: Path, database: Database, slack: FakeSlack, clock: SettableClock
    ) -> None:
        self._tmp_path = tmp_path
        self._url = database.url
        self._slack = slack
        self._clock = clock
        self.running: list[BotHarness] = []

    async def start(self, **overrides: str) -> BotHarness:
        settings = settings_for(
            self._tmp_path, self._slack, LND_ADMINS="U0ANN", DATABASE_URL=self._url, **overrides
        )
        harness = await BotHarness(settings, self._slack, self._clock).start()
        self.running.append(harness)
        return harness

    async def stop(self, harness: BotHarness) -> None:
        self.running.remove(harness)
        await harness.close()


@pytest.fixture
async def processes(
    tmp_path: Path, database: Database, slack: FakeSlack, clock: SettableClock
) -> AsyncIterator[Processes]:
    for user in PEOPLE:
        slack.add_user(user, f"Person {user[-2:]}")
    started = Processes(tmp_path, database, slack, clock)
    yield started
    for harness in list(started.running):
        await started.stop(harness)


# Helpers ---------------------------------------------------------------------------------------


def form(**typed: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Intro to pytest",
        "tags": "#python",
        "presenter": "U0CAT",
        "start": START,
        "duration": "45",
        "place": "Room 4",
        "capacity": "2",
    }
    fields.update(typed)

    def value(kind: str, raw: Any, key: str = "value") -> dict[str, Any]:
        return {"value": {"type": kind, key: raw}}

    return {
        "title": value("plain_text_input", fields["title"]),
        "description": value("plain_text_input", None),
        "tags": value("plain_text_input", fields["tags"]),
        "presenter": value("users_select", fields["presenter"], "selected_user"),
        "start": value("datetimepicker", int(fields["start"].timestamp()), "selected_date_time"),
        "duration": value("number_input", fields["duration"]),
        "place": value("plain_text_input", fields["place"]),
        "capacity": value("number_input", fields["capacity"]),
        "channel": value("conversations_select", LUNCH, "selected_conversation"),
    }


async def schedule(bot: BotHarness, view_id: str = "V0FORM", **typed: Any) -> LunchSession:
    """Ann schedules a session through /lunchlearn and the form; it is announced."""
    status, reply = await bot.command("/lunchlearn", "", "U0ANN")
    assert status == 200 and not reply.get("text"), reply
    view = bot.opened_views()[-1]
    status, ack = await bot.submit(view, form(**typed), "U0ANN", view_id=view_id)
    assert status == 200 and "response_action" not in ack, ack
    lunch = stored(bot, derived_id(TEAM_ID, "lunch-session", f"form:{view_id}"))
    assert lunch.message_ts
    return lunch


def seed_sessions(bot: BotHarness, count: int, going: tuple[str, ...]) -> list[LunchSession]:
    """`count` sessions stored as the form would (not announced), with `going` signed up."""
    service = bot.services.lunchlearn
    settings = bot.services.workspace_settings.of(TEAM_ID)
    made = []
    for n in range(count):
        draft = SessionDraft(
            title=f"Session {n:02d}",
            description="",
            tags=("python",),
            presenter_id="U0CAT",
            starts_at=START,
            duration_minutes=45,
            place="Room 4",
            capacity=None,
            channel_id=LUNCH,
        )
        ann = Profile("U0ANN", "Ann")
        lunch = service.schedule(TEAM_ID, ann, settings, draft, f"seed:{n}").session
        for user in going:
            assert service.going(lunch.id, Profile(user, user)).status == "going"
        made.append(lunch)
    return made


def stored(bot: BotHarness, session_id: str) -> LunchSession:
    with bot.database.reading() as db:
        found = db.get(LunchSession, session_id)
    assert found is not None
    return found


def statuses(bot: BotHarness, session_id: str) -> dict[str, str]:
    with bot.database.reading() as db:
        rows = db.exec(select(Rsvp).where(Rsvp.session_id == session_id))
        return {r.user_id: r.status for r in rows}


def pending_jobs(bot: BotHarness) -> list[str]:
    with bot.database.reading() as db:
        query = select(SessionJob.kind).where(SessionJob.done_at == None)  # noqa: E711
        return sorted(db.exec(query))


def verbs(bot: BotHarness, verb: str) -> int:
    with bot.database.reading() as db:
        bodies = list(db.exec(select(OutboxStatement.body)))
    return sum(f'"{verb}"' in body for body in bodies)


def dms(slack: FakeSlack) -> list[tuple[str, str]]:
    """(user, text) of every DM: posts to the `D…` channel that `conversations.open` gave."""
    opened: dict[str, str] = {}
    found = []
    for call in slack.calls:
        if call.method == "conversations.open":
            opened["D" + call.args["users"].lstrip("UW")] = call.args["users"]
        elif call.method == "chat.postMessage" and call.args.get("channel", "").startswith("D"):
            found.append((opened[call.args["channel"]], call.args["text"]))
    return found


def reminders(slack: FakeSlack) -> list[tuple[str, str]]:
    return [(user, text) for user, text in dms(slack) if ":alarm_clock:" in text]


async def tick(bot: BotHarness) -> int:
    return await run_session_jobs(
        bot.services, bot.effects, build_web_client(bot.settings), TEAM_ID
    )


async def tick_together(*bots: BotHarness) -> int:
    """Every process ticks at the same moment, again and again until nothing is left."""
    done = 0
    for _ in range(20):
        counts = await asyncio.gather(*(tick(bot) for bot in bots))
        done += sum(counts)
        if not any(counts):
            return done
    raise AssertionError("the ticks never ran dry")


# A restart -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "back_at",
    [
        pytest.param(timedelta(hours=24), id="back-when-due"),
        pytest.param(timedelta(hours=3), id="back-hours-late"),
    ],
)
async def test_a_restart_between_scheduling_and_the_reminder_still_sends_it_once(
    processes: Processes, slack: FakeSlack, clock: SettableClock, back_at: timedelta
) -> None:
    first = await processes.start()
    lunch = await schedule(first)
    await first.press("lunch_going", lunch.id, "U0BOB")
    await first.press("lunch_going", lunch.id, "U0P01")
    assert await tick(first) == 0
    await processes.stop(first)

    clock.now = START - back_at
    second = await processes.start()
    # The database tick, as the process runs it, sends them.
    for job in tick_jobs(second.services, second.effects, second.installed):
        await job()

    assert sorted(user for user, _ in reminders(slack)) == ["U0BOB", "U0P01"]
    # It says how long is really left, however late it goes out.
    hours = round(back_at.total_seconds() / 3600)
    expected = f"“Intro to pytest” starts in {hours} hours"
    assert all(expected in text for _, text in reminders(slack))
    assert await tick(second) == 0

    # A third process after another restart finds nothing left to send.
    await processes.stop(second)
    third = await processes.start()
    assert await tick(third) == 0
    assert len(reminders(slack)) == 2
    assert "reminder:1440" not in pending_jobs(third)


async def test_a_process_that_dies_after_claiming_a_reminder_leaves_it_to_the_next(
    processes: Processes, slack: FakeSlack, clock: SettableClock
) -> None:
    first = await processes.start()
    lunch = await schedule(first)
    await first.press("lunch_going", lunch.id, "U0BOB")
    clock.now = START - timedelta(hours=24)
    # The claim commits, then the process dies before it reaches Slack.
    claimed = await first.services.run(first.services.lunchlearn.due_jobs, TEAM_ID)
    assert claimed.count == 1 and claimed.effects
    await processes.stop(first)
    assert reminders(slack) == []

    second = await processes.start()
    assert await tick(second) == 0  # the job is claimed for good …
    await second.effects.perform_due(build_web_client(second.settings), TEAM_ID)

    # … and what it owed is done by the next process, once.
    [(user, text)] = reminders(slack)
    assert user == "U0BOB" and "“Intro to pytest” starts in 24 hours" in text
    await second.effects.perform_due(build_web_client(second.settings), TEAM_ID)
    assert len(reminders(slack)) == 1


async def test_a_restart_after_the_start_sends_no_reminder_but_records_the_start(
    processes: Processes, slack: FakeSlack, clock: SettableClock
) -> None:
    first = await processes.start()
    lunch = await schedule(first)
    await first.press("lunch_going", lunch.id, "U0BOB")
    await processes.stop(first)

    clock.now = START + timedelta(minutes=5)
    second = await processes.start()
    await tick(second)

    assert reminders(slack) == []
    assert stored(second, lunch.id).presented_at == clock.now
    assert verbs(second, PRESENT) == 1
    assert pending_jobs(second) == ["checkin-close", "end"]


# Two processes ---------------------------------------------------------------------------------


async def test_two_processes_ticking_at_once_do_every_job_exactly_once(
    processes: Processes, slack: FakeSlack, clock: SettableClock
) -> None:
    one = await processes.start()
    two = await processes.start()
    going = ("U0BOB", "U0P01", "U0P02")
    # 30 sessions × 2 jobs due at once: more than one claim's worth (50), so the claims overlap.
    seeded = seed_sessions(one, 30, going)

    clock.now = START - timedelta(hours=24)
    assert await tick_together(one, two) == 30
    day_before = reminders(slack)
    assert len(day_before) == 30 * len(going)
    for lunch in seeded:
        got = sorted(user for user, text in day_before if f"“{lunch.title}”" in text)
        assert got == sorted(going), lunch.title

    clock.now = START - timedelta(minutes=15)
    assert await tick_together(one, two) == 60  # the 15-minute reminders and check-in opening
    soon = reminders(slack)[len(day_before) :]
    assert len(soon) == 30 * len(going)
    assert len(set(soon)) == len(soon)
    assert all("starts in 15 minutes" in text for _, text in soon)

    clock.now = START
    assert await tick_together(one, two) == 30
    assert verbs(one, PRESENT) == 30
    assert all(stored(one, lunch.id).presented_at == START for lunch in seeded)
    assert pending_jobs(one) == ["checkin-close"] * 30 + ["end"] * 30


@pytest.mark.parametrize("capacity", [1, 3])
async def test_the_capacity_holds_when_two_processes_take_going_presses_at_once(
    processes: Processes, slack: FakeSlack, capacity: int
) -> None:
    one = await processes.start()
    two = await processes.start()
    lunch = await schedule(one, capacity=str(capacity))

    await asyncio.gather(
        *(
            (one if n % 2 else two).press("lunch_going", lunch.id, user)
            for n, user in enumerate(PEOPLE)
        )
    )

    found = statuses(one, lunch.id)
    assert len(found) == len(PEOPLE)
    going = sorted(user for user, status in found.items() if status == "going")
    assert len(going) == capacity
    assert sum(status == "waitlist" for status in found.values()) == len(PEOPLE) - capacity
    told = [r["text"] for r in slack.responses]
    assert sum(text.startswith("You're going") for text in told) == capacity
    assert sum("on the waitlist" in text for text in told) == len(PEOPLE) - capacity

    # Those going give up their places at once, on both processes: each place goes to exactly
    # one person from the waitlist.
    await asyncio.gather(
        *(
            (one if n % 2 else two).press("lunch_not_going", lunch.id, user)
            for n, user in enumerate(going)
        )
    )

    after = statuses(one, lunch.id)
    assert sum(status == "going" for status in after.values()) == capacity
    assert sum(status == "waitlist" for status in after.values()) == len(PEOPLE) - 2 * capacity
    assert all(after[user] == "not going" for user in going)
    promoted = sorted(
        user for user, status in after.items() if status == "going" and user not in going
    )
    promoted_dms = [user for user, text in dms(slack) if "a place freed up" in text]
    assert sorted(promoted_dms) == promoted


async def test_wrong_check_in_codes_count_across_processes_pressed_at_once(
    processes: Processes, clock: SettableClock
) -> None:
    one = await processes.start(LUNCHLEARN_CHECKIN_CODE="true")
    two = await processes.start(LUNCHLEARN_CHECKIN_CODE="true")
    lunch = await schedule(one)
    assert lunch.checkin_code
    clock.now = START
    await one.press("lunch_checkin", lunch.id, "U0BOB")
    form = one.opened_views()[-1]

    def code(typed: str) -> dict[str, Any]:
        return {"code": {"value": {"type": "plain_text_input", "value": typed}}}

    # Eight wrong codes from one person, sent to both processes at the same moment.
    answers = await asyncio.gather(
        *(
            (one if n % 2 else two).submit(form, code(f"WRONG{n}"), "U0BOB", view_id=f"V0{n}")
            for n in range(8)
        )
    )

    told = [ack["errors"]["code"] for _, ack in answers]
    assert sum("isn't the session's code" in text for text in told) == 4  # 4, 3, 2, 1 left
    assert sum("ask the presenter" in text for text in told) == 4
    for bot in (one, two):
        _, ack = await bot.submit(form, code(lunch.checkin_code), "U0BOB", view_id="V0RIGHT")
        assert "ask the presenter" in ack["errors"]["code"]
    assert verbs(one, "http://adlnet.gov/expapi/verbs/attended") == 0
