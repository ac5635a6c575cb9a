"""Getting a question to people who know: DMs to the top experts for its skills, within
limits people can trust, and a second try when nobody answered.

Who gets a question: the best-ranked people for any of its skills (by `/expert` standing),
never the asker, nobody twice, nobody paused, nobody who said the skill is not their area, and
nobody who already got `QA_MAX_ROUTED_PER_DAY` routed questions in the last 24 hours.

The DMs are owed (see bot/domain/effects.py) in the transaction that records whom a question
went to; each DM is remembered once sent, so it can be brought up to date when the question
gets an accepted answer (no more "Not my area") or reopens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.domain.effects import Effect, owe
from bot.domain.experts import ExpertFinder, Ranked
from storage.database import Database
from storage.models import Question, QuestionRoute
from storage.repositories import questions as questions_repo

ROUTED_AT_ONCE = 3
CANDIDATES_PER_SKILL = 25
DAY = timedelta(hours=24)
PAUSE = timedelta(days=7)

# What routing owes Slack.
ROUTE = "questions.route"
"""Choose the next people for an open question and owe each a DM (a nudge, a "Not my area")."""
ROUTED_DM = "questions.routed_dm"
"""DM a routed question to one person."""
UPDATE_DMS = "questions.update_dms"
"""Bring a question's routed DMs up to date: answered (no buttons), or open again."""
REMINDER = "questions.reminder"
"""Remind the asker that their question has answers and none is accepted."""

# The routing steps (a question is routed by each at most once).
ON_PUBLISH = "publish"
ON_NUDGE = "nudge"


def on_decline(user_id: str) -> str:
    return f"declined:{user_id}"


def route_effect(team_id: str, question_id: str, count: int, cause: str) -> Effect:
    payload = {"question": question_id, "count": count, "cause": cause}
    return Effect(ROUTE, f"{ROUTE}:{team_id}:{question_id}:{cause}", team_id, payload)


def update_dms_effect(team_id: str, question_id: str, cause: str) -> Effect:
    """Owed whenever a question is accepted or reopens; `cause` is unique to that change."""
    key = f"{UPDATE_DMS}:{team_id}:{question_id}:{cause}"
    return Effect(UPDATE_DMS, key, team_id, {"question": question_id})


@dataclass(frozen=True)
class RoutedDm:
    """A routed question's DM to one person, as it should read now."""

    question_id: str
    user_id: str
    asker_id: str
    text: str
    slug: str
    question_link: str | None
    answered: bool
    """The question has an accepted answer: the DM says so, with no buttons."""
    answer_link: str | None
    """The accepted answer's message, else the question's."""
    channel: str | None
    ts: str | None
    """Where the DM went, once sent."""


@dataclass(frozen=True)
class Declined:
    slug: str | None
    """The skill they said is not their area (None: the question was never theirs)."""
    effects: tuple[str, ...] = ()
    """Routing the question on, to do right away."""


@dataclass(frozen=True)
class Nudged:
    questions: int
    effects: tuple[str, ...]
    """Routing on, or reminding the asker, to do right away."""


@dataclass(frozen=True)
class Reminder:
    asker_id: str
    question_link: str | None
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

    def route(self, question_id: str, count: int, cause: str) -> list[str]:
        """Picks up to `count` people for the open question, records that they were sent it
        and owes each a DM; returns the DMs' keys. A step retried after a crash (the same
        `cause`) finds the people it chose before and owes them the same DMs."""
        with self._database.reading() as session:
            question = questions_repo.get(session, question_id)
            slugs = questions_repo.skills_of(session, question_id)
        if question is None or question.status != "open" or self._max_per_day <= 0:
            return []
        # Every (person, skill) standing for the question's skills.
        standings = [
            (expert, slug)
            for slug in slugs
            for expert in self._experts.rank(question.team_id, slug, CANDIDATES_PER_SKILL)
        ]
        now = self._clock()
        with self._database.transaction() as session:
            if questions_repo.get(session, question_id) is None:
                return []  # withdrawn or erased meanwhile
            chosen = [
                r.user_id for r in questions_repo.routes_by_cause(session, question_id, cause)
            ]
            if not chosen:
                chosen = self._choose(session, question, standings, slugs, count, cause, now)
            dms = [
                Effect(
                    ROUTED_DM,
                    f"{ROUTED_DM}:{question.team_id}:{question.id}:{user_id}",
                    question.team_id,
                    {"question": question.id, "user": user_id},
                )
                for user_id in chosen
            ]
            return owe(session, dms, now)

    def _choose(
        self,
        session: Session,
        question: Question,
        standings: Sequence[tuple[Ranked, str]],
        slugs: Sequence[str],
        count: int,
        cause: str,
        now: datetime,
    ) -> list[str]:
        people = list(dict.fromkeys(expert.user_id for expert, _ in standings))
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
        chosen: list[str] = []
        for user_id in sorted(best, key=lambda uid: _order(best[uid][0]), reverse=True):
            if len(chosen) == count:
                break
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
                    slug=best[user_id][1],
                    routed_at=now,
                    cause=cause,
                ),
            )
            chosen.append(user_id)
        return chosen

    def routed_dm(self, question_id: str, user_id: str) -> RoutedDm | None:
        """The DM a routed person is owed, as it should read now; None when the question was
        withdrawn or erased, or they said no already."""
        with self._database.reading() as session:
            route = questions_repo.route(session, question_id, user_id)
            question = questions_repo.get(session, question_id)
            if route is None or question is None or route.declined_at is not None:
                return None
            return _routed_dm(session, question, route)

    def dm_sent(self, question_id: str, user_id: str, channel: str, ts: str) -> RoutedDm | None:
        """Remembers where the DM went; returns it as it should read now (it may have been
        answered while the DM was on its way)."""
        with self._database.transaction() as session:
            questions_repo.set_dm(session, question_id, user_id, channel, ts)
            route = questions_repo.route(session, question_id, user_id)
            question = questions_repo.get(session, question_id)
            if route is None or question is None:
                return None
            return _routed_dm(session, question, route)

    def sent_dms(self, question_id: str) -> list[RoutedDm]:
        """Every DM the question went out in (but those answered with "Not my area")."""
        with self._database.reading() as session:
            question = questions_repo.get(session, question_id)
            if question is None:
                return []
            return [
                _routed_dm(session, question, route)
                for route in questions_repo.sent_dms(session, question_id)
            ]

    def not_my_area(self, team_id: str, question_id: str, user_id: str) -> Declined:
        """The person declines: no more questions on that skill for them, and the question
        goes to the next person (owed in the same transaction) if it is still open. The
        question id is the button's, so another workspace's question was never theirs here."""
        now = self._clock()
        with self._database.transaction() as session:
            route = questions_repo.route(session, question_id, user_id)
            question = questions_repo.get(session, question_id)
            if route is None or question is None or question.team_id != team_id:
                return Declined(None)
            first_time = route.declined_at is None
            route.declined_at = now
            session.add(route)
            questions_repo.decline(session, question.team_id, user_id, [route.slug], now)
            if not first_time or question.status != "open":
                return Declined(route.slug)
            on = route_effect(question.team_id, question.id, 1, on_decline(user_id))
            return Declined(route.slug, tuple(owe(session, [on], now)))

    def pause(self, team_id: str, user_id: str) -> datetime:
        """No routed questions for the person for a week; returns until when."""
        until = self._clock() + PAUSE
        with self._database.transaction() as session:
            questions_repo.pause(session, team_id, user_id, until)
        return until

    def due_nudges(self, team_id: str, limit: int = 50) -> Nudged:
        """Claims the workspace's questions whose nudge is due (each by exactly one process)
        and owes, in the same transaction, what each needs: routing on when nobody answered,
        a reminder to the asker when someone did. A Slack failure afterwards loses neither."""
        now = self._clock()
        with self._database.transaction() as session:
            claimed = questions_repo.claim_due_nudges(session, team_id, now, limit)
            owed = []
            for question in claimed:
                if questions_repo.answers_to(session, question.id):
                    key = f"{REMINDER}:{question.team_id}:{question.id}"
                    owed.append(Effect(REMINDER, key, question.team_id, {"question": question.id}))
                elif question.ts:
                    owed.append(
                        route_effect(question.team_id, question.id, ROUTED_AT_ONCE, ON_NUDGE)
                    )
            return Nudged(len(claimed), tuple(owe(session, owed, now)))

    def reminder(self, question_id: str) -> Reminder | None:
        """What the asker is reminded of; None once the question is resolved or gone."""
        with self._database.reading() as session:
            question = questions_repo.get(session, question_id)
            if question is None or question.status != "open":
                return None
            answers = len(questions_repo.answers_to(session, question_id))
        if not answers:
            return None
        return Reminder(question.asker_id, question.permalink, answers)


def _routed_dm(session: Session, question: Question, route: QuestionRoute) -> RoutedDm:
    accepted = (
        questions_repo.get_answer(session, question.accepted_answer_id)
        if question.accepted_answer_id
        else None
    )
    return RoutedDm(
        question_id=question.id,
        user_id=route.user_id,
        asker_id=question.asker_id,
        text=question.text,
        slug=route.slug,
        question_link=question.permalink,
        answered=question.status == "resolved",
        answer_link=(accepted.permalink if accepted else None) or question.permalink,
        channel=route.dm_channel,
        ts=route.dm_ts,
    )


def _order(expert: Ranked) -> tuple[float, int, str]:
    """/expert's order: score, then pieces of evidence, then a stable tie-break."""
    return (expert.score, expert.pieces, expert.user_id)
