"""What the bot knows about a person, and the cache that keeps Slack look-ups rare."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

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
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False

    @property
    def learner(self) -> Learner:
        return Learner(self.user_id, self.name, self.email)


class PeopleDirectory:
    """Cached profiles; the Slack side of a look-up lives in the handlers."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def fresh(self, team_id: str, user_ids: Iterable[str]) -> dict[str, Profile]:
        """Profiles cached recently enough to trust; missing ids need a Slack look-up."""
        cutoff = self._clock() - PROFILE_MAX_AGE
        with self._database.reading() as session:
            rows = people_repo.get_many(session, team_id, user_ids)
        return {uid: _profile(row) for uid, row in rows.items() if row.refreshed_at >= cutoff}

    def remember(self, team_id: str, profiles: Iterable[Profile]) -> None:
        now = self._clock()
        with self._database.transaction() as session:
            for p in profiles:
                people_repo.save(
                    session,
                    Person(
                        team_id=team_id,
                        user_id=p.user_id,
                        display_name=p.name,
                        email=p.email,
                        tz=p.tz,
                        is_bot=p.is_bot,
                        deleted=p.deleted,
                        refreshed_at=now,
                    ),
                )


def _profile(row: Person) -> Profile:
    return Profile(row.user_id, row.display_name, row.email, row.tz, row.is_bot, row.deleted)
