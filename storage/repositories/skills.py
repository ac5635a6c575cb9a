"""Skills: the catalogue, declarations, endorsements, kudos that name a skill, and the
evidence query behind expert ranking."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from storage.models import (
    Answer,
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
from storage.repositories import communities as communities_repo
from storage.repositories._sql import advisory_locks, insert_ignoring_duplicates
from storage.types import aware_utc

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


def opted_out_among(session: Session, team_id: str, user_ids: Sequence[str]) -> set[str]:
    if not user_ids:
        return set()
    query = select(SkillOptOut.user_id).where(
        SkillOptOut.team_id == team_id, col(SkillOptOut.user_id).in_(list(set(user_ids)))
    )
    return set(session.exec(query))


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


@dataclass(frozen=True)
class Evidence:
    """What counts for one person and one skill: the declared level and dated evidence."""

    level: str | None
    endorsed_at: tuple[datetime, ...]
    kudos_at: tuple[datetime, ...]
    answers_at: tuple[datetime, ...] = ()
    """When the person's answers to questions tagged with the skill were accepted."""
    sessions_at: tuple[datetime, ...] = ()
    """When the person presented lunch-and-learns on the skill."""
    contributed_at: tuple[datetime, ...] = ()
    """The first contribution of each day the person contributed to a community with the skill."""


def evidence(
    session: Session, team_id: str, slug: str, user_ids: Sequence[str]
) -> dict[str, Evidence]:
    """Each person's evidence for one skill, three queries however many people."""
    wanted = list(set(user_ids))
    levels = dict(
        session.exec(
            select(PersonSkill.user_id, PersonSkill.level).where(
                PersonSkill.team_id == team_id,
                PersonSkill.slug == slug,
                col(PersonSkill.user_id).in_(wanted),
            )
        ).all()
    )
    endorsed: dict[str, list[datetime]] = {uid: [] for uid in wanted}
    for user_id, at in session.exec(
        select(Endorsement.user_id, Endorsement.created_at).where(
            Endorsement.team_id == team_id,
            Endorsement.slug == slug,
            col(Endorsement.user_id).in_(wanted),
        )
    ):
        endorsed[user_id].append(aware_utc(at))
    kudos: dict[str, list[datetime]] = {uid: [] for uid in wanted}
    for user_id, at in session.exec(
        select(KudosSkill.receiver_id, KudosSkill.created_at)
        .join(Kudos, col(Kudos.id) == col(KudosSkill.kudos_id))
        .where(
            KudosSkill.team_id == team_id,
            KudosSkill.slug == slug,
            col(KudosSkill.receiver_id).in_(wanted),
            col(Kudos.revoked_at).is_(None),
        )
    ):
        kudos[user_id].append(aware_utc(at))
    answers: dict[str, list[datetime]] = {uid: [] for uid in wanted}
    for user_id, at in session.exec(
        select(Answer.author_id, Answer.accepted_at)
        .select_from(QuestionSkill)
        .join(Question, col(Question.id) == col(QuestionSkill.question_id))
        .join(Answer, col(Answer.id) == col(Question.accepted_answer_id))
        .where(
            QuestionSkill.team_id == team_id,
            QuestionSkill.slug == slug,
            col(Answer.author_id).in_(wanted),
            col(Answer.accepted_at).is_not(None),
        )
    ):
        answers[user_id].append(aware_utc(at))
    sessions: dict[str, list[datetime]] = {uid: [] for uid in wanted}
    for user_id, at in session.exec(
        select(LunchSession.presenter_id, LunchSession.presented_at)
        .select_from(SessionSkill)
        .join(LunchSession, col(LunchSession.id) == col(SessionSkill.session_id))
        .where(
            SessionSkill.team_id == team_id,
            SessionSkill.slug == slug,
            col(LunchSession.presenter_id).in_(wanted),
            col(LunchSession.presented_at).is_not(None),
            LunchSession.status != "cancelled",
        )
    ):
        sessions[user_id].append(aware_utc(at))
    contributed = communities_repo.contribution_times(session, team_id, slug, wanted)
    return {
        uid: Evidence(
            levels.get(uid),
            tuple(sorted(endorsed[uid])),
            tuple(sorted(kudos[uid])),
            tuple(sorted(answers[uid])),
            tuple(sorted(sessions[uid])),
            _first_of_each_day(contributed[uid]),
        )
        for uid in wanted
    }


def _first_of_each_day(times: Sequence[datetime]) -> tuple[datetime, ...]:
    firsts: dict[object, datetime] = {}
    for at in sorted(times):
        firsts.setdefault(at.date(), at)
    return tuple(firsts.values())


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


def save_standing(session: Session, standing: SkillStanding) -> None:
    """Inserts or replaces the row in one statement (no read-then-write race)."""
    values = standing.model_dump()
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(SkillStanding.__table__)  # type: ignore[attr-defined]
    keys = ("team_id", "slug", "user_id")
    connection.execute(
        statement.values(values).on_conflict_do_update(
            index_elements=list(keys), set_={k: v for k, v in values.items() if k not in keys}
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
