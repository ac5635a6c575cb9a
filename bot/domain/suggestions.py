"""People to learn from, and communities to join, for App Home's "Learn from".

A learner's topics are the skills they declared at level `learning` and the skills of the
questions they asked. For each, the people with strong evidence in it (an expert standing of
at least `STRONG` points, the same evidence `/expert` ranks by) are candidates, except the
learner, people who opted out of suggestions, people who paused routed questions, and those
`/expert` leaves out (deactivated, apps, `/skills forget me`). Each suggestion says why, in
words made from that evidence. Communities on those skills the learner is not in are
suggested too, the busiest first. Suggestions are worked out when App Home first needs them
and then daily, on the database tick; opting out deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.domain.communities import month_start
from storage.database import Database
from storage.models import SkillStanding, Suggestion
from storage.repositories import communities as communities_repo
from storage.repositories import skills as skills_repo
from storage.repositories import suggestions as repo

STRONG = 3.0
"""Points of evidence (`bot.domain.standing`) that make someone worth learning from: an
expert's declaration, or a practitioner with an endorsement or an accepted answer."""
PEOPLE = 3
COMMUNITIES = 2
TOPICS = 5
CANDIDATES = 10
REFRESH_EVERY = timedelta(days=1)
PER_TICK = 50


@dataclass(frozen=True)
class Suggested:
    kind: str
    """`person` or `community`."""
    target_id: str
    slug: str
    reason: str
    name: str = ""
    """A community's name (people are shown as mentions)."""
    channel_id: str = ""


@dataclass(frozen=True)
class LearnFrom:
    suggestions: tuple[Suggested, ...]
    opted_out: bool


def evidence_words(standing: SkillStanding) -> str:
    """ "expert (declared), 2 accepted answers, endorsed by 3 on #python": why, in words."""
    parts = [f"{standing.level} (declared)"] if standing.level else []
    counted = (
        (standing.sessions, "session presented", "sessions presented"),
        (standing.answers, "accepted answer", "accepted answers"),
        (standing.endorsements, "endorsement", "endorsements"),
        (standing.kudos, "kudos", "kudos"),
        (standing.contributions, "day contributing", "days contributing"),
    )
    parts += [f"{n} {one if n == 1 else many}" for n, one, many in counted if n]
    return ", ".join(parts) + f" on #{standing.slug}"


class SuggestionService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def for_home(self, team_id: str, user_id: str) -> LearnFrom:
        """The learner's suggestions, worked out now if they never were."""
        with self._database.reading() as session:
            if repo.opted_out(session, team_id, [user_id]):
                return LearnFrom((), True)
            never = repo.last_run(session, team_id, user_id) is None
        if never:
            self.refresh(team_id, user_id)
        with self._database.reading() as session:
            rows = repo.of(session, team_id, user_id)
            # Joined since they were worked out: no longer worth suggesting.
            joined = communities_repo.memberships(session, team_id, user_id)
            shown = [self._shown(session, row) for row in rows if row.target_id not in joined]
        return LearnFrom(tuple(s for s in shown if s is not None), False)

    def refresh(self, team_id: str, learner_id: str) -> None:
        now = self._clock()
        with self._database.transaction() as session:
            if repo.opted_out(session, team_id, [learner_id]):
                return
            topics = repo.learning_skills(session, team_id, learner_id)[:TOPICS]
            rows = [
                *self._people(session, team_id, learner_id, topics, now),
                *self._communities(session, team_id, learner_id, topics, now),
            ]
            repo.replace(session, team_id, learner_id, rows, now)

    def refresh_due(self) -> int:
        """The tick's job: learners whose suggestions are a day old (or missing)."""
        with self._database.reading() as session:
            due = repo.learners_due(session, self._clock() - REFRESH_EVERY, PER_TICK)
        for team_id, user_id in due:
            self.refresh(team_id, user_id)
        return len(due)

    def opt_out(self, team_id: str, user_id: str) -> None:
        with self._database.transaction() as session:
            repo.opt_out(session, team_id, user_id, self._clock())

    def opt_in(self, team_id: str, user_id: str) -> None:
        with self._database.transaction() as session:
            repo.opt_in(session, team_id, user_id)

    # Working them out -----------------------------------------------------------------------

    def _people(
        self, session: Session, team_id: str, learner_id: str, topics: Sequence[str], now: datetime
    ) -> list[Suggestion]:
        best: dict[str, SkillStanding] = {}
        for slug in topics:
            for standing in skills_repo.rank(session, team_id, slug, CANDIDATES):
                if standing.score < STRONG or standing.user_id == learner_id:
                    continue
                known = best.get(standing.user_id)
                if known is None or standing.score > known.score:
                    best[standing.user_id] = standing
        left_out = repo.opted_out(session, team_id, list(best)) | repo.paused(
            session, team_id, list(best), now
        )
        chosen = sorted(
            (s for uid, s in best.items() if uid not in left_out),
            key=lambda s: (-s.score, s.user_id),
        )[:PEOPLE]
        return [
            Suggestion(
                team_id=team_id,
                learner_id=learner_id,
                kind="person",
                target_id=s.user_id,
                slug=s.slug,
                reason=evidence_words(s),
                score=s.score,
                refreshed_at=now,
            )
            for s in chosen
        ]

    def _communities(
        self, session: Session, team_id: str, learner_id: str, topics: Sequence[str], now: datetime
    ) -> list[Suggestion]:
        if not topics:
            return []
        mine = communities_repo.memberships(session, team_id, learner_id)
        ids = [c for c in communities_repo.with_skills(session, team_id, topics) if c not in mine]
        active = communities_repo.activity_since(session, ids, month_start(now))
        members = communities_repo.member_counts(session, ids)
        skills = communities_repo.skills_of(session, ids)
        chosen = sorted(ids, key=lambda c: (-active.get(c, 0), -members.get(c, 0), c))
        rows = []
        for community_id in chosen[:COMMUNITIES]:
            slug = next(s for s in topics if s in skills[community_id])
            count = members.get(community_id, 0)
            reason = (
                f"a community on #{slug}: {count} member{'' if count == 1 else 's'}, "
                f"{active.get(community_id, 0)} messages this month"
            )
            rows.append(
                Suggestion(
                    team_id=team_id,
                    learner_id=learner_id,
                    kind="community",
                    target_id=community_id,
                    slug=slug,
                    reason=reason,
                    score=float(active.get(community_id, 0)),
                    refreshed_at=now,
                )
            )
        return rows

    @staticmethod
    def _shown(session: Session, row: Suggestion) -> Suggested | None:
        if row.kind != "community":
            return Suggested(row.kind, row.target_id, row.slug, row.reason)
        described = communities_repo.described(session, row.target_id)
        if described is None:
            return None  # gone since
        return Suggested(row.kind, row.target_id, row.slug, row.reason, described[1], described[3])
