"""App Home's "Learn from": people to learn from (Ask, Say hi), communities to join, the
newest resources of your communities, and turning suggestions off or on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.resources import Hit
from bot.domain.suggestions import LearnFrom, Suggested
from bot.views.communities import JOIN_ACTION
from bot.views.mrkdwn import escape
from bot.views.resource_list import resource_block
from bot.views.skills import ASK_ACTION

SAY_HI_ACTION = "suggestion_say_hi"
STOP_ACTION = "suggestions_stop"
RESUME_ACTION = "suggestions_resume"


def _button(text: str, action_id: str, value: str = "", url: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
    }
    if value:
        button["value"] = value
    if url:
        button["url"] = url
    return button


def _person(suggested: Suggested, home_page: str) -> list[dict[str, Any]]:
    ask = json.dumps({"user": suggested.target_id, "topic": suggested.slug}, separators=(",", ":"))
    profile = f"{home_page.rstrip('/')}/team/{suggested.target_id}"
    return [
        _section(f"<@{suggested.target_id}>: {escape(suggested.reason)}"),
        {
            "type": "actions",
            "elements": [
                _button("Ask", ASK_ACTION, ask),
                _button("Say hi", SAY_HI_ACTION, suggested.target_id, profile),
            ],
        },
    ]


def _community(suggested: Suggested) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": f"*{escape(suggested.name)}* <#{suggested.channel_id}>: "
            f"{escape(suggested.reason)}",
        },
        "accessory": {**_button("Join", JOIN_ACTION, suggested.target_id), "style": "primary"},
    }


def learn_from_blocks(
    learn: LearnFrom, home_page: str, resources: Sequence[Hit] = ()
) -> list[dict[str, Any]]:
    if learn.opted_out:
        return [
            _section("*Learn from*\nYou turned suggestions off."),
            {"type": "actions", "elements": [_button("Suggest again", RESUME_ACTION)]},
        ]
    people = [s for s in learn.suggestions if s.kind == "person"]
    communities = [s for s in learn.suggestions if s.kind == "community"]
    blocks = [
        _section(
            "*Learn from*\n"
            + (
                "People with strong evidence in what you're learning (skills you set to "
                "`learning`, and what you asked about):"
                if people
                else "Nobody yet: set a skill to `learning` (`/skills add kafka:learning`) or "
                "ask about it, and I'll suggest people who know it."
            )
        )
    ]
    for suggested in people:
        blocks += _person(suggested, home_page)
    if communities:
        blocks.append(_section("*Communities to join*"))
        blocks += [_community(s) for s in communities]
    if resources:
        blocks.append(_section("*New in your communities*"))
        blocks += [resource_block(hit) for hit in resources]
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Suggestions are refreshed daily from the evidence shown.",
                }
            ],
        }
    )
    blocks.append({"type": "actions", "elements": [_button("Stop suggestions", STOP_ACTION)]})
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
