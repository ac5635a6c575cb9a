"""Skills: the catalogue, declarations, endorsements, kudos that name a skill, and the
evidence query behind expert ranking."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, case, func, literal, null, or_, union_all
from sqlmodel import Session, col, delete, select

from storage.models import (
    Endorsement,
    Kudos,
    KudosSkill,
    Person,
    PersonSkill,
    Skill,
    SkillOptOut,
    SkillStatement,
)
from storage.repositories._sql import insert_ignoring_duplicates
from storage.types import UTCDateTime

# Catalogue --------------------------------------------------------------------------------------


def add_to_catalogue(session: Session, team_id: str, slugs: Iterable[str], now: datetime) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session, Skill, {"team_id": team_id, "slug": slug, "created_at": now}
        )


def catalogue(session: Session, team_id: str) -> list[str]:
    return list(session.exec(select(Skill.slug).where(Skill.team_id == team_id)))


def known(session: Session, team_id: str, slugs: Iterable[str]) -> set[str]:
    wanted = list(set(slugs))
    if not wanted:
        return set()
    query = select(Skill.slug).where(Skill.team_id == team_id, col(Skill.slug).in_(wanted))
    return set(session.exec(query))


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


def add_kudos_skills(session: Session, team_id: str, kudos_id: str, slugs: Iterable[str]) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session, KudosSkill, {"kudos_id": kudos_id, "slug": slug, "team_id": team_id}
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


# Expert ranking -------------------------------------------------------------------------------

# Points per piece of evidence (README, "How /expert ranks"). Evidence from the last 90 days
# counts fully, from the last year half, older a quarter; a declaration is current by nature.
LEVEL_POINTS = {"expert": 3.0, "practitioner": 2.0, "learning": 1.0}
ENDORSEMENT_POINTS = 1.0
KUDOS_POINTS = 1.0


@dataclass(frozen=True)
class Ranked:
    user_id: str
    score: float
    level: str | None
    endorsements: int
    kudos: int


def _recency(moment: object) -> object:
    return case(
        (moment >= bindparam("recent", type_=UTCDateTime), 1.0),  # type: ignore[operator]
        (moment >= bindparam("year", type_=UTCDateTime), 0.5),  # type: ignore[operator]
        else_=0.25,
    )


def _evidence() -> list[Select]:
    """One SELECT per kind of evidence: (user_id, points, kind, level)."""
    team, slug = bindparam("team_id"), bindparam("slug")
    declared_rows = select(
        col(PersonSkill.user_id).label("user_id"),
        case(
            *((PersonSkill.level == level, points) for level, points in LEVEL_POINTS.items()),
            else_=1.0,
        ).label("points"),
        literal("declared").label("kind"),
        col(PersonSkill.level).label("level"),
    ).where(PersonSkill.team_id == team, PersonSkill.slug == slug)
    endorsement_rows = select(
        col(Endorsement.user_id),
        (ENDORSEMENT_POINTS * _recency(Endorsement.created_at)),  # type: ignore[operator]
        literal("endorsement"),
        null(),
    ).where(Endorsement.team_id == team, Endorsement.slug == slug)
    kudos_rows = (
        select(
            col(Kudos.receiver_id),
            (KUDOS_POINTS * _recency(Kudos.created_at)),  # type: ignore[operator]
            literal("kudos"),
            null(),
        )
        .select_from(KudosSkill)
        .join(Kudos, col(Kudos.id) == col(KudosSkill.kudos_id))
        .where(KudosSkill.team_id == team, KudosSkill.slug == slug, col(Kudos.revoked_at).is_(None))
    )
    return [declared_rows, endorsement_rows, kudos_rows]


def _ranking_query() -> Select:
    evidence = union_all(*_evidence()).subquery("evidence")
    team = bindparam("team_id")
    score = func.sum(evidence.c.points).label("score")
    pieces = func.count().label("pieces")
    left_out = select(SkillOptOut.user_id).where(SkillOptOut.team_id == team)
    gone = select(Person.user_id).where(
        Person.team_id == team, or_(col(Person.deleted), col(Person.is_bot))
    )
    return (
        select(
            evidence.c.user_id,
            score,
            func.max(evidence.c.level).label("level"),
            func.sum(case((evidence.c.kind == "endorsement", 1), else_=0)).label("endorsements"),
            func.sum(case((evidence.c.kind == "kudos", 1), else_=0)).label("kudos"),
        )
        .where(evidence.c.user_id.not_in(left_out), evidence.c.user_id.not_in(gone))
        .group_by(evidence.c.user_id)
        .order_by(score.desc(), pieces.desc(), evidence.c.user_id)
        .limit(bindparam("limit"))
    )


_RANKING = _ranking_query()


def rank(
    session: Session,
    team_id: str,
    slug: str,
    recent_since: datetime,
    year_since: datetime,
    limit: int,
) -> list[Ranked]:
    """The people with the most evidence for one skill, best first."""
    parameters = {
        "team_id": team_id,
        "slug": slug,
        "recent": recent_since,
        "year": year_since,
        "limit": limit,
    }
    return [
        Ranked(row.user_id, float(row.score), row.level, int(row.endorsements), int(row.kudos))
        for row in session.connection().execute(_RANKING, parameters)
    ]
