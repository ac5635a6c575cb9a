"""Processed Slack event ids: the Events API redelivers what it thinks was lost."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import ProcessedEvent
from storage.repositories._sql import insert_ignoring_duplicates


def claim_event(session: Session, team_id: str, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen; commit it with the event's effect."""
    return insert_ignoring_duplicates(
        session, ProcessedEvent, {"team_id": team_id, "event_id": event_id, "received_at": now}
    )
