"""Lunch-and-learn forms as Slack sends them back: the schedule form and the rating form."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def schedule_values(
    start: datetime | None,
    *,
    title: str | None = "Intro to pytest",
    description: str | None = "Fixtures, parametrize and plugins.",
    tags: str | None = "#python",
    presenter: str | None = "U0CAT",
    duration: str | None = "45",
    place: str | None = "Room 4",
    capacity: str | None = "2",
    channel: str | None = "C0LUNCH",
) -> dict[str, Any]:
    """The schedule form's state values; a field given as None is empty."""

    def text(value: str | None) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    return {
        "title": text(title),
        "description": text(description),
        "tags": text(tags),
        "presenter": {"value": {"type": "users_select", "selected_user": presenter}},
        "start": {
            "value": {
                "type": "datetimepicker",
                "selected_date_time": int(start.timestamp()) if start else None,
            }
        },
        "duration": {"value": {"type": "number_input", "value": duration}},
        "place": text(place),
        "capacity": {"value": {"type": "number_input", "value": capacity}},
        "channel": {"value": {"type": "conversations_select", "selected_conversation": channel}},
    }


def rating_values(rating: int, comment: str | None = None) -> dict[str, Any]:
    """The rating form, sent with a rating from 1 to 5 and an optional comment."""
    return {
        "rating": {
            "value": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": f"{rating}"},
                    "value": str(rating),
                },
            }
        },
        "comment": {"value": {"type": "plain_text_input", "value": comment}},
    }
