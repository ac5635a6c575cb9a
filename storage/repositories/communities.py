"""Communities of practice: their channels, topic skills, members and contributions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, delete, select, update

from storage.models import (
    Community,
    CommunityMember,
    CommunitySkill,
    Contribution,
    LunchSession,
)
from storage.repositories._sql import insert_ignoring_duplicates

# Communities ------------------------------------------------------------------------------------


def add(session: Session, community: Community, skills: Sequence[str]) -> bool:
    """Stores a community with its skills; False when its name (or channel) is taken."""
    if not insert_ignoring_duplicates(session, Community, community.model_dump()):
        return False
    for slug in dict.fromkeys(skills):
        session.add(CommunitySkill(community_id=community.id, slug=slug, team_id=community.team_id))
    session.flush()
    return True


def get(session: Session, community_id: str) -> Community | None:
    return session.get(Community, community_id)


def by_name(session: Session, team_id: str, name: str) -> Community | None:
    return session.exec(
        select(Community).where(Community.team_id == team_id, Community.name == name)
    ).first()


def by_channel(session: Session, team_id: str, channel_id: str) -> Community | None:
    return session.exec(
        select(Community).where(Community.team_id == team_id, Community.channel_id == channel_id)
    ).first()


def all_of(session: Session, team_id: str) -> list[Community]:
    return list(
        session.exec(
            select(Community)
            .where(Community.team_id == team_id, col(Community.channel_id).is_not(None))
            .order_by(Community.name)
        )
    )


def described(
    session: Session, community_id: str | None
) -> tuple[str, str, tuple[str, ...], str, str] | None:
    """What a statement says of a community: (id, name, skills, channel, channel name), or
    None when there is none (any more)."""
    community = get(session, community_id) if community_id else None
    if community is None or community.channel_id is None:
        return None
    skills = tuple(skills_of(session, [community.id])[community.id])
    return community.id, community.name, skills, community.channel_id, community.name


def set_channel(session: Session, community_id: str, channel_id: str) -> None:
    session.execute(
        update(Community).where(col(Community.id) == community_id).values(channel_id=channel_id)
    )


def delete_community(session: Session, community_id: str) -> None:
    for model in (CommunitySkill, CommunityMember, Contribution):
        session.execute(delete(model).where(col(model.community_id) == community_id))
    session.execute(delete(Community).where(col(Community.id) == community_id))


def skills_of(session: Session, community_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {cid: [] for cid in community_ids}
    for community_id, slug in session.exec(
        select(CommunitySkill.community_id, CommunitySkill.slug)
        .where(col(CommunitySkill.community_id).in_(list(community_ids)))
        .order_by(CommunitySkill.slug)
    ):
        found[community_id].append(slug)
    return found


def with_skills(session: Session, team_id: str, slugs: Sequence[str]) -> list[str]:
    """Communities whose topics include any of these skills."""
    return list(
        session.exec(
            select(CommunitySkill.community_id)
            .where(CommunitySkill.team_id == team_id, col(CommunitySkill.slug).in_(list(slugs)))
            .distinct()
        )
    )


# Members ----------------------------------------------------------------------------------------


def member(session: Session, community_id: str, user_id: str) -> CommunityMember | None:
    return session.get(CommunityMember, (community_id, user_id))


def add_member(session: Session, row: CommunityMember) -> bool:
    """True when they were not a member yet (a redelivered join adds nobody twice)."""
    return insert_ignoring_duplicates(session, CommunityMember, row.model_dump())


def remove_member(session: Session, community_id: str, user_id: str) -> bool:
    gone = session.execute(
        delete(CommunityMember).where(
            col(CommunityMember.community_id) == community_id,
            col(CommunityMember.user_id) == user_id,
        )
    )
    return bool(gone.rowcount)


def member_counts(session: Session, community_ids: Sequence[str]) -> dict[str, int]:
    rows = session.exec(
        select(CommunityMember.community_id, func.count())
        .where(col(CommunityMember.community_id).in_(list(community_ids)))
        .group_by(CommunityMember.community_id)
    )
    return {community_id: int(count) for community_id, count in rows}


def memberships(session: Session, team_id: str, user_id: str) -> set[str]:
    return set(
        session.exec(
            select(CommunityMember.community_id).where(
                CommunityMember.team_id == team_id, CommunityMember.user_id == user_id
            )
        )
    )


def owners(session: Session, community_id: str) -> list[str]:
    return list(
        session.exec(
            select(CommunityMember.user_id)
            .where(CommunityMember.community_id == community_id, col(CommunityMember.owner))
            .order_by(CommunityMember.joined_at)
        )
    )


def forget_member(session: Session, team_id: str, user_id: str) -> None:
    """Erasure: their memberships and contributions go; communities they made stay, by nobody."""
    for model in (CommunityMember, Contribution):
        session.execute(
            delete(model).where(col(model.team_id) == team_id, col(model.user_id) == user_id)
        )
    session.execute(
        update(Community)
        .where(col(Community.team_id) == team_id, col(Community.created_by) == user_id)
        .values(created_by=None)
    )


# Contributions ----------------------------------------------------------------------------------


def add_contribution(session: Session, row: Contribution) -> bool:
    """True when the message is new (a redelivered event counts once)."""
    return insert_ignoring_duplicates(session, Contribution, row.model_dump())


def set_statement(session: Session, row: Contribution, statement_id: str) -> None:
    session.execute(
        update(Contribution)
        .where(
            col(Contribution.team_id) == row.team_id,
            col(Contribution.channel_id) == row.channel_id,
            col(Contribution.ts) == row.ts,
        )
        .values(statement_id=statement_id)
    )


def contributions_between(
    session: Session, community_id: str, user_id: str, start: datetime, end: datetime
) -> tuple[int, int]:
    """(contributions, those recorded as statements) of the person in the community."""
    found = session.exec(
        select(func.count(), func.count(col(Contribution.statement_id))).where(
            Contribution.community_id == community_id,
            Contribution.user_id == user_id,
            col(Contribution.at) >= start,
            col(Contribution.at) < end,
        )
    ).one()
    return int(found[0]), int(found[1])


def activity_since(
    session: Session, community_ids: Sequence[str], since: datetime
) -> dict[str, int]:
    rows = session.exec(
        select(Contribution.community_id, func.count())
        .where(
            col(Contribution.community_id).in_(list(community_ids)), col(Contribution.at) >= since
        )
        .group_by(Contribution.community_id)
    )
    return {community_id: int(count) for community_id, count in rows}


def top_contributors(
    session: Session, community_id: str, since: datetime, limit: int
) -> list[tuple[str, int]]:
    rows = session.exec(
        select(Contribution.user_id, func.count().label("n"))
        .where(Contribution.community_id == community_id, col(Contribution.at) >= since)
        .group_by(Contribution.user_id)
        .order_by(func.count().desc(), Contribution.user_id)
        .limit(limit)
    )
    return [(user_id, int(count)) for user_id, count in rows]


def contributed_skills(session: Session, team_id: str, user_id: str) -> set[str]:
    return set(
        session.exec(
            select(CommunitySkill.slug)
            .join(Contribution, col(Contribution.community_id) == col(CommunitySkill.community_id))
            .where(Contribution.team_id == team_id, Contribution.user_id == user_id)
            .distinct()
        )
    )


def upcoming_sessions(
    session: Session, community_id: str, now: datetime, limit: int
) -> list[LunchSession]:
    return list(
        session.exec(
            select(LunchSession)
            .where(
                LunchSession.community_id == community_id,
                col(LunchSession.starts_at) >= now,
                LunchSession.status != "cancelled",
            )
            .order_by(LunchSession.starts_at)
            .limit(limit)
        )
    )
