"""Channel names, as Slack requests from each channel gave them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import SlackChannel

_TABLE = SlackChannel.__table__  # type: ignore[attr-defined]
# Built once, in Core: every kudos' statements name their channel, on the ack path.
_NAME = select(_TABLE.c.name).where(
    _TABLE.c.team_id == bindparam("team_id"), _TABLE.c.channel_id == bindparam("channel_id")
)


def remember(session: Session, team_id: str, channel_id: str, name: str, now: datetime) -> None:
    """Inserts or renames in one statement: two replicas seeing the channel at once agree."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SlackChannel).values(
        team_id=team_id, channel_id=channel_id, name=name, seen_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "channel_id"],
            set_={"name": statement.excluded.name, "seen_at": statement.excluded.seen_at},
        )
    )


def name_of(session: Session, team_id: str, channel_id: str) -> str | None:
    name: str | None = (
        session.connection()
        .execute(_NAME, {"team_id": team_id, "channel_id": channel_id})
        .scalar_one_or_none()
    )
    return name
