"""The weekly-activity chart as a PNG, drawn with matplotlib's Agg backend.

Grouped bars: one group per week (labelled with the week's first day), one bar per capability
in fixed colours, the count of interactions on the y axis, a legend and a title naming the
period. 1200 × 675 pixels (16:9): Slack's preview shrinks it to about half, where its text is
still legible.

matplotlib (with numpy) costs about half a second and 50 MB the first time it is imported, so
it is imported here, when a chart is drawn, never when the bot starts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.reporting import CAPABILITIES, CAPABILITY_NAMES, WeekActivity

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Kudos gold, Q&A blue, skills green, lunch-and-learn red: distinguishable for the common
# forms of colour blindness (Okabe–Ito palette).
PALETTE: tuple[str, ...] = ("#E69F00", "#0072B2", "#009E73", "#D55E00")
COLOUR_NAMES = ("gold", "blue", "green", "red")
WIDTH_PX, HEIGHT_PX, DPI = 1200, 675, 150
TEXT = "#1d1c1d"
MUTED = "#616061"


def activity_chart(weeks: Sequence[WeekActivity], until: datetime | None = None) -> bytes:
    """Weekly activity by capability as PNG bytes: data in, picture out (no files, no global
    matplotlib state, so it is safe in a worker thread). `until` (exclusive) ends the period
    named in the title when the last week is cut short."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    series = len(CAPABILITIES)
    width = 0.8 / series
    for index, capability in enumerate(CAPABILITIES):
        axes.bar(
            [w + (index - (series - 1) / 2) * width for w in range(len(weeks))],
            [week.counts.get(capability, 0) for week in weeks],
            width=width,
            color=PALETTE[index],
            label=CAPABILITY_NAMES[capability],
            zorder=2,
        )
    axes.set_xticks(range(len(weeks)), week_labels([week.start for week in weeks]))
    axes.set_xlim(-0.6, max(len(weeks), 1) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not any(week.counts.get(c, 0) for week in weeks for c in CAPABILITIES):
        axes.set_ylim(0, 1)
        axes.text(
            0.5,
            0.5,
            "No activity in this period",
            transform=axes.transAxes,
            ha="center",
            va="center",
            color=MUTED,
        )
    _style(axes)
    axes.set_xlabel("Week starting (UTC)", color=MUTED)
    axes.set_ylabel("Interactions", color=MUTED)
    figure.suptitle(
        f"Weekly activity: {period_text(weeks, until)}",
        x=0.02,
        ha="left",
        color=TEXT,
        fontsize=12,
        fontweight="bold",
    )
    figure.legend(loc="outside right upper", frameon=False, labelcolor=TEXT)
    output = io.BytesIO()
    figure.savefig(output, format="png", facecolor="white")
    return output.getvalue()


def _style(axes: Axes) -> None:
    """Light horizontal grid behind the bars, no box: the bars carry the message."""
    axes.grid(axis="y", color="#e5e5e5", linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color("#9a9a9a")
    axes.tick_params(colors=MUTED, labelsize=9, length=0)


def week_labels(starts: Sequence[datetime]) -> list[str]:
    """A label per week such as 2 Nov; the year under the first week and wherever it changes."""
    labels = []
    for index, start in enumerate(starts):
        label = f"{start.day} {start:%b}"
        if index == 0 or start.year != starts[index - 1].year:
            label += f"\n{start.year}"
        labels.append(label)
    return labels


def period_text(weeks: Sequence[WeekActivity], until: datetime | None = None) -> str:
    """The period for the title, e.g. 2 Nov – 29 Nov 2026: the first day of the first week to the
    last day of the last (or the day before `until`)."""
    if not weeks:
        return "no weeks"
    first = weeks[0].start
    last = until - timedelta(microseconds=1) if until else weeks[-1].start + timedelta(days=6)
    if first.date() == last.date():
        return f"{first.day} {first:%b} {first.year}"
    year = "" if first.year == last.year else f" {first.year}"
    return f"{first.day} {first:%b}{year} – {last.day} {last:%b} {last.year}"


def activity_legend() -> str:
    """What the colours mean, for the text shown with the chart."""
    return ", ".join(
        f"{CAPABILITY_NAMES[c]} {colour}"
        for c, colour in zip(CAPABILITIES, COLOUR_NAMES, strict=True)
    )
