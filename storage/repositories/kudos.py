"""Kudos rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, delete, or_, select, update

from storage.models import Kudos
from storage.prepared import Prepared
from storage.repositories._sql import advisory_locks, insert_ignoring_duplicates
from storage.types import UTCDateTime, aware_utc


def add(session: Session, **values: Any) -> bool:
    """Stores a kudos (its column values) unless its (source, receiver) was already recorded;
    True when new. Values, not a `Kudos`: building the model costs more than the insert."""
    return insert_ignoring_duplicates(session, Kudos, values)


def get_many(session: Session, kudos_ids: Sequence[str]) -> list[Kudos]:
    return list(session.exec(select(Kudos).where(col(Kudos.id).in_(list(kudos_ids)))))


def from_source(session: Session, team_id: str, source_key: str) -> list[Kudos]:
    """The kudos one request gave (one per receiver)."""
    return list(
        session.exec(select(Kudos).where(Kudos.team_id == team_id, Kudos.source_key == source_key))
    )


def standing_for_message(
    session: Session, team_id: str, channel_id: str, message_ts: str, giver_id: str, source: str
) -> list[Kudos]:
    """The giver's kudos for one message, given one way (e.g. "reaction"), not revoked."""
    return list(
        session.exec(
            select(Kudos).where(
                Kudos.team_id == team_id,
                Kudos.channel_id == channel_id,
                Kudos.message_ts == message_ts,
                Kudos.giver_id == giver_id,
                Kudos.source == source,
                col(Kudos.revoked_at).is_(None),
            )
        )
    )


def from_post(session: Session, team_id: str, channel_id: str, post_ts: str) -> list[Kudos]:
    """The kudos a recognition post announced."""
    return list(
        session.exec(
            select(Kudos).where(
                Kudos.team_id == team_id, Kudos.channel_id == channel_id, Kudos.post_ts == post_ts
            )
        )
    )


def mark_revoked(session: Session, kudos_ids: Sequence[str], now: datetime) -> None:
    session.execute(
        update(Kudos)
        .where(col(Kudos.id).in_(list(kudos_ids)), col(Kudos.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def by_ids(session: Session, kudos_ids: Sequence[str]) -> list[Kudos]:
    """The kudos with these ids that still exist, in the order given."""
    if not kudos_ids:
        return []
    found = {k.id: k for k in session.exec(select(Kudos).where(col(Kudos.id).in_(list(kudos_ids))))}
    return [found[kudos_id] for kudos_id in kudos_ids if kudos_id in found]


_TABLE = Kudos.__table__  # type: ignore[attr-defined]
# Run on the driver (storage/prepared.py): each runs once for every recognition.
_SET_POST = Prepared(
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(post_ts=bindparam("ts"))
)
_ANY_STANDING = Prepared(
    select(_TABLE.c.id)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)), _TABLE.c.revoked_at.is_(None))
    .limit(1)
)
_STANDING = Prepared(
    select(
        _TABLE.c.id, _TABLE.c.giver_id, _TABLE.c.receiver_id, _TABLE.c.reason, _TABLE.c.tags
    ).where(_TABLE.c.id.in_(bindparam("ids", expanding=True)), _TABLE.c.revoked_at.is_(None))
)


@dataclass(frozen=True)
class StandingKudos:
    id: str
    giver_id: str
    receiver_id: str
    reason: str
    tags: tuple[str, ...]


def standing(session: Session, kudos_ids: Sequence[str]) -> list[StandingKudos]:
    """The kudos with these ids that exist and are not revoked, in the order given."""
    if not kudos_ids:
        return []
    found = {
        kudos_id: StandingKudos(kudos_id, giver_id, receiver_id, reason, tuple(tags))
        for kudos_id, giver_id, receiver_id, reason, tags in _STANDING.rows(
            session, {"ids": list(kudos_ids)}
        )
    }
    return [found[kudos_id] for kudos_id in kudos_ids if kudos_id in found]


def set_post(session: Session, kudos_ids: Sequence[str], post_ts: str) -> None:
    """Where the recognition was posted (the `permalink` stays the message the kudos is for)."""
    _SET_POST.run(session, {"ids": list(kudos_ids), "ts": post_ts})


def any_standing(session: Session, kudos_ids: Sequence[str]) -> bool:
    """Whether any of these kudos exists and is not revoked."""
    return bool(_ANY_STANDING.rows(session, {"ids": list(kudos_ids)}))


def involving(session: Session, team_id: str, user_id: str) -> list[Kudos]:
    """Every kudos the person gave or received."""
    return list(
        session.exec(
            select(Kudos).where(
                Kudos.team_id == team_id,
                or_(Kudos.giver_id == user_id, Kudos.receiver_id == user_id),
            )
        )
    )


def delete_many(session: Session, kudos_ids: Sequence[str]) -> int:
    if not kudos_ids:
        return 0
    result = session.exec(delete(Kudos).where(col(Kudos.id).in_(list(kudos_ids))))
    return result.rowcount or 0


def lock_giver(session: Session, team_id: str, giver_id: str) -> None:
    """Serialises quota checks per giver until the transaction ends."""
    advisory_locks(session, [f"kudos-quota:{team_id}:{giver_id}"])


# Run on the driver (storage/prepared.py): these run inside every /kudos before the ack.
_COUNT_GIVEN = Prepared(
    select(func.count()).where(
        Kudos.team_id == bindparam("team_id"),
        Kudos.giver_id == bindparam("giver_id"),
        Kudos.created_at >= bindparam("since", type_=UTCDateTime),
        Kudos.created_at < bindparam("until", type_=UTCDateTime),
        col(Kudos.revoked_at).is_(None),
    )
)
_EXISTING = Prepared(select(Kudos.id).where(col(Kudos.id).in_(bindparam("ids", expanding=True))))


def count_given(
    session: Session, team_id: str, giver_id: str, since: datetime, until: datetime
) -> int:
    """Kudos the giver gave in [since, until) that still stand (revoked ones don't count)."""
    parameters = {"team_id": team_id, "giver_id": giver_id, "since": since, "until": until}
    [(count,)] = _COUNT_GIVEN.rows(session, parameters)
    return int(count)


def existing(session: Session, kudos_ids: Sequence[str]) -> set[str]:
    """Which of these kudos ids are already stored."""
    return {found for (found,) in _EXISTING.rows(session, {"ids": list(kudos_ids)})}


def leaders(
    session: Session, team_id: str, since: datetime | None, by: str, limit: int
) -> list[tuple[str, int, datetime]]:
    """Top receivers (`by="receiver"`) or givers (`by="giver"`) of standing kudos since `since`.

    Ties go to whoever reached the count first: the earlier last kudos ranks higher.
    """
    person = Kudos.receiver_id if by == "receiver" else Kudos.giver_id
    count = func.count().label("n")
    reached = func.max(Kudos.created_at).label("reached")
    query = select(person, count, reached).where(
        Kudos.team_id == team_id, col(Kudos.revoked_at).is_(None)
    )
    if since is not None:
        query = query.where(Kudos.created_at >= since)
    query = query.group_by(person).order_by(count.desc(), reached.asc(), person).limit(limit)
    return [(user_id, n, aware_utc(at)) for user_id, n, at in session.exec(query)]


def count_received(session: Session, team_id: str, receiver_id: str, since: datetime) -> int:
    """Standing kudos the person received since `since`."""
    query = select(func.count()).where(
        Kudos.team_id == team_id,
        Kudos.receiver_id == receiver_id,
        Kudos.created_at >= since,
        col(Kudos.revoked_at).is_(None),
    )
    return session.exec(query).one()


def count_given_since(session: Session, team_id: str, giver_id: str, since: datetime) -> int:
    """Standing kudos the person gave since `since` (the same span as `count_received`)."""
    query = select(func.count()).where(
        Kudos.team_id == team_id,
        Kudos.giver_id == giver_id,
        Kudos.created_at >= since,
        col(Kudos.revoked_at).is_(None),
    )
    return session.exec(query).one()


def count_in_period(session: Session, team_id: str, since: datetime) -> int:
    query = select(func.count()).where(
        Kudos.team_id == team_id, Kudos.created_at >= since, col(Kudos.revoked_at).is_(None)
    )
    return session.exec(query).one()
