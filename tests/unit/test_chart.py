"""The weekly-activity chart: a PNG of the size Slack previews well, with bars in the
capabilities' colours, scaled to the counts, dated weeks, a legend and a title."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from bot.domain.reporting import CAPABILITIES, WeekActivity
from bot.views.chart import (
    HEIGHT_PX,
    PALETTE,
    WIDTH_PX,
    activity_chart,
    activity_legend,
    period_text,
    week_labels,
)

START = datetime(2026, 11, 2, tzinfo=UTC)
Pixel = tuple[int, int, int]


def week(offset: int, **counts: int) -> WeekActivity:
    return WeekActivity(
        START + timedelta(days=7 * offset), {c: counts.get(c, 0) for c in CAPABILITIES}
    )


def picture(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(png)).convert("RGB")


def rgb(colour: str) -> Pixel:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def tallest_run(image: Image.Image, colour: Pixel) -> int:
    """The longest vertical run of `colour` in any column: the tallest bar drawn in it (legend
    swatches are a few pixels high)."""
    width, height = image.size
    pixels = image.load()
    best = 0
    for x in range(width):
        run = 0
        for y in range(height):
            run = run + 1 if pixels[x, y] == colour else 0
            best = max(best, run)
    return best


def test_the_chart_is_a_png_sized_for_slacks_preview_and_not_blank() -> None:
    image = picture(activity_chart([week(0, kudos=5, qa=3), week(1, skills=2, lunchlearn=1)]))

    assert image.size == (WIDTH_PX, HEIGHT_PX) == (1200, 675)
    colours = image.getcolors(maxcolors=WIDTH_PX * HEIGHT_PX)
    assert colours is not None and len(colours) > 50, "text, axes and bars, not one flat fill"
    white = max(colours)[1]
    assert white == (255, 255, 255), "mostly background"
    present = {pixel for _, pixel in colours}
    assert {rgb(c) for c in PALETTE} <= present


def test_bars_are_scaled_to_the_counts_in_their_capabilitys_colour() -> None:
    image = picture(activity_chart([week(0, kudos=5), week(1, qa=3, lunchlearn=2)]))

    kudos, qa, skills, lunchlearn = (tallest_run(image, rgb(c)) for c in PALETTE)

    assert kudos > 250, "the highest count fills most of the plot"
    assert abs(qa / kudos - 3 / 5) < 0.02
    assert abs(lunchlearn / kudos - 2 / 5) < 0.02
    assert skills < 30, "no skills bar: only its legend swatch"


def test_an_empty_period_still_draws_its_axes_and_says_so() -> None:
    image = picture(activity_chart([week(0)], until=START + timedelta(days=3)))

    assert image.size == (WIDTH_PX, HEIGHT_PX)
    assert all(tallest_run(image, rgb(c)) < 30 for c in PALETTE)
    colours = image.getcolors(maxcolors=WIDTH_PX * HEIGHT_PX)
    assert colours is not None and len(colours) > 20


def test_weeks_are_labelled_by_their_first_day_with_the_year_where_it_changes() -> None:
    starts = [datetime(2026, 12, 21, tzinfo=UTC) + timedelta(days=7 * n) for n in range(3)]

    assert week_labels(starts) == ["21 Dec\n2026", "28 Dec", "4 Jan\n2027"]


def test_the_title_names_the_period() -> None:
    weeks = [week(0), week(1), week(2), week(3)]

    assert period_text(weeks) == "2 Nov – 29 Nov 2026"
    assert period_text(weeks, until=datetime(2026, 11, 25, tzinfo=UTC)) == "2 Nov – 24 Nov 2026"
    assert period_text(weeks, until=datetime(2026, 11, 3, tzinfo=UTC)) == "2 Nov 2026"
    new_year = WeekActivity(datetime(2026, 12, 28, tzinfo=UTC), {})
    assert period_text([new_year], until=datetime(2027, 1, 3, tzinfo=UTC)) == (
        "28 Dec 2026 – 2 Jan 2027"
    )


def test_the_legend_text_names_each_colour() -> None:
    assert activity_legend() == "kudos gold, Q&A blue, skills green, lunch-and-learn red"


def test_the_bot_starts_without_loading_matplotlib() -> None:
    """matplotlib and numpy cost about half a second and 50 MB: only a drawn chart pays."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.cli, bot.runtime, bot.playground.server, handlers.digest; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'numpy')))",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert loaded.stdout.strip() == "[]"
