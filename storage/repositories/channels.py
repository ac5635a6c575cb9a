"""Channel names, as Slack requests from each channel gave them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import SlackChannel
from storage.prepared import Prepared

_TABLE = SlackChannel.__table__  # type: ignore[attr-defined]
# Run on the driver (storage/prepared.py): every kudos names its channel before the ack.
_NAME = Prepared(
    select(_TABLE.c.name).where(
        _TABLE.c.team_id == bindparam("team_id"), _TABLE.c.channel_id == bindparam("channel_id")
    )
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
    found = _NAME.rows(session, {"team_id": team_id, "channel_id": channel_id})
    return str(found[0][0]) if found else None
