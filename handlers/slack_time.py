"""When Slack says something happened: an event's `event_ts`, a button's or shortcut's
`action_ts`. Slash commands and form submissions carry none (their receipt time stands)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def slack_time(body: dict[str, Any]) -> datetime | None:
    """The time of the event or action in a request body, or None when it carries none."""
    event = body.get("event") or {}
    actions = body.get("actions") or [{}]
    for stamp in (event.get("event_ts"), actions[0].get("action_ts"), body.get("action_ts")):
        moment = from_ts(stamp)
        if moment is not None:
            return moment
    return None


def from_ts(stamp: object) -> datetime | None:
    """`1709371815.000100` (seconds since the epoch, as Slack writes them) as UTC."""
    try:
        return datetime.fromtimestamp(float(str(stamp)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
