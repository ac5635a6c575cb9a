"""`/community` replies: the list with Join / Leave, one community's page, confirmations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.communities import Card, Page
from bot.views.mrkdwn import code, escape, render, truncate

JOIN_ACTION = "community_join"
SCHEDULE_ACTION = "community_schedule"
LEAVE_ACTION = "community_leave"
MAX_LISTED = 40  # a message holds at most 50 blocks


def _skills(skills: Sequence[str]) -> str:
    return " ".join(code(f"#{slug}") for slug in skills) or "no topic skills"


def _button(card: Card) -> dict[str, Any]:
    if card.member:
        return {
            "type": "button",
            "action_id": LEAVE_ACTION,
            "text": {"type": "plain_text", "text": "Leave"},
            "value": card.id,
        }
    return {
        "type": "button",
        "action_id": JOIN_ACTION,
        "text": {"type": "plain_text", "text": "Join"},
        "value": card.id,
        "style": "primary",
    }


def card_line(card: Card) -> str:
    members = "1 member" if card.members == 1 else f"{card.members} members"
    return (
        f"*{escape(card.name)}* <#{card.channel_id}> · {_skills(card.skills)}\n"
        f"{members} · {card.active_this_month} messages this month"
        + (" · you're a member" if card.member else "")
    )


def card_block(card: Card) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": card_line(card)},
        "accessory": _button(card),
    }


def directory_text(cards: Sequence[Card]) -> str:
    if not cards:
        return "No communities yet. Start one with `/community create <name> #skill`."
    return "Communities: " + ", ".join(card.name for card in cards)


def directory_blocks(cards: Sequence[Card]) -> list[dict[str, Any]]:
    if not cards:
        return [_section(directory_text(cards))]
    blocks: list[dict[str, Any]] = [_section("*Communities of practice*")]
    blocks += [card_block(card) for card in cards[:MAX_LISTED]]
    blocks.append(
        _context(
            "`/community <name>` shows one: its owners, top contributors, resources and sessions."
        )
    )
    return blocks


def page_text(page: Page) -> str:
    return f"Community {page.card.name}"


def session_line(title: str, starts_at: datetime) -> str:
    stamp = int(starts_at.timestamp())
    return f"• {escape(title)}, <!date^{stamp}^{{date_short_pretty}} {{time}}|{starts_at:%Y-%m-%d %H:%M} UTC>"


def page_blocks(
    page: Page, resources: Sequence[dict[str, Any]] = (), may_schedule: bool = False
) -> list[dict[str, Any]]:
    """`resources`: the blocks of its recent resources (with their Open buttons);
    `may_schedule`: the viewer may schedule a session from it (L&D)."""
    owners = ", ".join(f"<@{user}>" for user in page.owners) or "nobody now"
    top = ", ".join(f"<@{user}> ({count})" for user, count in page.top_contributors)
    lines = [
        card_line(page.card),
        f"Owners: {owners}",
        f"Top contributors (90 days): {top or 'nobody yet'}",
    ]
    if page.description:
        lines.insert(1, truncate(render(page.description), 500))
    sessions = [session_line(title, starts_at) for title, starts_at in page.sessions]
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "\n".join(lines)},
            "accessory": _button(page.card),
        },
        _section("*Recent resources*" + ("" if resources else "\nNone shared yet.")),
        *resources,
        _section("*Upcoming sessions*\n" + ("\n".join(sessions) or "None scheduled.")),
    ]
    if may_schedule:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": SCHEDULE_ACTION,
                        "text": {"type": "plain_text", "text": "Schedule a session"},
                        "value": page.card.id,
                    }
                ],
            }
        )
    return blocks


def creating_text(name: str) -> str:
    return f"Creating the community {escape(name)} and its channel; I'll invite you there."


def created_text(name: str, channel_id: str) -> str:
    return f"The community {escape(name)} is ready: <#{channel_id}>. You're its owner."


def linked_text(name: str, channel_id: str) -> str:
    return f"<#{channel_id}> is now the community {escape(name)}. You're its owner."


def name_taken_text(name: str) -> str:
    return (
        f"Slack already has a channel called #{escape(name)}, so no community was created. "
        f"Pick another name, or ask an L&D admin to `/community link` that channel."
    )


def joined_text(card_name: str, channel_id: str | None, new: bool) -> str:
    where = f" <#{channel_id}>" if channel_id else ""
    if not new:
        return f"You're already in {escape(card_name)}{where}."
    return f"Welcome to {escape(card_name)}! I've invited you to{where or ' its channel'}."


def left_text(card_name: str, new: bool) -> str:
    if not new:
        return f"You weren't a member of {escape(card_name)}."
    return f"You've left {escape(card_name)}."


def not_found_text(name: str) -> str:
    return f"There's no community called {code(name)}. `/community` lists them."


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
