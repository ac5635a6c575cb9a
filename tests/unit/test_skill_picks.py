"""The Edit skills form's picks: folded like typed names, levels only those the form offers."""

from __future__ import annotations

import pytest

from bot.domain.skill_names import SkillNames
from bot.domain.skills import SkillsRefused, read_picked

NAMES = SkillNames()


def test_picks_are_folded_and_aliased_and_merged() -> None:
    picked = [("Machine Learning", "expert"), ("k8s", "learning"), ("kubernetes", "expert")]

    assert read_picked(picked, NAMES) == [("machine-learning", "expert"), ("kubernetes", "expert")]


@pytest.mark.parametrize("value", ["", "  ", "=()", "@@", "#"])
def test_a_value_that_folds_to_nothing_is_refused(value: str) -> None:
    with pytest.raises(SkillsRefused, match="isn't a skill name"):
        read_picked([(value, "expert")], NAMES)


@pytest.mark.parametrize("level", ["", "guru", "Expert", "=1+1"])
def test_a_level_the_form_does_not_offer_is_refused(level: str) -> None:
    with pytest.raises(SkillsRefused, match="isn't a level I know"):
        read_picked([("python", level)], NAMES)
