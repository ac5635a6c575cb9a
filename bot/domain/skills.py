"""Skills people declare, endorsements, and leaving it all (`/skills forget me`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.clock import Clock, occurred
from bot.domain import standing, text
from bot.domain.erasure import SkillsErased, forget_skills
from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.domain.skill_names import SkillNames, SkillNamesByTeam, fold
from bot.views import mrkdwn
from bot.xapi.statements import BuiltStatement, StatementBuilders, queued
from storage.database import Database
from storage.models import Endorsement, PersonSkill
from storage.repositories import outbox as outbox_repo
from storage.repositories import skills as skills_repo

LEVELS = ("learning", "practitioner", "expert")
DEFAULT_LEVEL = "practitioner"
# Words people use for the three levels.
_LEVEL_WORDS = {
    "learning": "learning",
    "learner": "learning",
    "beginner": "learning",
    "novice": "learning",
    "practitioner": "practitioner",
    "intermediate": "practitioner",
    "proficient": "practitioner",
    "expert": "expert",
    "advanced": "expert",
}
MAX_SKILLS_PER_PERSON = 50
ADD_EXAMPLE = "/skills add python:expert, react, public speaking:learning"


class SkillsRefused(Refused):
    """The request cannot be done; the message says how to do it right."""


def read_level(word: str) -> str:
    level = _LEVEL_WORDS.get(word.strip().lower())
    if level is None:
        raise SkillsRefused(
            f"“{mrkdwn.escape(word.strip())}” isn't a level I know. Levels are `learning`, "
            f"`practitioner` (the default) and `expert`. For example: `{ADD_EXAMPLE}`"
        )
    return level


def read_skill_list(typed: str, names: SkillNames) -> list[tuple[str, str]]:
    """`python:expert, react` → [("python", "expert"), ("react", "practitioner")]."""
    cleaned = text.as_typed(typed)
    wanted: dict[str, str] = {}
    for item in cleaned.split(","):
        if not item.strip():
            continue
        name, _, level_word = item.partition(":")
        slug = names.canonical(name)
        if not slug:
            raise SkillsRefused(
                f"I couldn't read a skill in “{mrkdwn.escape(item.strip())}”. "
                f"For example: `{ADD_EXAMPLE}`"
            )
        wanted[slug] = read_level(level_word) if level_word.strip() else DEFAULT_LEVEL
    if not wanted:
        raise SkillsRefused(f"Name at least one skill. For example: `{ADD_EXAMPLE}`")
    return list(wanted.items())


def read_skill_names(typed: str, names: SkillNames) -> list[str]:
    """`react, k8s` → ["react", "kubernetes"] (levels, if typed, are ignored)."""
    cleaned = text.as_typed(typed)
    slugs = [names.canonical(item.partition(":")[0]) for item in cleaned.split(",")]
    found = list(dict.fromkeys(s for s in slugs if s))
    if not found:
        raise SkillsRefused("Name the skill to remove. For example: `/skills remove react`")
    return found


def read_picked(picked: Sequence[tuple[str, str]], names: SkillNames) -> list[tuple[str, str]]:
    """The Edit form's picks with their levels. An option value comes back from the client, so
    it is folded like a typed name, and a level must be one the form offers."""
    wanted: dict[str, str] = {}
    for value, level in picked:
        slug = names.canonical(value)
        if not slug:
            raise SkillsRefused(
                f"“{value.strip()[:40]}” isn't a skill name. Pick one from the list."
            )
        if level not in LEVELS:
            raise SkillsRefused(
                f"“{level.strip()[:40]}” isn't a level I know: pick learning, practitioner or expert."
            )
        wanted[slug] = level
    return list(wanted.items())


@dataclass(frozen=True)
class Change:
    slug: str
    outcome: str
    """"added", "level" (a new level), "unchanged", "removed" or "not declared"."""
    level: str | None = None


@dataclass(frozen=True)
class SkillEntry:
    slug: str
    level: str | None
    """None for a skill the person was recognised for but did not declare."""
    endorsers: tuple[str, ...] = ()
    kudos: int = 0


@dataclass(frozen=True)
class SkillProfile:
    user_id: str
    skills: tuple[SkillEntry, ...] = field(default_factory=tuple)

    @property
    def declared(self) -> tuple[SkillEntry, ...]:
        return tuple(s for s in self.skills if s.level is not None)

    @property
    def recognised(self) -> tuple[SkillEntry, ...]:
        return tuple(s for s in self.skills if s.level is None)


class SkillCatalogue:
    """Every skill name in use: declared ones plus those the alias table knows.

    Read on every keystroke in the Edit form and every `/expert` that is not an exact hit,
    so it is kept in memory for a short while. Another replica's new skill shows up here
    within `MAX_AGE`; this process's own additions show at once.
    """

    MAX_AGE = timedelta(seconds=60)

    def __init__(self, database: Database, names: SkillNamesByTeam, clock: Clock) -> None:
        self._database = database
        self._names = names
        self._clock = clock
        self._cached: dict[str, tuple[datetime, frozenset[str], frozenset[str]]] = {}

    def all(self, team_id: str) -> frozenset[str]:
        now = self._clock()
        # The workspace's aliases in force now: an admin's change shows at once.
        well_known = self._names.for_team(team_id).well_known
        cached = self._cached.get(team_id)
        if cached is None or now - cached[0] > self.MAX_AGE or cached[1] is not well_known:
            with self._database.reading() as session:
                declared = skills_repo.catalogue(session, team_id)
            cached = (now, well_known, frozenset(declared) | well_known)
            self._cached[team_id] = cached
        return cached[2]

    def forget_cached(self, team_id: str) -> None:
        self._cached.pop(team_id, None)


class SkillsService:
    def __init__(
        self,
        database: Database,
        statements: StatementBuilders,
        clock: Clock,
        names: SkillNamesByTeam,
    ) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock
        self.names = names
        self.catalogue = SkillCatalogue(database, names, clock)

    # Declaring ----------------------------------------------------------------------------------

    def declare(
        self, team_id: str, person: Profile, wanted: Sequence[tuple[str, str]], cause: str
    ) -> list[Change]:
        """Adds skills or changes their level; a skill already at that level is unchanged."""
        now = self._clock()
        with self._database.transaction() as session:
            current = {d.slug: d for d in skills_repo.declared(session, team_id, person.user_id)}
            new = [slug for slug, _ in wanted if slug not in current]
            if len(current) + len(new) > MAX_SKILLS_PER_PERSON:
                raise SkillsRefused(
                    f"A profile holds up to {MAX_SKILLS_PER_PERSON} skills. "
                    "Remove some with `/skills remove <skill>` first."
                )
            returning = skills_repo.opted_out(session, team_id, person.user_id)
            skills_repo.opt_in(session, team_id, person.user_id)
            changes = [
                self._declare_one(session, team_id, person, slug, level, current, cause, now)
                for slug, level in wanted
            ]
            skills_repo.add_to_catalogue(session, team_id, new, now)
            self.catalogue.forget_cached(team_id)
            if returning:
                # Back after `/skills forget me`: what kudos said about them counts again.
                standing.refresh_person(session, team_id, person.user_id, now)
            else:
                changed = [(c.slug, person.user_id) for c in changes if c.outcome != "unchanged"]
                standing.refresh(session, team_id, changed, now)
        return changes

    def _declare_one(
        self,
        session: Session,
        team_id: str,
        person: Profile,
        slug: str,
        level: str,
        current: Mapping[str, PersonSkill],
        cause: str,
        now: datetime,
    ) -> Change:
        existing = current.get(slug)
        if existing is not None and existing.level == level:
            return Change(slug, "unchanged", level)
        skills_repo.save_declaration(
            session,
            PersonSkill(
                team_id=team_id,
                user_id=person.user_id,
                slug=slug,
                level=level,
                declared_at=existing.declared_at if existing else now,
                updated_at=now,
            ),
        )
        statements = self._statements.for_team(team_id)
        statement = statements.skill_changed(person.learner, slug, level, cause, now)
        self._queue(session, team_id, statement, [person.user_id], now)
        return Change(slug, "level" if existing else "added", level)

    def remove(
        self, team_id: str, person: Profile, slugs: Sequence[str], cause: str
    ) -> list[Change]:
        now = self._clock()
        with self._database.transaction() as session:
            current = {d.slug for d in skills_repo.declared(session, team_id, person.user_id)}
            gone = [slug for slug in slugs if slug in current]
            skills_repo.remove_declarations(session, team_id, person.user_id, gone)
            standing.refresh(session, team_id, [(slug, person.user_id) for slug in gone], now)
            for slug in gone:
                statements = self._statements.for_team(team_id)
                statement = statements.skill_changed(person.learner, slug, None, cause, now)
                self._queue(session, team_id, statement, [person.user_id], now)
        return [Change(slug, "removed" if slug in gone else "not declared") for slug in slugs]

    def replace(
        self, team_id: str, person: Profile, wanted: Sequence[tuple[str, str]], cause: str
    ) -> list[Change]:
        """The profile becomes exactly `wanted` (the Edit form): adds, level changes, removals."""
        with self._database.reading() as session:
            current = {d.slug for d in skills_repo.declared(session, team_id, person.user_id)}
        keep = {slug for slug, _ in wanted}
        removed = (
            self.remove(team_id, person, sorted(current - keep), cause) if current - keep else []
        )
        return [*self.declare(team_id, person, wanted, cause), *removed] if wanted else removed

    # Reading ------------------------------------------------------------------------------------

    def profile(self, team_id: str, user_id: str) -> SkillProfile:
        """Declared skills with their evidence, then skills only kudos named; empty for someone
        who chose `/skills forget me` (and has not declared a skill since)."""
        with self._database.reading() as session:
            if skills_repo.opted_out(session, team_id, user_id):
                return SkillProfile(user_id)
            declared = skills_repo.declared(session, team_id, user_id)
            endorsers = skills_repo.endorsers(session, team_id, user_id)
            kudos = skills_repo.kudos_received_by_skill(session, team_id, user_id)
        entries = [
            SkillEntry(d.slug, d.level, tuple(endorsers.get(d.slug, ())), kudos.get(d.slug, 0))
            for d in declared
        ]
        declared_slugs = {d.slug for d in declared}
        entries += [
            SkillEntry(slug, None, tuple(endorsers.get(slug, ())), count)
            for slug, count in sorted(kudos.items())
            if slug not in declared_slugs
        ]
        return SkillProfile(user_id, tuple(entries))

    def suggest(self, team_id: str, typed: str, limit: int = 20) -> list[str]:
        """Skills whose name contains what was typed, those starting with it first."""
        wanted = self.names.for_team(team_id).canonical(typed)
        folded = fold(typed)
        known = self.catalogue.all(team_id)
        hits = [slug for slug in known if folded and folded in slug]
        if wanted in known and wanted not in hits:
            hits.append(wanted)
        hits.sort(key=lambda slug: (slug != wanted, not slug.startswith(folded), slug))
        return hits[:limit]

    # Endorsing ----------------------------------------------------------------------------------

    def endorsed_by(
        self, team_id: str, endorser_id: str, slug: str, user_ids: Sequence[str]
    ) -> set[str]:
        """Which of these people the endorser has endorsed for the skill."""
        with self._database.reading() as session:
            return skills_repo.endorsed_by(session, team_id, endorser_id, slug, user_ids)

    def endorse(
        self,
        team_id: str,
        endorser: Profile,
        person: Profile,
        slug: str,
        cause: str,
        at: datetime | None = None,
    ) -> bool:
        """True when new; False when the endorser had already endorsed that skill. `at`: when
        Slack says the button was pressed."""
        if endorser.user_id == person.user_id:
            raise SkillsRefused(
                "You can't endorse yourself; ask a colleague who has seen your work."
            )
        if person.is_bot or person.deleted:
            raise SkillsRefused(f"<@{person.user_id}> can't be endorsed.")
        now = self._clock()
        statement = self._statements.for_team(team_id).endorsed(
            endorser.learner, person.learner, slug, cause, occurred(now, at)
        )
        with self._database.transaction() as session:
            self._check_endorsable(session, team_id, person.user_id, slug)
            added = skills_repo.add_endorsement(
                session,
                Endorsement(
                    team_id=team_id,
                    endorser_id=endorser.user_id,
                    user_id=person.user_id,
                    slug=slug,
                    statement_id=statement.id,
                    created_at=now,
                ),
            )
            if added:
                self._queue(session, team_id, statement, [endorser.user_id, person.user_id], now)
                standing.refresh(session, team_id, [(slug, person.user_id)], now)
        return added

    @staticmethod
    def _check_endorsable(session: Session, team_id: str, user_id: str, slug: str) -> None:
        """Only a skill on someone's profile (declared, or named by kudos) can be endorsed."""
        if skills_repo.opted_out(session, team_id, user_id):
            raise SkillsRefused(f"<@{user_id}> has chosen not to be listed for skills.")
        declared = {d.slug for d in skills_repo.declared(session, team_id, user_id)}
        if slug not in declared and slug not in skills_repo.kudos_received_by_skill(
            session, team_id, user_id
        ):
            raise SkillsRefused(f"<@{user_id}> doesn't list #{slug} any more.")

    def withdraw(
        self,
        team_id: str,
        endorser: Profile,
        person_id: str,
        slug: str,
        cause: str,
        at: datetime | None = None,
    ) -> bool:
        """Takes an endorsement back (its statement voided); False when there was none."""
        now = self._clock()
        with self._database.transaction() as session:
            row = skills_repo.endorsement(session, team_id, endorser.user_id, person_id, slug)
            if row is None:
                return False
            skills_repo.delete_endorsement(session, row)
            standing.refresh(session, team_id, [(slug, person_id)], now)
            skills_repo.unlink_statements(session, [row.statement_id])
            statements = self._statements.for_team(team_id)
            void = statements.voiding(row.statement_id, occurred(now, at), cause)
            outbox_repo.add(session, queued(team_id, [void]), now)
        return True

    # Leaving ------------------------------------------------------------------------------------

    def forget(self, team_id: str, person: Profile) -> SkillsErased:
        """Erases the person's skills and the endorsements they gave and received, with the
        skill statements about them (`erasure.forget_skills`), and keeps them out of rankings
        until they declare again."""
        now = self._clock()
        with self._database.transaction() as session:
            erased = forget_skills(session, self._statements, team_id, person.user_id, now)
            skills_repo.opt_out(session, team_id, person.user_id, now)
        return erased

    # Helpers ------------------------------------------------------------------------------------

    def skills_named(self, session: Session, team_id: str, values: Sequence[str]) -> list[str]:
        """Which typed values (e.g. kudos values) name a skill, as canonical names."""
        names = self.names.for_team(team_id)
        canonical = list(dict.fromkeys(c for c in (names.canonical(v) for v in values) if c))
        known = skills_repo.known(session, team_id, canonical) | names.well_known
        return [slug for slug in canonical if slug in known]

    def _queue(
        self,
        session: Session,
        team_id: str,
        statement: BuiltStatement,
        about: Sequence[str],
        now: datetime,
    ) -> None:
        outbox_repo.add(session, queued(team_id, [statement]), now)
        skills_repo.link_statement(session, team_id, statement.id, about)
