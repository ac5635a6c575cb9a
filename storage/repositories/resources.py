"""Shared resources, their full-text search (migration 0030) and who opened them.

The index follows the table by itself (SQLite triggers; PostgreSQL's generated
`search_document` column, which the models leave out), so
this module writes rows and reads the index. What people type reaches neither query language
as syntax: it is cut into words and phrases (`storage.repositories.faq.terms`, the FAQ's
reading of a search) first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, delete, select, update

from storage.models import Resource, ResourceOpen
from storage.repositories._sql import insert_ignoring_duplicates
from storage.repositories.faq import terms
from storage.types import UTCDateTime

RANKED = 2_000
"""At most this many of the newest matches are ranked (as `/faq` does): a word found in half
of 100,000 resources still costs a bounded read. See bench/resources.py."""
# Opens count most, reactions next; a month's age halves a resource's weight.
_SCORE = "(1.0 + r.opens + 2 * r.reactions) / (1.0 + {age_days} / 30.0)"
_COLUMNS = (
    "r.id, r.title, r.url, r.kind, r.tags, r.shared_by, r.opens, r.reactions, r.shared_at, "
    "r.community_id"
)
_SQLITE = text(
    f"""
    SELECT {_COLUMNS} FROM resource r
    WHERE r.seq IN (
        SELECT resource_fts.rowid FROM resource_fts
        JOIN resource m ON m.seq = resource_fts.rowid
        WHERE resource_fts MATCH :match AND m.team_id = :team_id
        ORDER BY resource_fts.rowid DESC
        LIMIT :ranked
    )
    ORDER BY {_SCORE.format(age_days="(julianday(:now) - julianday(r.shared_at))")} DESC,
        r.seq DESC
    LIMIT :limit
    """
).columns(shared_at=UTCDateTime())
_POSTGRES = text(
    f"""
    SELECT {_COLUMNS} FROM (
        SELECT seq, id, title, url, kind, tags, shared_by, opens, reactions, shared_at,
            community_id
        FROM resource
        WHERE team_id = :team_id AND search_document @@ websearch_to_tsquery('english', :words)
        ORDER BY seq DESC
        LIMIT :ranked
    ) AS r
    ORDER BY {_SCORE.format(age_days="extract(epoch FROM (:now - r.shared_at)) / 86400.0")} DESC,
        r.seq DESC
    LIMIT :limit
    """
).columns(shared_at=UTCDateTime())
# As for the FAQ: a generic plan made for a rare word is slow for a common one.
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


@dataclass(frozen=True)
class Found:
    id: str
    title: str
    url: str
    kind: str
    tags: str
    shared_by: str | None
    opens: int
    reactions: int
    shared_at: datetime
    community_id: str | None


def add(session: Session, resource: Resource) -> bool:
    """Stores a resource unless its URL or file was shared before; True when new."""
    values = resource.model_dump(exclude={"seq"})
    return insert_ignoring_duplicates(session, Resource, values)


def by_key(session: Session, team_id: str, key: str) -> Resource | None:
    return session.exec(
        select(Resource).where(Resource.team_id == team_id, Resource.key == key)
    ).first()


def get(session: Session, resource_id: str) -> Resource | None:
    return session.exec(select(Resource).where(Resource.id == resource_id)).first()


def search(
    session: Session, team_id: str, typed: str, now: datetime, limit: int, ranked: int = RANKED
) -> list[Found]:
    """The `limit` best resources whose title or skills have every word typed, among the
    `ranked` newest such, by opens, reactions and age."""
    found = terms(typed)
    if not found:
        return []
    connection = session.connection()
    params: dict[str, object] = {"team_id": team_id, "ranked": ranked, "limit": limit}
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_CUSTOM_PLANS)
        rows = connection.execute(_POSTGRES, {**params, "words": found.websearch(), "now": now})
    else:
        sqlite_now = now.strftime("%Y-%m-%d %H:%M:%S")
        rows = connection.execute(_SQLITE, {**params, "match": found.fts5(), "now": sqlite_now})
    return [Found(*row) for row in rows]


def recent(session: Session, community_ids: Sequence[str], limit: int) -> list[Resource]:
    return list(
        session.exec(
            select(Resource)
            .where(col(Resource.community_id).in_(list(community_ids)))
            .order_by(col(Resource.seq).desc())
            .limit(limit)
        )
    )


def shared_since(
    session: Session, team_id: str, since: datetime, limit: int, until: datetime | None = None
) -> list[Resource]:
    """Resources shared from `since` (to `until`), the most opened first."""
    window = [col(Resource.shared_at) >= since]
    if until is not None:
        window.append(col(Resource.shared_at) < until)
    return list(
        session.exec(
            select(Resource)
            .where(Resource.team_id == team_id, *window)
            .order_by(col(Resource.opens).desc(), col(Resource.seq).desc())
            .limit(limit)
        )
    )


def record_open(session: Session, resource: Resource, user_id: str, now: datetime) -> bool:
    """Counts an open; True when it is the person's first of this resource (it then counts
    once towards the resource's opens)."""
    first = insert_ignoring_duplicates(
        session,
        ResourceOpen,
        {
            "resource_id": resource.id,
            "user_id": user_id,
            "team_id": resource.team_id,
            "count": 1,
            "first_at": now,
            "last_at": now,
        },
    )
    if first:
        session.execute(
            update(Resource).where(col(Resource.id) == resource.id).values(opens=Resource.opens + 1)
        )
    else:
        session.execute(
            update(ResourceOpen)
            .where(
                col(ResourceOpen.resource_id) == resource.id, col(ResourceOpen.user_id) == user_id
            )
            .values(count=ResourceOpen.count + 1, last_at=now)
        )
    return first


def openers(session: Session, resource_id: str) -> list[tuple[str, int]]:
    return [
        (user_id, count)
        for user_id, count in session.exec(
            select(ResourceOpen.user_id, ResourceOpen.count)
            .where(ResourceOpen.resource_id == resource_id)
            .order_by(ResourceOpen.first_at)
        )
    ]


def on_message(session: Session, team_id: str, channel_id: str, ts: str) -> list[str]:
    return list(
        session.exec(
            select(Resource.id).where(
                Resource.team_id == team_id,
                Resource.channel_id == channel_id,
                Resource.message_ts == ts,
            )
        )
    )


def add_reactions(session: Session, resource_ids: Sequence[str], delta: int) -> None:
    session.execute(
        update(Resource)
        .where(col(Resource.id).in_(list(resource_ids)))
        .values(reactions=Resource.reactions + delta)
    )


def forget_person(session: Session, team_id: str, user_id: str) -> None:
    """Erasure: what they shared goes (with everyone's opens of it), and their own opens."""
    shared = list(
        session.exec(
            select(Resource.id).where(Resource.team_id == team_id, Resource.shared_by == user_id)
        )
    )
    session.execute(delete(ResourceOpen).where(col(ResourceOpen.resource_id).in_(shared)))
    session.execute(delete(Resource).where(col(Resource.id).in_(shared)))
    opened = list(
        session.exec(
            select(ResourceOpen.resource_id).where(
                ResourceOpen.team_id == team_id, ResourceOpen.user_id == user_id
            )
        )
    )
    session.execute(
        update(Resource).where(col(Resource.id).in_(opened)).values(opens=Resource.opens - 1)
    )
    session.execute(
        delete(ResourceOpen).where(
            col(ResourceOpen.team_id) == team_id, col(ResourceOpen.user_id) == user_id
        )
    )
