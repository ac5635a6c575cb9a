"""Reaction kudos: the kudos emoji on a message gives its author kudos from the reactor.

Adding is recorded as owed work before the ack and done right after it (or by the tick, if
that fails): the event carries no thread or bot information, so the message is fetched
first. Removing is a database write only, done before the ack so an acked removal is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import REACTION, Announce, GiveKudos, check_receivers
from bot.domain.refused import Refused
from bot.domain.workspace import Workspace
from bot.services import Services
from handlers.effects import EffectRunner
from handlers.kudos import give
from handlers.messages import emoji_name, fetch_message, still_reacted
from handlers.people import PersonNotFound, profiles
from handlers.seam import WORKSPACE, Owed, People, Seam, doing, perform_owed, settings_of
from handlers.slack_time import from_ts

log = logging.getLogger("guildbot.handlers.kudos_reactions")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    kudos_reaction = [is_kudos_reaction]
    app.event("reaction_added", matchers=kudos_reaction)(**on(owe_reaction_kudos, perform_owed))
    app.event("reaction_removed", matchers=kudos_reaction)(**on(withdraw_reaction, perform_owed))
    effects.performs(REACTION, on.performer(give_for_reaction))


async def is_kudos_reaction(event: dict, context: AsyncBoltContext) -> bool:
    workspace: Workspace = context[WORKSPACE]
    item = event.get("item") or {}
    # Without item_user the item is not a person's message (a file, or an app's post).
    return (
        emoji_name(event.get("reaction", "")) == workspace.settings.kudos_emoji
        and item.get("type") == "message"
        and bool(event.get("item_user"))
    )


async def owe_reaction_kudos(
    ack: AsyncAck, event: dict, body: dict, workspace: Workspace, services: Services
) -> Owed:
    """Records the reaction as owed work before the ack: reading the message and giving
    the kudos happen after it, and survive a crash or a slow Slack."""
    owed = await services.run(
        services.kudos.owe_reaction,
        workspace.team_id,
        event["item"]["channel"],
        event["item"]["ts"],
        event["user"],
        event["item_user"],
        body["event_id"],
        event.get("event_ts"),
    )
    await ack()
    return Owed.of(owed)


@doing("take the kudos back")
async def withdraw_reaction(
    ack: AsyncAck,
    event: dict,
    body: dict,
    at: datetime | None,
    people: People,
    workspace: Workspace,
    services: Services,
) -> Owed | None:
    remover = await people.one(event["user"])
    revoked = await services.run(
        services.kudos.withdraw_reaction,
        workspace.team_id,
        event["item"]["channel"],
        event["item"]["ts"],
        remover,
        body["event_id"],
        at,
    )
    await ack()
    if revoked is None:
        return None
    services.forwarder.wake()
    return Owed.of(revoked.effects)


async def give_for_reaction(
    services: Services, effects: EffectRunner, client: AsyncWebClient, effect: OwedEffect
) -> Mapping[str, Any] | None:
    owed = effect.payload
    channel, ts, reactor_id = owed["channel"], owed["ts"], owed["reactor"]
    message = await fetch_message(client, channel, ts)
    if message is None or message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    if not still_reacted(message, reactor_id, settings_of(services, effect.team_id).kudos_emoji):
        return None  # Removed again before we got here: nothing to give.
    thread_ts = message.get("thread_ts") or ts
    try:
        request = await _request(services, client, effect, thread_ts)
        if request is None:
            return None
        permalink = (await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
        given = await give(services, replace(request, permalink=permalink))
    except Refused as refusal:
        await _tell_reactor(client, channel, thread_ts, reactor_id, refusal.message)
        return None
    if not given.newly_recorded:
        return None  # A second skin tone of the same emoji.
    await effects.perform_now(client, given.effects)
    return {"kudos": list(given.kudos_ids)}


async def _request(
    services: Services, client: AsyncWebClient, effect: OwedEffect, thread_ts: str
) -> GiveKudos | None:
    """The kudos the reaction asks for; None when its author is not someone to thank."""
    owed = effect.payload
    reactor_id, author_id = owed["reactor"], owed["author"]
    try:
        people = await profiles(services, client, effect.team_id, [reactor_id, author_id])
    except PersonNotFound:
        return None
    author = people[author_id]
    if author.is_bot:
        return None
    check_receivers(reactor_id, [author])
    return GiveKudos(
        team_id=effect.team_id,
        giver=people[reactor_id],
        receivers=(author,),
        reason="",
        values=(),
        channel_id=owed["channel"],
        source="reaction",
        source_key=f"reaction:{owed['event_id']}",
        message_ts=owed["ts"],
        announce=Announce(owed["channel"], thread_ts=thread_ts),
        given_at=from_ts(owed.get("event_ts")),
    )


async def _tell_reactor(
    client: AsyncWebClient, channel: str, thread_ts: str, user_id: str, text: str
) -> None:
    """Why a reaction gave nothing, to the reactor only; a reply whose moment passes is not
    worth retrying, so a failure is logged and dropped."""
    try:
        await client.chat_postEphemeral(
            channel=channel, user=user_id, thread_ts=thread_ts, text=text
        )
    except Exception:
        log.warning("could not tell %s why their reaction gave nothing", user_id, exc_info=True)
