"""Shared resources in Slack: `/resources` results and any list of resources, each with an
**Open** button that carries its address (Slack opens it and tells guildbot of the click)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.resources import Hit
from bot.views.mrkdwn import code, escape, render, truncate

OPEN_ACTION = "resource_open"
KIND_LABELS = {"link": "link", "document": "document", "video": "video"}
MAX_ECHO = 100


def resource_line(hit: Hit) -> str:
    """Its title as plain text (typed by someone), what it is, and why it ranks."""
    skills = " ".join(code(f"#{slug}") for slug in hit.skills[:5])
    stamp = int(hit.shared_at.timestamp())
    when = f"<!date^{stamp}^{{date_short}}|{hit.shared_at:%Y-%m-%d}>"
    who = f" by <@{hit.shared_by}>" if hit.shared_by else ""
    opened = "1 person" if hit.opens == 1 else f"{hit.opens} people"
    return (
        f"*{escape(hit.title)}* ({KIND_LABELS[hit.kind]}) {skills}\n"
        f"Shared{who} {when} · opened by {opened} · {hit.reactions} reactions"
    )


def resource_block(hit: Hit) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": resource_line(hit)},
        "accessory": {
            "type": "button",
            "action_id": OPEN_ACTION,
            "text": {"type": "plain_text", "text": "Open"},
            "url": hit.url,
            "value": hit.id,
        },
    }


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
