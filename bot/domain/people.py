"""What the bot knows about a person, and the cache that keeps Slack look-ups rare."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.clock import Clock
from bot.xapi.statements import Learner
from storage.database import Database
from storage.models import Person
from storage.repositories import people as people_repo

# Profiles change rarely; a day-old name in a statement is fine, a day-old deactivation is not
# worse than Slack's own caches.
PROFILE_MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str
    """The full name, as Slack shows it (`handlers.people.profile_from_slack`)."""
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False

    @property
    def learner(self) -> Learner:
        return Learner(self.user_id, self.name, self.email)


class PeopleDirectory:
    """Cached profiles, in memory and in the database (which survives restarts and is shared
    by replicas). The Slack side of a look-up lives in the handlers."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._memory: dict[tuple[str, str], tuple[Profile, datetime]] = {}

    def in_memory(self, team_id: str, user_ids: Iterable[str]) -> dict[str, Profile]:
        """Fresh profiles this process already holds; never blocks, so it may run on the loop."""
        cutoff = self._clock() - PROFILE_MAX_AGE
        found: dict[str, Profile] = {}
        for uid in user_ids:
            cached = self._memory.get((team_id, uid))
            if cached and cached[1] >= cutoff:
                found[uid] = cached[0]
        return found

    def fresh(self, team_id: str, user_ids: Iterable[str]) -> dict[str, Profile]:
        """Profiles cached recently enough to trust; missing ids need a Slack look-up."""
        cutoff = self._clock() - PROFILE_MAX_AGE
        user_ids = list(user_ids)
        found = self.in_memory(team_id, user_ids)
        unknown = [uid for uid in user_ids if uid not in found]
        if unknown:
            with self._database.reading() as session:
                rows = people_repo.get_many(session, team_id, unknown)
            for uid, row in rows.items():
                if row.refreshed_at >= cutoff:
                    found[uid] = self._keep(team_id, _profile(row), row.refreshed_at)
        return found

    def forget(self, team_id: str, user_id: str) -> None:
        self._memory.pop((team_id, user_id), None)

    def _keep(self, team_id: str, profile: Profile, refreshed_at: datetime) -> Profile:
        self._memory[(team_id, profile.user_id)] = (profile, refreshed_at)
        return profile

    def remember(self, team_id: str, profiles: Iterable[Profile]) -> None:
        now = self._clock()
        profiles = list(profiles)
        for p in profiles:
            self._keep(team_id, p, now)
        with self._database.transaction() as session:
            for p in profiles:
                people_repo.save(
                    session,
                    Person(
                        team_id=team_id,
                        user_id=p.user_id,
                        full_name=p.name,
                        email=p.email,
                        tz=p.tz,
                        is_bot=p.is_bot,
                        deleted=p.deleted,
                        refreshed_at=now,
                    ),
                )


def stored_learners(session: Session, team_id: str, user_ids: Iterable[str]) -> dict[str, Learner]:
    """Actors for people a statement names by id only (a presenter, an answer's author,
    someone promoted from the waitlist), from their stored profiles whatever their age: the
    actor of their own statements, so `XAPI_ACTOR=email` never splits a person in two."""
    wanted = list(user_ids)
    rows = people_repo.get_many(session, team_id, wanted)
    return {
        uid: Learner(uid, rows[uid].full_name, rows[uid].email) if uid in rows else Learner(uid)
        for uid in wanted
    }


def _profile(row: Person) -> Profile:
    return Profile(row.user_id, row.full_name, row.email, row.tz, row.is_bot, row.deleted)
