"""Getting a question to people who know: DMs to the top experts for its skills, within
limits people can trust, and a second try when nobody answered.

Who gets a question: the best-ranked people for any of its skills (by `/expert` standing),
never the asker, nobody twice, nobody paused, nobody who said the skill is not their area, and
nobody who already got `QA_MAX_ROUTED_PER_DAY` routed questions in the last 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.experts import ExpertFinder, Ranked
from storage.database import Database
from storage.models import Question, QuestionRoute
from storage.repositories import questions as questions_repo

ROUTED_AT_ONCE = 3
CANDIDATES_PER_SKILL = 25
DAY = timedelta(hours=24)
PAUSE = timedelta(days=7)


@dataclass(frozen=True)
class Routed:
    user_id: str
    slug: str


@dataclass(frozen=True)
class Nudge:
    """What the tick must do for one question: route it again, or remind its asker."""

    question: Question
    remind_asker: bool
    answers: int


class Router:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        experts: ExpertFinder,
        max_per_day: int,
    ) -> None:
        self._database = database
        self._clock = clock
        self._experts = experts
        self._max_per_day = max_per_day

    def route(self, question: Question, count: int = ROUTED_AT_ONCE) -> list[Routed]:
        """Picks up to `count` people for the question and records that they were sent it."""
        if self._max_per_day <= 0:
            return []
        with self._database.reading() as session:
            slugs = questions_repo.skills_of(session, question.id)
        # Every (person, skill) standing for the question's skills.
        standings = [
            (expert, slug)
            for slug in slugs
            for expert in self._experts.rank(question.team_id, slug, CANDIDATES_PER_SKILL)
        ]
        people = list(dict.fromkeys(expert.user_id for expert, _ in standings))
        now = self._clock()
        chosen: list[Routed] = []
        with self._database.transaction() as session:
            # Serialised per person, so two replicas can't both send someone their last DM.
            questions_repo.lock_people(session, question.team_id, people)
            already = questions_repo.routed_to(session, question.id)
            paused = questions_repo.paused(session, question.team_id, people, now)
            declined = questions_repo.declined(session, question.team_id, people, slugs)
            sent_today = questions_repo.routed_since(session, question.team_id, people, now - DAY)
            # Each person at their best skill of the question that is still their area, in
            # /expert's order.
            best: dict[str, tuple[Ranked, str]] = {}
            for expert, slug in standings:
                if (expert.user_id, slug) in declined:
                    continue
                held = best.get(expert.user_id)
                if held is None or _order(expert) > _order(held[0]):
                    best[expert.user_id] = (expert, slug)
            for user_id in sorted(best, key=lambda uid: _order(best[uid][0]), reverse=True):
                if len(chosen) == count:
                    break
                slug = best[user_id][1]
                if (
                    user_id == question.asker_id
                    or user_id == question.addressed_to
                    or user_id in already
                    or user_id in paused
                    or sent_today.get(user_id, 0) >= self._max_per_day
                ):
                    continue
                questions_repo.add_route(
                    session,
                    QuestionRoute(
                        question_id=question.id,
                        user_id=user_id,
                        team_id=question.team_id,
                        slug=slug,
                        routed_at=now,
                    ),
                )
                chosen.append(Routed(user_id, slug))
        return chosen

    def not_my_area(self, question_id: str, user_id: str) -> Question | None:
        """The person declines: no more questions on that skill for them. Returns the question
        (to route it on) when they had been sent it."""
        now = self._clock()
        with self._database.transaction() as session:
            route = questions_repo.route(session, question_id, user_id)
            question = questions_repo.get(session, question_id)
            if route is None or question is None:
                return None
            first_time = route.declined_at is None
            route.declined_at = now
            session.add(route)
            questions_repo.decline(session, question.team_id, user_id, [route.slug], now)
        return question if first_time and question.status == "open" else None

    def declined_skill(self, question_id: str, user_id: str) -> str | None:
        with self._database.reading() as session:
            route = questions_repo.route(session, question_id, user_id)
        return route.slug if route else None

    def pause(self, team_id: str, user_id: str) -> datetime:
        """No routed questions for the person for a week; returns until when."""
        until = self._clock() + PAUSE
        with self._database.transaction() as session:
            questions_repo.pause(session, team_id, user_id, until)
        return until

    def due_nudges(self, limit: int = 50) -> list[Nudge]:
        """Claims the questions whose nudge is due (each by exactly one process)."""
        now = self._clock()
        with self._database.transaction() as session:
            claimed = questions_repo.claim_due_nudges(session, now, limit)
            answers = {q.id: len(questions_repo.answers_to(session, q.id)) for q in claimed}
        return [Nudge(q, answers[q.id] > 0, answers[q.id]) for q in claimed]


def _order(expert: Ranked) -> tuple[float, int, str]:
    """/expert's order: score, then pieces of evidence, then a stable tie-break."""
    return (expert.score, expert.pieces, expert.user_id)
