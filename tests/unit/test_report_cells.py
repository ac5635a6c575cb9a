"""CSV cells of `guildbot report` never run as spreadsheet formulas."""

from __future__ import annotations

import pytest

from bot.domain.reporting import spreadsheet_safe


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("https://evil.example","x")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"]
)
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["python", "c++", "U0ANN", "a=b", "", "'quoted"])
def test_other_cells_are_left_alone(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell
