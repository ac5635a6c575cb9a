"""Reading people's messages back from Slack, for capabilities that act on one after the ack
(an event names a message; what it says and who reacted to it now is Slack's to tell)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.guard import error_code

log = logging.getLogger("guildbot.handlers.messages")

# The bot is not in the channel, or the message is gone.
UNREADABLE = {"not_in_channel", "channel_not_found", "thread_not_found", "message_not_found"}


@dataclass(frozen=True)
class Reaction:
    """A `reaction_added` or `reaction_removed` event on a message: who, which emoji (any
    skin tone), on which message (and whose), when."""

    user_id: str
    emoji: str
    channel: str
    ts: str
    author_id: str | None
    event_id: str
    event_ts: str | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Reaction:
        event = body["event"]
        return cls(
            user_id=event["user"],
            emoji=emoji_name(event.get("reaction", "")),
            channel=event["item"]["channel"],
            ts=event["item"]["ts"],
            author_id=event.get("item_user"),
            event_id=body["event_id"],
            event_ts=event.get("event_ts"),
        )


def emoji_name(reaction: str) -> str:
    """`trophy::skin-tone-3` → `trophy`: every skin tone is the same emoji."""
    return reaction.split("::", 1)[0]


async def fetch_message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The message, top-level or a thread reply, or None when the bot can't read it (gone)."""
    try:
        found = await client.conversations_replies(
            channel=channel, ts=ts, oldest=ts, latest=ts, inclusive=True, limit=2
        )
    except SlackApiError as error:
        if error_code(error) in UNREADABLE:
            log.info("message %s in %s not readable: %s", ts, channel, error_code(error))
            return None
        raise
    return next((m for m in found.get("messages") or [] if m.get("ts") == ts), None)


def still_reacted(message: dict[str, Any], user_id: str, emoji: str) -> bool:
    """False only when the message's reactions show the person no longer has the emoji."""
    reactions = [r for r in message.get("reactions") or [] if emoji_name(r["name"]) == emoji]
    if any(user_id in r.get("users", []) for r in reactions):
        return True
    # Slack lists only some of the people when many reacted: absent from a partial list is unknown.
    return any(r.get("count", 0) > len(r.get("users", [])) for r in reactions)
