"""Time, injectable: tests and schedulers pass their own clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def occurred(now: datetime, at: datetime | None) -> datetime:
    """When something happened: the time Slack gives (`event_ts`, `action_ts`) if any, never
    later than `now` (a statement's timestamp is never in the future)."""
    return min(at, now) if at is not None else now
