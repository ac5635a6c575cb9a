"""`/expert <topic>`: which skill the topic means, and who has the most evidence for it.

Scores are kept per person and skill as evidence changes (`bot/domain/standing.py`); ties go
to more pieces of evidence, then a stable order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import standing, text
from bot.domain.people import Profile
from bot.domain.skill_names import SkillNamesByTeam, fold
from bot.domain.skills import SkillCatalogue
from bot.xapi.statements import StatementBuilders, queued
from storage.database import Database
from storage.repositories import outbox as outbox_repo
from storage.repositories import skills as skills_repo
from storage.repositories import suggestions as suggestions_repo

TOP = 5
LEARNED_FROM = 3
CLOSE_ENOUGH = 0.8  # difflib ratio for "you probably meant"
SUGGESTION_CUTOFF = 0.55


@dataclass(frozen=True)
class Match:
    """How a topic matched a skill: "exact", "alias" or "close"; `slug` None when nothing did."""

    typed: str
    slug: str | None
    how: str | None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranked:
    """One person's place for a skill, with the evidence behind it."""

    user_id: str
    score: float
    level: str | None
    endorsements: int
    kudos: int
    answers: int = 0
    sessions: int = 0
    contributions: int = 0
    """Days of contributing to a community with the skill."""

    @property
    def pieces(self) -> int:
        evidence = self.endorsements + self.kudos + self.answers + self.sessions
        evidence += self.contributions
        return evidence + (self.level is not None)


@dataclass(frozen=True)
class ExpertSearch:
    match: Match
    experts: tuple[Ranked, ...]
    endorsed_by_searcher: frozenset[str]
    learned_from: tuple[tuple[str, int], ...] = ()
    """Whom people learning the skill learned it from, and how many of them (when any)."""


class ExpertFinder:
    def __init__(
        self,
        database: Database,
        statements: StatementBuilders,
        clock: Clock,
        names: SkillNamesByTeam,
        catalogue: SkillCatalogue,
    ) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock
        self._names = names
        self._catalogue = catalogue

    def match(self, team_id: str, topic: str) -> Match:
        """Exact name, then alias, then close spelling; otherwise the closest suggestions."""
        topic = text.as_typed(topic).strip()
        folded = fold(topic)
        known = self._catalogue.all(team_id)
        if folded in known:
            return Match(topic, folded, "exact")
        names = self._names.for_team(team_id)
        canonical = names.canonical(topic)
        if canonical in known or names.is_alias(topic):
            return Match(topic, canonical, "alias")
        close = difflib.get_close_matches(folded, known, n=1, cutoff=CLOSE_ENOUGH)
        if close:
            return Match(topic, close[0], "close")
        near = difflib.get_close_matches(folded, known, n=3, cutoff=SUGGESTION_CUTOFF)
        containing = sorted(slug for slug in known if folded and folded in slug)
        return Match(topic, None, None, tuple(dict.fromkeys([*near, *containing]))[:3])

    def search(self, team_id: str, searcher: Profile, topic: str, cause: str) -> ExpertSearch:
        """Matches and ranks; a matched search is recorded as an xAPI `search` of the skill."""
        found = self.match(team_id, topic)
        if found.slug is None:
            return ExpertSearch(found, (), frozenset())
        now = self._clock()
        experts = tuple(self.rank(team_id, found.slug))
        statements = self._statements.for_team(team_id)
        statement = statements.searched(searcher.learner, found.slug, topic, cause, now)
        with self._database.transaction() as session:
            outbox_repo.add(session, queued(team_id, [statement]), now)
            endorsed = skills_repo.endorsed_by(
                session, team_id, searcher.user_id, found.slug, [e.user_id for e in experts]
            )
            taught = suggestions_repo.learned_from(
                session, team_id, found.slug, searcher.user_id, LEARNED_FROM
            )
        return ExpertSearch(found, experts, frozenset(endorsed), tuple(taught))

    def rescore_due(self, limit: int = 500) -> int:
        """The tick's job: rescores standings whose evidence aged into a lower band, so
        searches rarely find any left to do."""
        now = self._clock()
        with self._database.reading() as session:
            due = skills_repo.due_standings(session, now, limit)
        teams: dict[str, list[tuple[str, str]]] = {}
        for team_id, slug, user_id in due:
            teams.setdefault(team_id, []).append((slug, user_id))
        for team_id, pairs in teams.items():
            with self._database.transaction() as session:
                standing.refresh(session, team_id, pairs, now)
        return len(due)

    def rank(self, team_id: str, slug: str, limit: int = TOP) -> list[Ranked]:
        """The people with the most evidence for a skill, best first."""
        now = self._clock()
        with self._database.reading() as session:
            due = skills_repo.due_for_rescore(session, team_id, slug, now)
        if due:
            # Some evidence aged into a lower band since it was last scored.
            with self._database.transaction() as session:
                standing.refresh(session, team_id, [(slug, user_id) for user_id in due], now)
        with self._database.reading() as session:
            rows = skills_repo.rank(session, team_id, slug, limit)
        return [
            Ranked(
                r.user_id,
                r.score,
                r.level,
                r.endorsements,
                r.kudos,
                r.answers,
                r.sessions,
                r.contributions,
            )
            for r in rows
        ]
