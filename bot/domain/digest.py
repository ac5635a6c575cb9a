"""The weekly digest: what a period brought, posted once per period whatever the replicas.

The period is the time between the last two times the workspace's schedule fires (its
`digest_cron` setting, in `TIMEZONE`): a digest due at Monday 09:00 covers the week since the
previous Monday 09:00. A digest is due from its fire time for `GRACE`: the database tick (every
30 s, and at start-up) posts it, so a digest every process missed or failed to post still goes
out. The claim is a row per workspace and period (`digest_run`), so of several replicas
exactly one posts.

What it counts, in [start, end):
- kudos given that still stand, from how many givers to how many receivers, and the values
  (`#tags`) named most;
- questions asked, how many of them had an answer by the end, how many were accepted; and the
  backlog still waiting: open questions with no answer at all;
- fastest helpers: people who gave the first answer to a question in the period, ranked by the
  median time from the question to their first answer (then by how many, then by id);
- sessions coming up (not cancelled, not over) and the top knowledge gaps, as of now.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.cron import cron_schedule
from bot.domain.gaps import Gap, KnowledgeGaps
from bot.domain.lunchlearn import Lunch
from bot.domain.reporting import WeekActivity, standing_statements, weekly_activity
from storage.database import Database
from storage.models import Resource
from storage.repositories import lunchlearn as sessions_repo
from storage.repositories import reporting as repo
from storage.repositories import resources as resources_repo
from storage.repositories.reporting import WaitingQuestion

GRACE = timedelta(hours=6)
"""How long after its fire time a digest is still worth posting."""
LEASE = timedelta(minutes=5)
"""How long a claim keeps other processes off while one posts."""
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3
TOP_VALUES = 5
TOP_HELPERS = 3
RESOURCES = 5
UPCOMING = 5
GAPS = 3
WAITING_SHOWN = 3
CHART_WEEKS = 8
_FIRST_LOOKBACK = timedelta(minutes=10)
_MAX_LOOKBACK = timedelta(days=5 * 366)


class Schedule(Protocol):
    """An APScheduler trigger (see `bot.cron.cron_schedule`)."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    """The fire time the digest is for."""


def last_period(schedule: Schedule, now: datetime) -> Period | None:
    """The period ending at the latest fire time at or before `now`; None if the schedule
    has not fired twice in the last few years."""
    lookback = _FIRST_LOOKBACK
    while True:
        fires: list[datetime] = []
        fire = schedule.get_next_fire_time(None, now - lookback)
        while fire is not None and fire <= now:
            fires = [*fires[-1:], fire]
            fire = schedule.get_next_fire_time(fire, fire)
        if len(fires) == 2:
            return Period(fires[0].astimezone(UTC), fires[1].astimezone(UTC))
        if lookback >= _MAX_LOOKBACK:
            return None
        lookback *= 2


@dataclass(frozen=True)
class Helper:
    user_id: str
    first_answers: int
    median: timedelta


@dataclass(frozen=True)
class Digest:
    period: Period
    timezone: str
    kudos: int
    givers: int
    receivers: int
    values: list[tuple[str, int]]
    asked: int
    answered: int
    accepted: int
    waiting: int
    """Open questions with no answer yet, whenever asked."""
    oldest_waiting: list[WaitingQuestion]
    helpers: list[Helper]
    upcoming: list[Lunch]
    gaps: list[Gap]
    activity: list[WeekActivity]
    """Statements per capability in the `CHART_WEEKS` weeks before the end (the chart)."""
    resources: list[Resource] = field(default_factory=list)
    """Resources shared in the period, the most opened first."""


class DigestService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        gaps: KnowledgeGaps,
        timezone: str,
    ) -> None:
        self._database = database
        self._clock = clock
        self._gaps = gaps
        self._timezone = timezone

    def due(self, schedule: str) -> Period | None:
        """The period whose digest is due now on `schedule` (five-field cron), if its fire time
        is less than `GRACE` ago."""
        now = self._clock()
        period = last_period(_schedule(schedule, self._timezone), now)
        if period is None or now - period.end > GRACE:
            return None
        return period

    def claim(self, team_id: str, channel_id: str, schedule: str) -> Period | None:
        """The period due on the workspace's `schedule`, when this process is the one to post
        its digest."""
        period = self.due(schedule)
        if period is None:
            return None
        now = self._clock()
        with self._database.reading() as session:
            run = repo.digest_run(session, team_id, period.start)
        if run is not None and (
            run.posted_at is not None
            or run.attempts >= MAX_ATTEMPTS
            or (run.claimed_until is not None and run.claimed_until > now)
        ):
            return None
        with self._database.transaction() as session:
            claimed = repo.claim_digest(
                session,
                team_id,
                period.start,
                period.end,
                channel_id,
                now,
                now + LEASE,
                MAX_ATTEMPTS,
            )
        return period if claimed else None

    def posted(self, team_id: str, period: Period, message_ts: str) -> None:
        with self._database.transaction() as session:
            repo.digest_posted(session, team_id, period.start, message_ts, self._clock())

    def failed(self, team_id: str, period: Period) -> None:
        """Posting failed: another attempt (any process) may take it after `RETRY_AFTER`."""
        with self._database.transaction() as session:
            repo.digest_failed(session, team_id, period.start, self._clock() + RETRY_AFTER)

    def build(self, team_id: str, period: Period) -> Digest:
        start, end = period.start, period.end
        now = self._clock()
        with self._database.reading() as session:
            kudos = repo.kudos_given(session, team_id, start, end)
            asked = repo.questions_asked(session, team_id, start, end)
            waiting, oldest = repo.unanswered(session, team_id, end, WAITING_SHOWN)
            firsts = repo.first_answers(session, team_id, start, end)
            upcoming = [
                Lunch.of(s) for s in sessions_repo.upcoming(session, team_id, now)[:UPCOMING]
            ]
            shared = resources_repo.shared_since(session, team_id, start, RESOURCES, end)
        values: Counter[str] = Counter(value for k in kudos for value in k.values)
        chart_start = end - CHART_WEEKS * timedelta(days=7)
        statements = standing_statements(self._database, chart_start, end, team_id)
        return Digest(
            period=period,
            timezone=self._timezone,
            kudos=len(kudos),
            givers=len({k.giver_id for k in kudos}),
            receivers=len({k.receiver_id for k in kudos}),
            values=sorted(values.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES],
            asked=len(asked),
            answered=sum(1 for q in asked if q.answered),
            accepted=sum(1 for q in asked if q.status == "resolved"),
            waiting=waiting,
            oldest_waiting=oldest,
            helpers=fastest_helpers(firsts),
            upcoming=upcoming,
            gaps=self._gaps.top(team_id, GAPS),
            activity=weekly_activity(statements, chart_start, end),
            resources=shared,
        )


@functools.lru_cache(maxsize=256)
def _schedule(expression: str, timezone: str) -> Schedule:
    """Each tick asks for every workspace's: the few schedules in use, parsed once."""
    return cron_schedule(expression, timezone)


def fastest_helpers(firsts: list[repo.FirstAnswer], limit: int = TOP_HELPERS) -> list[Helper]:
    """People by the median time from question to their first answer, quickest first."""
    times: dict[str, list[timedelta]] = {}
    for first in firsts:
        times.setdefault(first.author_id, []).append(first.answered_at - first.asked_at)
    helpers = [
        Helper(user_id, len(taken), statistics.median_low(sorted(taken)))
        for user_id, taken in times.items()
    ]
    helpers.sort(key=lambda h: (h.median, -h.first_answers, h.user_id))
    return helpers[:limit]
