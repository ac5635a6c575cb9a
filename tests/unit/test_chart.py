"""The PNG encoder and the weekly-activity chart, read back by an independent small decoder."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.reporting import CAPABILITIES, WeekActivity
from bot.views.chart import (
    BACKGROUND,
    BAR,
    MARGIN,
    PALETTE,
    PLOT_HEIGHT,
    PNG_SIGNATURE,
    activity_chart,
    activity_legend,
    bar_chart,
    bar_left,
    encode_png,
)

Pixels = list[list[tuple[int, int, int]]]


def decode(png: bytes) -> tuple[int, int, Pixels]:
    """Reads an 8-bit RGB, non-interlaced PNG (any filter type 0 rows), checking every CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, []
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        chunks.append((kind, data))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour_type, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    stride = width * 3 + 1
    assert len(raw) == stride * height
    rows: Pixels = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0
        rows.append([tuple(line[1 + 3 * x : 4 + 3 * x]) for x in range(width)])  # type: ignore[misc]
    return width, height, rows


def test_encode_png_round_trips_pixels() -> None:
    pixels = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90])

    width, height, rows = decode(encode_png(3, 2, pixels))

    assert (width, height) == (3, 2)
    assert rows == [
        [(255, 0, 0), (0, 255, 0), (0, 0, 255)],
        [(10, 20, 30), (40, 50, 60), (70, 80, 90)],
    ]
    assert encode_png(3, 2, pixels).startswith(PNG_SIGNATURE)


def test_encode_png_refuses_pixels_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        encode_png(2, 2, b"\x00" * 11)


def bar_top(rows: Pixels, x: int, colour: tuple[int, int, int]) -> int | None:
    """The height of the bar of `colour` in column `x` (None: no bar)."""
    column = [y for y in range(len(rows)) if rows[y][x] == colour]
    if not column:
        return None
    assert column == list(range(column[0], column[-1] + 1))  # one solid run
    return column[-1] - column[0] + 1


def test_bars_are_scaled_to_the_highest_value_in_their_colours() -> None:
    groups = [[4, 2, 0, 1], [8, 0, 6, 3]]

    width, height, rows = decode(bar_chart(groups))

    assert height == PLOT_HEIGHT + 2 * MARGIN
    assert rows[0][0] == BACKGROUND
    for g, group in enumerate(groups):
        for i, value in enumerate(group):
            x = bar_left(g, i, 4) + BAR // 2
            expected = round(PLOT_HEIGHT * value / 8) if value else None
            assert bar_top(rows, x, PALETTE[i]) == expected, (g, i)
    # The groups are apart: background between them.
    gap = bar_left(1, 0, 4) - 2
    assert rows[MARGIN + PLOT_HEIGHT - 1][gap] == BACKGROUND
    assert width == bar_left(1, 3, 4) + BAR + MARGIN


def test_an_empty_chart_is_still_a_picture() -> None:
    width, height, rows = decode(bar_chart([[0, 0, 0, 0]]))

    assert width > 0 and height > 0
    assert not any(pixel in PALETTE for row in rows for pixel in row)


def test_the_activity_chart_has_a_group_per_week_in_capability_order() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    weeks = [
        WeekActivity(start, {"kudos": 5, "qa": 0, "skills": 0, "lunchlearn": 0}),
        WeekActivity(
            start + timedelta(days=7), {"kudos": 0, "qa": 3, "skills": 1, "lunchlearn": 2}
        ),
    ]

    _, _, rows = decode(activity_chart(weeks))

    assert bar_top(rows, bar_left(0, 0, 4) + 1, PALETTE[0]) == PLOT_HEIGHT
    assert bar_top(rows, bar_left(1, 1, 4) + 1, PALETTE[1]) == round(PLOT_HEIGHT * 3 / 5)
    assert bar_top(rows, bar_left(1, 3, 4) + 1, PALETTE[3]) == round(PLOT_HEIGHT * 2 / 5)
    assert activity_legend() == "kudos gold, Q&A blue, skills green, lunch-and-learn red"
    assert len(CAPABILITIES) == 4
