"""`/expert <topic>`: which skill the topic means, and who has the most evidence for it.

The score (README, "How /expert ranks") adds points per piece of evidence: the declared level
(learning 1, practitioner 2, expert 3), each endorsement 1, each kudos naming the skill 1; every
piece but the declaration is weighted by age (last 90 days × 1, last year × 0.5, older × 0.25).
Ties go to more pieces of evidence, then a stable order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain import text
from bot.domain.people import Profile
from bot.domain.skill_names import SkillNames, fold
from bot.xapi.statements import StatementBuilder, queued
from storage.database import Database
from storage.repositories import outbox as outbox_repo
from storage.repositories import skills as skills_repo
from storage.repositories.skills import Ranked

TOP = 5
RECENT = timedelta(days=90)
YEAR = timedelta(days=365)
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
class ExpertSearch:
    match: Match
    experts: tuple[Ranked, ...]
    endorsed_by_searcher: frozenset[str]


class ExpertFinder:
    def __init__(
        self, database: Database, statements: StatementBuilder, clock: Clock, names: SkillNames
    ) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock
        self._names = names

    def match(self, team_id: str, topic: str) -> Match:
        """Exact name, then alias, then close spelling; otherwise the closest suggestions."""
        topic = text.as_typed(topic).strip()
        folded = fold(topic)
        with self._database.reading() as session:
            known = set(skills_repo.catalogue(session, team_id)) | self._names.well_known
        if folded in known:
            return Match(topic, folded, "exact")
        canonical = self._names.canonical(topic)
        if canonical in known or self._names.is_alias(topic):
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
        statement = self._statements.searched(searcher.learner, found.slug, topic, cause, now)
        with self._database.transaction() as session:
            outbox_repo.add(session, queued(team_id, [statement]), now)
            endorsed = skills_repo.endorsed_by(
                session, team_id, searcher.user_id, found.slug, [e.user_id for e in experts]
            )
        return ExpertSearch(found, experts, frozenset(endorsed))

    def rank(self, team_id: str, slug: str, limit: int = TOP) -> list[Ranked]:
        """The people with the most evidence for a skill, best first."""
        now = self._clock()
        with self._database.reading() as session:
            return skills_repo.rank(session, team_id, slug, now - RECENT, now - YEAR, limit)
