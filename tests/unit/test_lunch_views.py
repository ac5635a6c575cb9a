"""Lunch-and-learn views for a session whose presenter was erased: "a former colleague"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.digest import Digest, Period
from bot.domain.lunchlearn import Lunch
from bot.views.digest import digest_blocks
from bot.views.lunchlearn import announcement_blocks, list_blocks

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def lunch(presenter_id: str | None) -> Lunch:
    return Lunch(
        id="6f1c2a4e-8b7d-5c3e-9a1f-0d2b4c6e8f10",
        team_id="T0GUILD",
        short_id="ABCD",
        title="Intro to pytest",
        description="Fixtures and parametrize.",
        tags=("python",),
        organiser_id=None,
        presenter_id=presenter_id,
        starts_at=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
        duration_minutes=45,
        place="Room 4",
        channel_id="C0LUNCH",
    )


def digest(upcoming: Lunch) -> Digest:
    return Digest(
        period=Period(NOW, NOW),
        timezone="UTC",
        kudos=0,
        givers=0,
        receivers=0,
        values=[],
        asked=0,
        answered=0,
        accepted=0,
        waiting=0,
        oldest_waiting=[],
        helpers=[],
        upcoming=[upcoming],
        gaps=[],
        activity=[],
    )


def shown(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


@pytest.mark.parametrize(
    "render",
    [
        lambda s: announcement_blocks(s, 0, 0, False),
        lambda s: list_blocks([(s, None)]),
        lambda s: digest_blocks(digest(s)),
    ],
    ids=["announcement", "list", "digest"],
)
def test_an_erased_presenter_shows_as_a_former_colleague(render: Any) -> None:
    assert "<@U0CAT>" in shown(render(lunch("U0CAT")))

    text = shown(render(lunch(None)))

    assert "a former colleague" in text
    assert "<@None>" not in text and "<@>" not in text
