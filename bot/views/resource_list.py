"""A list of shared resources, wherever one is shown (`/resources`, a community's page, App
Home's "Learn from"): each with an **Open** button that carries its address (Slack opens it
and tells guildbot of the click)."""

from __future__ import annotations

from typing import Any

from bot.domain.resources import Hit
from bot.views.mrkdwn import code, escape

OPEN_ACTION = "resource_open"
KIND_LABELS = {"link": "link", "document": "document", "video": "video"}


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
