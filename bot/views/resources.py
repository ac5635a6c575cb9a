"""`/resources` results and `/share` answers (each resource drawn by bot/views/resource_list.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.resources import Hit
from bot.views.mrkdwn import escape, render, truncate
from bot.views.resource_list import resource_block

MAX_ECHO = 100


def _echo(typed: str) -> str:
    return truncate(render(" ".join(typed.split())), MAX_ECHO)


def results_text(typed: str, hits: Sequence[Hit]) -> str:
    if not hits:
        return f"No shared resource matches “{_echo(typed)}” yet."
    return f"Resources for “{_echo(typed)}”: " + "; ".join(escape(h.title) for h in hits)


def results_blocks(typed: str, hits: Sequence[Hit]) -> list[dict[str, Any]]:
    if not hits:
        return [
            _section(
                results_text(typed, hits)
                + " Share one with `/share <url> [title] #skill`, or post it in a community's "
                "channel."
            )
        ]
    return [_section(f"*Resources for “{_echo(typed)}”*"), *map(resource_block, hits)]


def shared_text(title: str, new: bool) -> str:
    if not new:
        return f"That was shared already, as *{escape(title)}*: it's findable with `/resources`."
    return f"Shared *{escape(title)}*. People find it with `/resources`."


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
