"""Acks subscribed events that no capability wants.

Bolt answers 404 to an event no listener matches, and Slack then retries it and eventually
disables the subscription. Registered last, so every capability's listener is tried first.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import Services
from handlers.effects import EffectRunner

SUBSCRIBED_EVENTS = (
    "reaction_added",
    "reaction_removed",
    "message",
    "app_home_opened",
    "member_joined_channel",
    "member_left_channel",
    "app_uninstalled",
    "tokens_revoked",
)


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    async def ignore(ack: AsyncAck) -> None:
        await ack()

    for event_type in SUBSCRIBED_EVENTS:
        app.event(event_type)(ignore)
