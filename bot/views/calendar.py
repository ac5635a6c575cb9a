"""Calendar files (.ics, RFC 5545) for lunch-and-learn sessions.

One UID per session, so calendars update the event in place; SEQUENCE rises on every change;
times in UTC. A cancelled session is sent again with METHOD:CANCEL and STATUS:CANCELLED.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.domain.lunchlearn import Lunch

CRLF = "\r\n"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# RFC 5545 TEXT allows no control characters but tab; CR LF, CR and LF are all line breaks.
_LINE_BREAK = re.compile(r"\r\n?|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): a typed line break can never end the line."""
    escaped = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROL.sub("", _LINE_BREAK.sub("\\\\n", escaped))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return (CRLF + " ").join(parts)


def session_ics(lunch: Lunch, now: datetime) -> str:
    ends = lunch.starts_at + timedelta(minutes=lunch.duration_minutes)
    cancelled = lunch.status == "cancelled"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//guildbot//lunch-and-learn//EN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{lunch.id}@guildbot",
        f"SEQUENCE:{lunch.sequence}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(lunch.starts_at)}",
        f"DTEND:{_utc(ends)}",
        f"SUMMARY:{_escape(lunch.title)}",
        f"DESCRIPTION:{_escape(lunch.description)}",
        f"LOCATION:{_escape(lunch.place)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return CRLF.join(_fold(line) for line in lines) + CRLF
