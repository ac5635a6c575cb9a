"""A weekly-activity bar chart as a PNG, with nothing but zlib and struct.

One group of bars per week, one bar per capability, in fixed colours (no text: the colours
are named wherever the chart is shown). The encoder writes 8-bit RGB, one IDAT chunk.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from bot.domain.reporting import CAPABILITIES, CAPABILITY_NAMES, WeekActivity

Colour = tuple[int, int, int]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BACKGROUND: Colour = (255, 255, 255)
AXIS: Colour = (90, 90, 90)
GRID: Colour = (232, 232, 232)
# Kudos gold, Q&A blue, skills green, lunch-and-learn red: distinguishable for the common
# forms of colour blindness (Okabe–Ito palette).
PALETTE: tuple[Colour, ...] = ((230, 159, 0), (0, 114, 178), (0, 158, 115), (213, 94, 0))
COLOUR_NAMES = ("gold", "blue", "green", "red")

BAR = 10
GAP = 14
MARGIN = 16
PLOT_HEIGHT = 200
GRID_LINES = 4


def encode_png(width: int, height: int, rgb: bytes) -> bytes:
    """A PNG of `width` × `height` pixels from rows of RGB bytes, top row first."""
    if width <= 0 or height <= 0 or len(rgb) != width * height * 3:
        raise ValueError("pixel data does not match the size")
    stride = width * 3
    # Filter type 0 (None) before each row.
    raw = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


class Canvas:
    def __init__(self, width: int, height: int, background: Colour = BACKGROUND) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(bytes(background) * (width * height))

    def fill(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        """Fills [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        row = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def pixel(self, x: int, y: int) -> Colour:
        start = (y * self.width + x) * 3
        r, g, b = self.pixels[start : start + 3]
        return (r, g, b)

    def png(self) -> bytes:
        return encode_png(self.width, self.height, bytes(self.pixels))


def bar_layout(groups: int, series: int) -> tuple[int, int]:
    """The canvas size for `groups` groups of `series` bars."""
    width = 2 * MARGIN + max(1, groups) * (series * BAR + GAP) - GAP
    return width, PLOT_HEIGHT + 2 * MARGIN


def bar_left(group: int, index: int, series: int) -> int:
    """The left edge of bar `index` in group `group`."""
    return MARGIN + group * (series * BAR + GAP) + index * BAR


def bar_height(value: int, highest: int) -> int:
    if value <= 0 or highest <= 0:
        return 0
    return max(1, round(PLOT_HEIGHT * value / highest))


def bar_chart(groups: Sequence[Sequence[int]], palette: Sequence[Colour] = PALETTE) -> bytes:
    """Grouped bars, one group per entry of `groups`, bar `i` of each in `palette[i]`, scaled
    so the highest value fills the plot; light grid lines at quarters of it."""
    series = max((len(g) for g in groups), default=len(palette))
    if series > len(palette):
        raise ValueError("more series than colours")
    width, height = bar_layout(len(groups), series)
    canvas = Canvas(width, height)
    baseline = MARGIN + PLOT_HEIGHT  # the first row below the plot
    for line in range(1, GRID_LINES + 1):
        y = baseline - round(PLOT_HEIGHT * line / GRID_LINES)
        canvas.fill(MARGIN, y, width - MARGIN, y + 1, GRID)
    highest = max((value for group in groups for value in group), default=0)
    for g, group in enumerate(groups):
        for i, value in enumerate(group):
            top = baseline - bar_height(value, highest)
            left = bar_left(g, i, series)
            canvas.fill(left, top, left + BAR - 1, baseline, palette[i])
    canvas.fill(MARGIN - 4, baseline, width - MARGIN + 4, baseline + 2, AXIS)
    return canvas.png()


def activity_chart(weeks: Sequence[WeekActivity]) -> bytes:
    """Weekly activity by capability: a group per week, bars in `CAPABILITIES` order."""
    return bar_chart([[week.counts[c] for c in CAPABILITIES] for week in weeks])


def activity_legend() -> str:
    """What the colours mean, for the text shown with the chart."""
    return ", ".join(
        f"{CAPABILITY_NAMES[c]} {colour}"
        for c, colour in zip(CAPABILITIES, COLOUR_NAMES, strict=True)
    )
