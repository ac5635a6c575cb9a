"""Reaction kudos: the kudos emoji on a message gives its author kudos from the reactor.

Adding is recorded as owed work before the ack and done right after it (or by the tick, if
that fails): the event carries no thread or bot information, so the message is fetched
first. Removing is a database write only, done before the ack so an acked removal is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import REACTION, Announce, GiveKudos, check_receivers
from bot.domain.refused import Refused
from bot.services import Services
from handlers.effects import EffectRunner
from handlers.kudos import store
from handlers.messages import Reaction, emoji_name, fetch_message, still_reacted
from handlers.people import PersonNotFound, profiles
from handlers.seam import Owed, Seam, Turn, doing, perform_owed, workspace_in
from handlers.slack_time import from_ts

log = logging.getLogger("guildbot.handlers.kudos_reactions")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    kudos_reaction = [is_kudos_reaction]
    app.event("reaction_added", matchers=kudos_reaction)(**on(owe_reaction_kudos, perform_owed))
    app.event("reaction_removed", matchers=kudos_reaction)(**on(withdraw_reaction, perform_owed))
    effects.performs(REACTION, on.performer(give_for_reaction))


async def is_kudos_reaction(event: dict, context: AsyncBoltContext) -> bool:
    workspace = workspace_in(context)
    item = event.get("item") or {}
    # Without item_user the item is not a person's message (a file, or an app's post).
    return (
        emoji_name(event.get("reaction", "")) == workspace.settings.kudos_emoji
        and item.get("type") == "message"
        and bool(event.get("item_user"))
    )


async def owe_reaction_kudos(ack: AsyncAck, body: dict, turn: Turn) -> Owed:
    """Records the reaction as owed work before the ack: reading the message and giving
    the kudos happen after it, and survive a crash or a slow Slack."""
    reaction = Reaction.of(body)
    owed = await turn.services.run(
        turn.services.kudos.owe_reaction,
        turn.team_id,
        reaction.channel,
        reaction.ts,
        reaction.user_id,
        reaction.author_id,
        reaction.event_id,
        reaction.event_ts,
    )
    await ack()
    return Owed.of(owed)


@doing("take the kudos back")
async def withdraw_reaction(ack: AsyncAck, body: dict, turn: Turn) -> Owed | None:
    reaction = Reaction.of(body)
    remover = await turn.person(reaction.user_id)
    withdraw = turn.services.kudos.withdraw_reaction
    revoked = await turn.record(
        withdraw, turn.team_id, reaction.channel, reaction.ts, remover, reaction.event_id, turn.at
    )
    await ack()
    return Owed.of(revoked.effects) if revoked else None


async def give_for_reaction(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    owed = effect.payload
    channel, ts, reactor_id = owed["channel"], owed["ts"], owed["reactor"]
    message = await fetch_message(turn.client, channel, ts)
    if message is None or message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    if not still_reacted(message, reactor_id, turn.settings.kudos_emoji):
        return None  # Removed again before we got here: nothing to give.
    thread_ts = message.get("thread_ts") or ts
    try:
        request = await _request(turn, effect, thread_ts)
        if request is None:
            return None
        link = await turn.client.chat_getPermalink(channel=channel, message_ts=ts)
        given = await store(turn, replace(request, permalink=link["permalink"]))
    except Refused as refusal:
        await _tell_reactor(turn.client, channel, thread_ts, reactor_id, refusal.message)
        return None
    if not given.newly_recorded:
        return None  # A second skin tone of the same emoji.
    await turn.effects.perform_now(turn.client, given.effects)
    return {"kudos": list(given.kudos_ids)}


async def _request(turn: Turn, effect: OwedEffect, thread_ts: str) -> GiveKudos | None:
    """The kudos the reaction asks for; None when its author is not someone to thank."""
    owed = effect.payload
    reactor_id, author_id = owed["reactor"], owed["author"]
    try:
        people = await profiles(turn.services, turn.client, turn.team_id, [reactor_id, author_id])
    except PersonNotFound:
        return None
    author = people[author_id]
    if author.is_bot:
        return None
    check_receivers(reactor_id, [author])
    return GiveKudos(
        team_id=turn.team_id,
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
