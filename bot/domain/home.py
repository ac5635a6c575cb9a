"""One person's learning record across the capabilities: what App Home and `/guild me` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.domain.kudos import KudosService, Quota, period_start
from bot.domain.lunchlearn import Lunch, LunchLearnService
from bot.domain.people import Profile
from bot.domain.questions import AskedQuestion
from bot.domain.skills import SkillProfile, SkillsService
from storage.database import Database
from storage.repositories import effects as effects_repo
from storage.repositories import kudos as kudos_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import questions as questions_repo
from storage.repositories.effects import DeadEffect, EffectCounts
from storage.repositories.outbox import DeadLetter, OutboxCounts

SHOWN = 5


@dataclass(frozen=True)
class LearningRecord:
    skills: SkillProfile
    kudos_received: int
    """This month, in the person's time zone."""
    kudos_given: int
    quota: Quota
    open_questions: tuple[AskedQuestion, ...]
    waiting_for_you: tuple[AskedQuestion, ...]
    sessions: tuple[tuple[Lunch, str | None], ...]
    paused_until: datetime | None


@dataclass(frozen=True)
class AdminRecord:
    outbox: OutboxCounts
    dead: tuple[DeadLetter, ...]
    effects: EffectCounts
    """Slack effects still owed, and those Slack refused for good."""
    dead_effects: tuple[DeadEffect, ...]
    kudos_this_month: int
    questions_this_month: int


class HomeService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        skills: SkillsService,
        kudos: KudosService,
        lunchlearn: LunchLearnService,
    ) -> None:
        self._database = database
        self._clock = clock
        self._skills = skills
        self._kudos = kudos
        self._lunchlearn = lunchlearn
        # Who has looked at App Home in this process: only their views are worth redrawing
        # when something changes (anyone else gets a fresh one when they open it).
        self._viewers: set[tuple[str, str]] = set()

    def opened(self, team_id: str, user_id: str) -> None:
        self._viewers.add((team_id, user_id))

    def is_viewer(self, team_id: str, user_id: str) -> bool:
        return (team_id, user_id) in self._viewers

    def record(self, team_id: str, person: Profile) -> LearningRecord:
        now = self._clock()
        month = period_start("month", now, person.tz)
        assert month is not None
        with self._database.reading() as session:
            received = kudos_repo.count_received(session, team_id, person.user_id, month)
            given = kudos_repo.count_given_since(session, team_id, person.user_id, month)
            asked = questions_repo.open_asked_by(session, team_id, person.user_id, SHOWN)
            waiting = questions_repo.waiting_for(session, team_id, person.user_id, SHOWN)
            paused = questions_repo.paused_until(session, team_id, person.user_id)
        return LearningRecord(
            skills=self._skills.profile(team_id, person.user_id),
            kudos_received=received,
            kudos_given=given,
            quota=self._kudos.quota(team_id, person),
            open_questions=tuple(AskedQuestion.of(q) for q in asked),
            waiting_for_you=tuple(AskedQuestion.of(q) for q in waiting),
            sessions=tuple(self._lunchlearn.upcoming(team_id, person.user_id)[:SHOWN]),
            paused_until=paused if paused and paused > now else None,
        )

    def admin(self, team_id: str, tz: str) -> AdminRecord:
        """The workspace's own delivery failures and totals: its admins see no other's."""
        month = period_start("month", self._clock(), tz)
        assert month is not None
        with self._database.reading() as session:
            return AdminRecord(
                outbox=outbox_repo.counts(session, team_id),
                dead=tuple(outbox_repo.dead_letters(session, SHOWN, team_id)),
                effects=effects_repo.counts(session, team_id),
                dead_effects=tuple(effects_repo.dead(session, SHOWN, team_id)),
                kudos_this_month=kudos_repo.count_in_period(session, team_id, month),
                questions_this_month=questions_repo.count_asked(session, team_id, month),
            )

    def resume_routing(self, team_id: str, user_id: str) -> None:
        with self._database.transaction() as session:
            questions_repo.unpause(session, team_id, user_id)
