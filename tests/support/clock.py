"""A clock tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime


class SettableClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now
