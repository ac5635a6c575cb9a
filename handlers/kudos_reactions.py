"""Reaction kudos: the kudos emoji on a message gives its author kudos from the reactor.

Adding is recorded as owed work before the ack and done right after it (or by the tick, if
that fails): the event carries no thread or bot information, so the message is fetched
first. Removing is a database write only, done before the ack so an acked removal is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import (
    REACTION,
    Announce,
    GiveKudos,
    KudosRefused,
    QuotaExceeded,
    check_receivers,
)
from bot.services import Services
from bot.views.kudos import quota_exceeded_text
from handlers.effects import EffectRunner
from handlers.guard import guarded
from handlers.messages import emoji_name, fetch_message, still_reacted
from handlers.people import PersonNotFound, profiles
from handlers.slack_time import from_ts, slack_time

log = logging.getLogger("guildbot.handlers.kudos_reactions")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    async def is_kudos_reaction(event: dict) -> bool:
        item = event.get("item") or {}
        # Without item_user the item is not a person's message (a file, or an app's post).
        return (
            emoji_name(event.get("reaction", "")) == services.settings.kudos_emoji
            and item.get("type") == "message"
            and bool(event.get("item_user"))
        )

    @guarded
    async def owe_reaction_kudos(
        ack: AsyncAck, event: dict, body: dict, context: AsyncBoltContext
    ) -> None:
        """Records the reaction as owed work before the ack: reading the message and giving
        the kudos happen after it, and survive a crash or a slow Slack."""
        context["owed"] = await services.run(
            services.kudos.owe_reaction,
            body["team_id"],
            event["item"]["channel"],
            event["item"]["ts"],
            event["user"],
            event["item_user"],
            body["event_id"],
            event.get("event_ts"),
        )
        await ack()

    @guarded
    async def do_owed(client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await effects.perform_now(client, context.get("owed") or [])

    async def give_for_reaction(
        client: AsyncWebClient, effect: OwedEffect
    ) -> Mapping[str, Any] | None:
        team_id, owed = effect.team_id, effect.payload
        reactor_id, author_id = owed["reactor"], owed["author"]
        channel, ts = owed["channel"], owed["ts"]
        message = await fetch_message(client, channel, ts)
        if message is None or message.get("bot_id") or message.get("subtype") == "bot_message":
            return None
        if not still_reacted(message, reactor_id, services.settings.kudos_emoji):
            return None  # Removed again before we got here: nothing to give.
        thread_ts = message.get("thread_ts") or ts
        try:
            people = await profiles(services, client, team_id, [reactor_id, author_id])
            author = people[author_id]
            if author.is_bot:
                return None
            check_receivers(reactor_id, [author])
        except PersonNotFound:
            return None
        except KudosRefused as refusal:
            await _tell_reactor(client, channel, thread_ts, reactor_id, refusal.message)
            return None
        permalink = (await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
        try:
            given = await services.run(
                services.kudos.give,
                GiveKudos(
                    team_id=team_id,
                    giver=people[reactor_id],
                    receivers=(author,),
                    reason="",
                    values=(),
                    channel_id=channel,
                    source="reaction",
                    source_key=f"reaction:{owed['event_id']}",
                    permalink=permalink,
                    message_ts=ts,
                    announce=Announce(channel, thread_ts=thread_ts),
                    given_at=from_ts(owed.get("event_ts")),
                ),
            )
        except QuotaExceeded as over:
            quota = over.quota
            text = quota_exceeded_text(quota.limit, quota.left, over.wanted, quota.resets_at)
            await _tell_reactor(client, channel, thread_ts, reactor_id, text)
            return None
        if not given.newly_recorded:
            return None  # A second skin tone of the same emoji.
        services.forwarder.wake()
        await effects.perform_now(client, given.effects)
        return {"kudos": list(given.kudos_ids)}

    @guarded
    async def withdraw_reaction(
        ack: AsyncAck, event: dict, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team_id, remover_id = body["team_id"], event["user"]
        remover = (await profiles(services, client, team_id, [remover_id]))[remover_id]
        revoked = await services.run(
            services.kudos.withdraw_reaction,
            team_id,
            event["item"]["channel"],
            event["item"]["ts"],
            remover,
            body["event_id"],
            slack_time(body),
        )
        if revoked is not None:
            services.forwarder.wake()
            context["owed"] = list(revoked.effects)
        await ack()

    effects.performs(REACTION, give_for_reaction)
    app.event("reaction_added", matchers=[is_kudos_reaction])(
        ack=owe_reaction_kudos, lazy=[do_owed]
    )
    app.event("reaction_removed", matchers=[is_kudos_reaction])(
        ack=withdraw_reaction, lazy=[do_owed]
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
