"""Calendar files for lunch-and-learns (RFC 5545): CRLF lines, folding at 75 octets, TEXT
escaping, one UID per session, SEQUENCE, UTC times, and the cancelled form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.lunchlearn import Lunch
from bot.views.calendar import session_ics

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SESSION_ID = "6f1c2a4e-8b7d-5c3e-9a1f-0d2b4c6e8f10"


def lunch(**changes: Any) -> Lunch:
    fields: dict[str, Any] = {
        "id": SESSION_ID,
        "team_id": "T0GUILD",
        "short_id": "ABCD",
        "title": "Intro to pytest",
        "description": "Fixtures and parametrize.",
        "tags": ("python",),
        "organiser_id": "U0ANN",
        "presenter_id": "U0CAT",
        "starts_at": START,
        "duration_minutes": 45,
        "place": "Room 4",
        "capacity": None,
        "channel_id": "C0LUNCH",
    }
    fields.update(changes)
    return Lunch(**fields)


def physical_lines(ics: str) -> list[str]:
    """The lines as written: the file must end with CRLF and use CRLF only."""
    assert ics.endswith("\r\n")
    lines = ics[:-2].split("\r\n")
    for line in lines:
        assert "\n" not in line and "\r" not in line, repr(line)
    return lines


def unfold(ics: str) -> list[str]:
    """RFC 5545 3.1: a CRLF followed by one space (or tab) is removed."""
    return re.sub(r"\r\n[ \t]", "", ics)[:-2].split("\r\n")


def properties(ics: str) -> dict[str, str]:
    """Name → value of every unfolded content line (the file has no repeated names)."""
    found: dict[str, str] = {}
    for line in unfold(ics):
        name, _, value = line.partition(":")
        found.setdefault(name, value)
    return found


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


# Structure -------------------------------------------------------------------------------------


def test_lines_end_with_crlf_and_the_event_has_what_calendars_need() -> None:
    ics = session_ics(lunch(), NOW)

    lines = physical_lines(ics)
    assert ics.count("\r\n") == len(lines)
    assert "\n" not in ics.replace("\r\n", "")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    assert lines.index("BEGIN:VEVENT") < lines.index("END:VEVENT")
    found = properties(ics)
    assert found["VERSION"] == "2.0"
    assert found["PRODID"]
    assert found["METHOD"] == "PUBLISH"
    assert found["UID"] == f"{SESSION_ID}@guildbot"
    assert found["SEQUENCE"] == "0"
    assert found["DTSTAMP"] == "20261130T120000Z"
    assert found["DTSTART"] == "20261203T120000Z"
    assert found["DTEND"] == "20261203T124500Z"
    assert found["SUMMARY"] == "Intro to pytest"
    assert found["DESCRIPTION"] == "Fixtures and parametrize."
    assert found["LOCATION"] == "Room 4"
    assert found["STATUS"] == "CONFIRMED"


def test_times_are_written_in_utc_whatever_zone_they_come_in() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    new_york = ZoneInfo("America/New_York")
    starts = datetime(2026, 12, 3, 21, 0, tzinfo=tokyo)  # 12:00 UTC
    now = datetime(2026, 11, 30, 7, 0, tzinfo=new_york)  # 12:00 UTC

    found = properties(session_ics(lunch(starts_at=starts, duration_minutes=90), now))

    assert found["DTSTART"] == "20261203T120000Z"
    assert found["DTEND"] == "20261203T133000Z"
    assert found["DTSTAMP"] == "20261130T120000Z"
    for name in ("DTSTART", "DTEND", "DTSTAMP"):
        assert re.fullmatch(r"\d{8}T\d{6}Z", found[name]), name


def test_an_event_crossing_midnight_ends_on_the_next_day() -> None:
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    found = properties(session_ics(lunch(starts_at=late, duration_minutes=60), NOW))
    assert (found["DTSTART"], found["DTEND"]) == ("20261203T233000Z", "20261204T003000Z")


def test_the_uid_is_fixed_per_session_and_sequence_follows_the_session() -> None:
    first = properties(session_ics(lunch(), NOW))
    changed = properties(
        session_ics(lunch(sequence=3, title="Advanced pytest"), NOW + timedelta(days=1))
    )
    other = properties(session_ics(lunch(id="0a1b2c3d-0000-5000-8000-000000000001"), NOW))

    assert first["UID"] == changed["UID"] == f"{SESSION_ID}@guildbot"
    assert other["UID"] != first["UID"]
    assert (first["SEQUENCE"], changed["SEQUENCE"]) == ("0", "3")
    assert changed["DTSTAMP"] == "20261201T120000Z"


def test_a_cancelled_session_is_sent_with_method_cancel_and_status_cancelled() -> None:
    scheduled = session_ics(lunch(), NOW)
    cancelled = session_ics(lunch(status="cancelled", sequence=1), NOW)

    before, after = properties(scheduled), properties(cancelled)
    assert (before["METHOD"], before["STATUS"]) == ("PUBLISH", "CONFIRMED")
    assert (after["METHOD"], after["STATUS"]) == ("CANCEL", "CANCELLED")
    # The same event (so calendars remove it), at a higher SEQUENCE, at the same time.
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert (after["DTSTART"], after["DTEND"]) == (before["DTSTART"], before["DTEND"])
    physical_lines(cancelled)


# Escaping --------------------------------------------------------------------------------------


def test_commas_semicolons_backslashes_and_newlines_are_escaped() -> None:
    ics = session_ics(
        lunch(
            title="Tests, mocks; and C:\\temp",
            description="Line one\nLine two\r\nLine three; done, really",
            place="Room 4, floor 2; east wing",
        ),
        NOW,
    )

    found = properties(ics)
    assert found["SUMMARY"] == "Tests\\, mocks\\; and C:\\\\temp"
    assert found["DESCRIPTION"] == "Line one\\nLine two\\nLine three\\; done\\, really"
    assert found["LOCATION"] == "Room 4\\, floor 2\\; east wing"
    # Colons need no escaping in TEXT, and the escapes read back to the original.
    assert unescape(found["SUMMARY"]) == "Tests, mocks; and C:\\temp"
    assert unescape(found["DESCRIPTION"]) == "Line one\nLine two\nLine three; done, really"
    physical_lines(ics)


def test_a_title_with_cr_and_lf_cannot_inject_lines() -> None:
    # A lone CR used to pass through: calendars treat it as a line break, so the rest of the
    # title became properties of its own, or a second event.
    injected = "Pizza\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:Free laptops\nLOCATION:Lobby\r\nX"
    ics = session_ics(lunch(title=injected, place="Room 4\r\rATTENDEE:mailto:a@b.c"), NOW)

    lines = physical_lines(ics)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    names = [line.partition(":")[0] for line in unfold(ics)]
    assert names.count("SUMMARY") == names.count("LOCATION") == 1
    assert "ATTENDEE" not in names
    found = properties(ics)
    assert unescape(found["SUMMARY"]) == (
        "Pizza\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:Free laptops\nLOCATION:Lobby\nX"
    )
    assert unescape(found["LOCATION"]) == "Room 4\n\nATTENDEE:mailto:a@b.c"


def test_other_control_characters_are_left_out() -> None:
    found = properties(
        session_ics(lunch(title="Bell\x07 and\x00 escape\x1b[31m\x7f, tab\tok"), NOW)
    )
    assert found["SUMMARY"] == "Bell and escape[31m\\, tab\tok"


def test_an_empty_description_is_an_empty_value() -> None:
    assert properties(session_ics(lunch(description=""), NOW))["DESCRIPTION"] == ""


# Folding ---------------------------------------------------------------------------------------


def test_a_line_of_exactly_75_octets_is_not_folded_and_76_is() -> None:
    # "SUMMARY:" is 8 octets.
    exact = session_ics(lunch(title="x" * 67), NOW)
    over = session_ics(lunch(title="x" * 68), NOW)

    assert "SUMMARY:" + "x" * 67 in physical_lines(exact)
    folded = physical_lines(over)
    at = folded.index("SUMMARY:" + "x" * 67)
    assert folded[at + 1] == " x"
    assert properties(over)["SUMMARY"] == "x" * 68


def test_long_lines_fold_at_75_octets_and_unfold_to_the_original() -> None:
    description = "Fixtures, parametrize and plugins; " * 20
    ics = session_ics(lunch(description=description), NOW)

    lines = physical_lines(ics)
    assert max(len(line.encode()) for line in lines) == 75
    starts = [n for n, line in enumerate(lines) if line.startswith("DESCRIPTION:")]
    [first] = starts
    continued = lines[first + 1 :]
    continued = continued[: next(n for n, line in enumerate(continued) if line[0] != " ")]
    assert len(continued) >= 10
    assert all(line.startswith(" ") and len(line) > 1 for line in continued)
    assert unescape(properties(ics)["DESCRIPTION"]) == description


def test_folding_counts_octets_and_never_splits_a_multibyte_character() -> None:
    description = "日本語のセッション、ようこそ。" * 10 + "🐍" * 30 + "é" * 40
    ics = session_ics(lunch(title="Café ☕ " * 15, description=description), NOW)

    for line in physical_lines(ics):
        assert len(line.encode("utf-8")) <= 75, line
    found = properties(ics)
    assert unescape(found["DESCRIPTION"]) == description
    assert found["SUMMARY"] == "Café ☕ " * 15
    # The folds fell between characters: every physical line is valid UTF-8 on its own.
    for line in ics.encode("utf-8").split(b"\r\n"):
        line.decode("utf-8")


TYPED = st.characters(blacklist_categories=("Cs",)) | st.sampled_from(",;\\:\n\r\t")


def as_read_back(typed: str) -> str:
    """What a calendar shows for typed text: CR LF and a lone CR are line breaks too, and
    control characters other than tab are left out."""
    text = typed.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or not (c < " " or c == "\x7f"))


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(alphabet=TYPED, min_size=1, max_size=150),
    description=st.text(alphabet=TYPED, max_size=400),
)
def test_any_text_gives_short_crlf_lines_that_read_back(title: str, description: str) -> None:
    ics = session_ics(lunch(title=title, description=description), NOW)

    lines = physical_lines(ics)
    assert lines.count("BEGIN:VEVENT") == 1
    for line in lines:
        assert len(line.encode("utf-8")) <= 75
    found = properties(ics)
    assert unescape(found["SUMMARY"]) == as_read_back(title)
    assert unescape(found["DESCRIPTION"]) == as_read_back(description)
    # Nothing but the escapes themselves follows a backslash.
    for name in ("SUMMARY", "DESCRIPTION"):
        assert re.fullmatch(r"(?:[^\\;,]|\\[\\;,n])*", found[name]), found[name]
