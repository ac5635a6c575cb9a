"""Reminder offsets (LUNCHLEARN_REMINDERS, and L&D settings' Lunch-and-learn reminders) are
typed as the README says, `2h30m` included, and shown back as they are typed."""

from __future__ import annotations

import pytest

from bot.domain.workspace_settings import reminder_minutes, reminder_text


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("24h,15m", (1440, 15)),
        ("2h30m", (150,)),
        (" 1d12h , 90m, 1h30m ", (2160, 90)),
        ("1D2H3M", (1563,)),
        ("", ()),
    ],
)
def test_offsets_of_one_or_more_units_are_read(typed: str, minutes: tuple[int, ...]) -> None:
    assert reminder_minutes(typed) == minutes


@pytest.mark.parametrize("typed", ["30m2h", "2h2h", "2h 30m", "0h0m", "2.5h", "h", "2", "tomorrow"])
def test_anything_else_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        reminder_minutes(typed)


def test_offsets_are_shown_as_they_are_typed_and_read_back_the_same() -> None:
    shown = reminder_text((2880, 1440, 1470, 150, 60, 15))

    assert shown == "2d, 24h, 24h30m, 2h30m, 1h, 15m"
    assert reminder_minutes(shown) == (2880, 1470, 1440, 150, 60, 15)
