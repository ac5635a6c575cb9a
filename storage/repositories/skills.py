"""Skills: the catalogue, declarations, endorsements, kudos that name a skill, and the
evidence query behind expert ranking."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, case, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from storage.models import (
    Answer,
    CommunitySkill,
    Contribution,
    Endorsement,
    Kudos,
    KudosSkill,
    LunchSession,
    Person,
    PersonSkill,
    Question,
    QuestionSkill,
    SessionSkill,
    Skill,
    SkillOptOut,
    SkillStanding,
    SkillStatement,
)
from storage.prepared import Prepared
from storage.repositories import communities as communities_repo
from storage.repositories._sql import UtcDate, advisory_locks, insert_ignoring_duplicates
from storage.types import aware_utc

# Catalogue --------------------------------------------------------------------------------------


def add_to_catalogue(session: Session, team_id: str, slugs: Iterable[str], now: datetime) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session, Skill, {"team_id": team_id, "slug": slug, "created_at": now}
        )


def catalogue(session: Session, team_id: str) -> list[str]:
    return list(session.exec(select(Skill.slug).where(Skill.team_id == team_id)))


# Run on the driver (storage/prepared.py): a kudos naming a value asks before the ack.
_KNOWN = Prepared(
    select(Skill.slug).where(
        Skill.team_id == bindparam("team_id"),
        col(Skill.slug).in_(bindparam("slugs", expanding=True)),
    )
)


def known(session: Session, team_id: str, slugs: Iterable[str]) -> set[str]:
    wanted = list(set(slugs))
    if not wanted:
        return set()
    return {slug for (slug,) in _KNOWN.rows(session, {"team_id": team_id, "slugs": wanted})}


# Declarations ---------------------------------------------------------------------------------


def declared(session: Session, team_id: str, user_id: str) -> list[PersonSkill]:
    query = (
        select(PersonSkill)
        .where(PersonSkill.team_id == team_id, PersonSkill.user_id == user_id)
        .order_by(PersonSkill.slug)
    )
    return list(session.exec(query))


def save_declaration(session: Session, declaration: PersonSkill) -> None:
    session.merge(declaration)


def remove_declarations(session: Session, team_id: str, user_id: str, slugs: Sequence[str]) -> None:
    session.exec(
        delete(PersonSkill).where(
            col(PersonSkill.team_id) == team_id,
            col(PersonSkill.user_id) == user_id,
            col(PersonSkill.slug).in_(list(slugs)),
        )
    )


# Endorsements ---------------------------------------------------------------------------------


def add_endorsement(session: Session, endorsement: Endorsement) -> bool:
    """True when new; an existing endorsement of the same skill stays as it was."""
    return insert_ignoring_duplicates(session, Endorsement, endorsement.model_dump())


def endorsement(
    session: Session, team_id: str, endorser_id: str, user_id: str, slug: str
) -> Endorsement | None:
    return session.get(Endorsement, (team_id, endorser_id, user_id, slug))


def delete_endorsement(session: Session, row: Endorsement) -> None:
    session.delete(row)


def endorsers(session: Session, team_id: str, user_id: str) -> dict[str, list[str]]:
    """Who endorsed the person, per skill."""
    query = select(Endorsement.slug, Endorsement.endorser_id).where(
        Endorsement.team_id == team_id, Endorsement.user_id == user_id
    )
    found: dict[str, list[str]] = {}
    for slug, endorser_id in session.exec(query):
        found.setdefault(slug, []).append(endorser_id)
    return found


def endorsed_by(
    session: Session, team_id: str, endorser_id: str, slug: str, user_ids: Sequence[str]
) -> set[str]:
    """Which of these people the endorser has endorsed for the skill."""
    if not user_ids:
        return set()
    query = select(Endorsement.user_id).where(
        Endorsement.team_id == team_id,
        Endorsement.endorser_id == endorser_id,
        Endorsement.slug == slug,
        col(Endorsement.user_id).in_(list(user_ids)),
    )
    return set(session.exec(query))


def endorsements_involving(session: Session, team_id: str, user_id: str) -> list[Endorsement]:
    return list(
        session.exec(
            select(Endorsement).where(
                Endorsement.team_id == team_id,
                or_(Endorsement.endorser_id == user_id, Endorsement.user_id == user_id),
            )
        )
    )


# Kudos that name a skill ----------------------------------------------------------------------


def add_kudos_skills(
    session: Session,
    team_id: str,
    kudos_id: str,
    receiver_id: str,
    slugs: Iterable[str],
    created_at: datetime,
) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session,
            KudosSkill,
            {
                "kudos_id": kudos_id,
                "slug": slug,
                "team_id": team_id,
                "receiver_id": receiver_id,
                "created_at": created_at,
            },
        )


def kudos_received_by_skill(session: Session, team_id: str, user_id: str) -> dict[str, int]:
    query = (
        select(KudosSkill.slug, func.count())
        .select_from(KudosSkill)
        .join(Kudos, col(Kudos.id) == col(KudosSkill.kudos_id))
        .where(
            KudosSkill.team_id == team_id,
            Kudos.receiver_id == user_id,
            col(Kudos.revoked_at).is_(None),
        )
        .group_by(KudosSkill.slug)
    )
    return {slug: count for slug, count in session.exec(query)}


def delete_kudos_skills(session: Session, kudos_ids: Sequence[str]) -> None:
    if kudos_ids:
        session.exec(delete(KudosSkill).where(col(KudosSkill.kudos_id).in_(list(kudos_ids))))


# Opting out -----------------------------------------------------------------------------------


def opt_out(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    insert_ignoring_duplicates(
        session, SkillOptOut, {"team_id": team_id, "user_id": user_id, "opted_out_at": now}
    )


def opt_in(session: Session, team_id: str, user_id: str) -> None:
    session.exec(
        delete(SkillOptOut).where(
            col(SkillOptOut.team_id) == team_id, col(SkillOptOut.user_id) == user_id
        )
    )


def opted_out(session: Session, team_id: str, user_id: str) -> bool:
    return session.get(SkillOptOut, (team_id, user_id)) is not None


_OPTED_OUT = Prepared(
    select(SkillOptOut.user_id).where(
        SkillOptOut.team_id == bindparam("team_id"),
        col(SkillOptOut.user_id).in_(bindparam("ids", expanding=True)),
    )
)


def opted_out_among(session: Session, team_id: str, user_ids: Sequence[str]) -> set[str]:
    if not user_ids:
        return set()
    parameters = {"team_id": team_id, "ids": list(set(user_ids))}
    return {user_id for (user_id,) in _OPTED_OUT.rows(session, parameters)}


def delete_person_skills(session: Session, team_id: str, user_id: str) -> None:
    """The person's declarations and every endorsement they gave or received."""
    session.exec(
        delete(PersonSkill).where(
            col(PersonSkill.team_id) == team_id, col(PersonSkill.user_id) == user_id
        )
    )
    session.exec(
        delete(Endorsement).where(
            col(Endorsement.team_id) == team_id,
            or_(col(Endorsement.endorser_id) == user_id, col(Endorsement.user_id) == user_id),
        )
    )


# Which statements concern whom ----------------------------------------------------------------


def link_statement(
    session: Session, team_id: str, statement_id: str, user_ids: Iterable[str]
) -> None:
    for user_id in set(user_ids):
        insert_ignoring_duplicates(
            session,
            SkillStatement,
            {"statement_id": statement_id, "user_id": user_id, "team_id": team_id},
        )


def statements_about(session: Session, team_id: str, user_id: str) -> list[str]:
    query = select(SkillStatement.statement_id).where(
        SkillStatement.team_id == team_id, SkillStatement.user_id == user_id
    )
    return list(session.exec(query))


def unlink_statements(session: Session, statement_ids: Sequence[str]) -> None:
    if statement_ids:
        session.exec(
            delete(SkillStatement).where(col(SkillStatement.statement_id).in_(list(statement_ids)))
        )


# Expert standing -------------------------------------------------------------------------------


class Bands(NamedTuple):
    """Two cut-offs that split dated evidence into three age bands (the newest first)."""

    recent_since: datetime
    year_since: datetime


@dataclass(frozen=True)
class Dated:
    """One kind of dated evidence for one person and skill, counted per age band: how many
    pieces at or after `recent_since`, how many before it but at or after `year_since`, how
    many older, and the earliest piece of each of the two newer bands (when it leaves it)."""

    recent: int = 0
    this_year: int = 0
    older: int = 0
    first_recent: datetime | None = None
    first_this_year: datetime | None = None

    @property
    def count(self) -> int:
        return self.recent + self.this_year + self.older

    @classmethod
    def of(cls, times: Sequence[datetime], bands: Bands) -> Dated:
        recent = [at for at in times if at >= bands.recent_since]
        this_year = [at for at in times if bands.year_since <= at < bands.recent_since]
        return cls(
            len(recent),
            len(this_year),
            sum(1 for at in times if at < bands.year_since),
            min(recent, default=None),
            min(this_year, default=None),
        )


@dataclass(frozen=True)
class Evidence:
    """What counts for one person and one skill: the declared level and dated evidence."""

    level: str | None
    endorsed: Dated = Dated()
    kudos: Dated = Dated()
    answers: Dated = Dated()
    """The person's answers to questions tagged with the skill, when each was accepted."""
    sessions: Dated = Dated()
    """The lunch-and-learns the person presented on the skill."""
    contributed: Dated = Dated()
    """The days the person contributed to a community with the skill (the first time each)."""


# Evidence queries take `team_id`, `slug`, the people (`ids`) and the bands' cut-offs; they run on
# the driver (storage/prepared.py): a kudos naming a skill may rescore its receiver before the ack.
_TEAM = bindparam("team_id")
_SLUG = bindparam("slug")
_PEOPLE = bindparam("ids", expanding=True)


def _banded(pieces: Select) -> Prepared:
    """`pieces` selects (person, when) rows: a statement that sums them per person and band."""
    rows = pieces.subquery()
    who, at = rows.c
    recent_since = bindparam("recent_since", type_=at.type)
    year_since = bindparam("year_since", type_=at.type)
    recent = at >= recent_since
    this_year = and_(at >= year_since, at < recent_since)
    return Prepared(
        select(
            who,
            func.count(),
            func.sum(case((recent, 1), else_=0)),
            func.sum(case((this_year, 1), else_=0)),
            func.min(case((recent, at))),
            func.min(case((this_year, at))),
        ).group_by(who)
    )


_LEVELS = Prepared(
    select(PersonSkill.user_id, PersonSkill.level).where(
        PersonSkill.team_id == _TEAM,
        PersonSkill.slug == _SLUG,
        col(PersonSkill.user_id).in_(_PEOPLE),
    )
)
_ENDORSED = _banded(
    select(Endorsement.user_id, Endorsement.created_at).where(
        Endorsement.team_id == _TEAM,
        Endorsement.slug == _SLUG,
        col(Endorsement.user_id).in_(_PEOPLE),
    )
)
_KUDOS = _banded(
    select(KudosSkill.receiver_id, KudosSkill.created_at)
    .join(Kudos, col(Kudos.id) == col(KudosSkill.kudos_id))
    .where(
        KudosSkill.team_id == _TEAM,
        KudosSkill.slug == _SLUG,
        col(KudosSkill.receiver_id).in_(_PEOPLE),
        col(Kudos.revoked_at).is_(None),
    )
)
_ANSWERS = _banded(
    select(Answer.author_id, Answer.accepted_at)
    .select_from(QuestionSkill)
    .join(Question, col(Question.id) == col(QuestionSkill.question_id))
    .join(Answer, col(Answer.id) == col(Question.accepted_answer_id))
    .where(
        QuestionSkill.team_id == _TEAM,
        QuestionSkill.slug == _SLUG,
        col(Answer.author_id).in_(_PEOPLE),
        col(Answer.accepted_at).is_not(None),
    )
)
_SESSIONS = _banded(
    select(LunchSession.presenter_id, LunchSession.presented_at)
    .select_from(SessionSkill)
    .join(LunchSession, col(LunchSession.id) == col(SessionSkill.session_id))
    .where(
        SessionSkill.team_id == _TEAM,
        SessionSkill.slug == _SLUG,
        col(LunchSession.presenter_id).in_(_PEOPLE),
        col(LunchSession.presented_at).is_not(None),
        LunchSession.status != "cancelled",
    )
)
# A day of contributing counts once: each person's first contribution of each (UTC) day.
_CONTRIBUTED = _banded(
    select(Contribution.user_id, func.min(Contribution.at))
    .join(CommunitySkill, col(CommunitySkill.community_id) == col(Contribution.community_id))
    .where(
        CommunitySkill.team_id == _TEAM,
        CommunitySkill.slug == _SLUG,
        col(Contribution.user_id).in_(_PEOPLE),
    )
    .group_by(Contribution.user_id, UtcDate(Contribution.at))
)


def evidence(
    session: Session, team_id: str, slug: str, user_ids: Sequence[str], bands: Bands
) -> dict[str, Evidence]:
    """Each person's evidence for one skill, counted in `bands`: six queries however many
    people or pieces, each summed by the database."""
    wanted = list(set(user_ids))
    parameters = {
        "team_id": team_id,
        "slug": slug,
        "ids": wanted,
        "recent_since": bands.recent_since,
        "year_since": bands.year_since,
    }
    levels = dict(_LEVELS.rows(session, parameters))
    endorsed, kudos, answers, sessions, contributed = (
        {who: _dated(*sums) for who, *sums in query.rows(session, parameters)}
        for query in (_ENDORSED, _KUDOS, _ANSWERS, _SESSIONS, _CONTRIBUTED)
    )
    return {
        uid: Evidence(
            levels.get(uid),
            endorsed.get(uid, Dated()),
            kudos.get(uid, Dated()),
            answers.get(uid, Dated()),
            sessions.get(uid, Dated()),
            contributed.get(uid, Dated()),
        )
        for uid in wanted
    }


def _dated(total: int, recent: int, this_year: int, first: Any, then: Any) -> Dated:
    return Dated(
        int(recent), int(this_year), total - recent - this_year, aware_utc(first), aware_utc(then)
    )


def lock_standings(session: Session, team_id: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Serialises rescoring of the same (skill, person), so two transactions adding evidence at
    once can't overwrite each other's score."""
    advisory_locks(session, [f"skill-standing:{team_id}:{s}:{u}" for s, u in pairs])


def skills_with_evidence(session: Session, team_id: str, user_id: str) -> set[str]:
    """Every skill the person declared, was endorsed for, or received kudos naming."""
    declared = select(PersonSkill.slug).where(
        PersonSkill.team_id == team_id, PersonSkill.user_id == user_id
    )
    endorsed = select(Endorsement.slug).where(
        Endorsement.team_id == team_id, Endorsement.user_id == user_id
    )
    kudos = select(KudosSkill.slug).where(
        KudosSkill.team_id == team_id, KudosSkill.receiver_id == user_id
    )
    answered = (
        select(QuestionSkill.slug)
        .join(Question, col(Question.id) == col(QuestionSkill.question_id))
        .join(Answer, col(Answer.id) == col(Question.accepted_answer_id))
        .where(QuestionSkill.team_id == team_id, Answer.author_id == user_id)
    )
    presented = (
        select(SessionSkill.slug)
        .join(LunchSession, col(LunchSession.id) == col(SessionSkill.session_id))
        .where(SessionSkill.team_id == team_id, LunchSession.presenter_id == user_id)
    )
    return {
        slug
        for query in (declared, endorsed, kudos, answered, presented)
        for slug in session.exec(query)
    } | communities_repo.contributed_skills(session, team_id, user_id)


def endorsements_given(session: Session, team_id: str, endorser_id: str) -> list[tuple[str, str]]:
    """(skill, person) of every endorsement the endorser gave."""
    query = select(Endorsement.slug, Endorsement.user_id).where(
        Endorsement.team_id == team_id, Endorsement.endorser_id == endorser_id
    )
    return [(slug, user_id) for slug, user_id in session.exec(query)]


_STANDING = SkillStanding.__table__  # type: ignore[attr-defined]
_STANDING_OF = Prepared(
    select(_STANDING).where(
        _STANDING.c.team_id == bindparam("team_id"),
        _STANDING.c.slug == bindparam("slug"),
        _STANDING.c.user_id == bindparam("user_id"),
    )
)


def standing(session: Session, team_id: str, slug: str, user_id: str) -> SkillStanding | None:
    """The stored standing, detached: changing it changes nothing until it is saved."""
    parameters = {"team_id": team_id, "slug": slug, "user_id": user_id}
    rows = _STANDING_OF.rows(session, parameters)
    if not rows:
        return None
    return SkillStanding(**dict(zip(_STANDING.c.keys(), rows[0], strict=True)))


def save_standing(session: Session, standing: SkillStanding) -> None:
    """Inserts or replaces the row in one statement (no read-then-write race)."""
    _upsert_standing(session.get_bind().dialect.name).run(session, standing.model_dump())


@functools.cache
def _upsert_standing(dialect: str) -> Prepared:
    """INSERT … ON CONFLICT DO UPDATE of a standing, built once per dialect, run on the driver
    (a kudos naming a skill saves one before the ack)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SkillStanding.__table__)  # type: ignore[attr-defined]
    keys = ("team_id", "slug", "user_id")
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={
                c.name: statement.excluded[c.name] for c in statement.table.c if c.name not in keys
            },
        )
    )


def delete_standing(session: Session, team_id: str, slug: str, user_id: str) -> None:
    session.exec(
        delete(SkillStanding).where(
            col(SkillStanding.team_id) == team_id,
            col(SkillStanding.slug) == slug,
            col(SkillStanding.user_id) == user_id,
        )
    )


def delete_standings_of(session: Session, team_id: str, user_id: str) -> None:
    session.exec(
        delete(SkillStanding).where(
            col(SkillStanding.team_id) == team_id, col(SkillStanding.user_id) == user_id
        )
    )


def kudos_skill_pairs(session: Session, kudos_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(skill, receiver) of these kudos: whose standing a revocation changes."""
    if not kudos_ids:
        return []
    query = select(KudosSkill.slug, KudosSkill.receiver_id).where(
        col(KudosSkill.kudos_id).in_(list(kudos_ids))
    )
    return [(slug, receiver) for slug, receiver in session.exec(query)]


def due_for_rescore(session: Session, team_id: str, slug: str, now: datetime) -> list[str]:
    query = select(SkillStanding.user_id).where(
        SkillStanding.team_id == team_id,
        SkillStanding.slug == slug,
        col(SkillStanding.rescore_at) <= now,
    )
    return list(session.exec(query))


def due_standings(session: Session, now: datetime, limit: int) -> list[tuple[str, str, str]]:
    """(team, skill, person) of standings whose evidence aged into a lower band, oldest first."""
    query = (
        select(SkillStanding.team_id, SkillStanding.slug, SkillStanding.user_id)
        .where(col(SkillStanding.rescore_at) <= now)
        .order_by(SkillStanding.rescore_at)
        .limit(limit)
    )
    return [(team, slug, user) for team, slug, user in session.exec(query)]


def _ranking_query() -> Select:
    team = bindparam("team_id")
    gone = select(Person.user_id).where(
        Person.team_id == team,
        Person.user_id == SkillStanding.user_id,
        or_(col(Person.deleted), col(Person.is_bot)),
    )
    # Every ORDER BY column descending, so the rank index is read backwards, top rows first.
    return (
        select(SkillStanding)
        .where(
            SkillStanding.team_id == team,
            SkillStanding.slug == bindparam("slug"),
            ~gone.exists(),
        )
        .order_by(
            col(SkillStanding.score).desc(),
            col(SkillStanding.pieces).desc(),
            col(SkillStanding.user_id).desc(),
        )
        .limit(bindparam("limit"))
    )


_RANKING = _ranking_query()


def rank(session: Session, team_id: str, slug: str, limit: int) -> list[SkillStanding]:
    """The best standings for one skill, leaving out deactivated accounts and apps."""
    parameters = {"team_id": team_id, "slug": slug, "limit": limit}
    return list(session.exec(_RANKING, params=parameters))  # type: ignore[call-overload]
