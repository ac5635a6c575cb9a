"""The one-time `state` of each install link (OAuth distribution), in slack_sdk's table.

Written through guildbot's own transactions rather than slack_sdk's store: on SQLite this
process's writers queue for the database in one place, and slack_sdk's store, writing past
that queue, could time out and read a good state as "no longer valid". Consuming is one
DELETE, so two replicas can never both accept the same state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from storage.models import slack_oauth_states


def _naive_utc(moment: datetime) -> datetime:
    """The table's times are naive UTC, as slack_sdk writes them."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def issue(session: Session, state: str, expires_at: datetime) -> None:
    session.execute(
        slack_oauth_states.insert().values(state=state, expire_at=_naive_utc(expires_at))
    )


def consume(session: Session, state: str, now: datetime) -> bool:
    """Deletes the state if it is still good; True when it was."""
    table = slack_oauth_states
    result = session.execute(
        table.delete().where(table.c.state == state, table.c.expire_at > _naive_utc(now))
    )
    return (result.rowcount or 0) > 0
