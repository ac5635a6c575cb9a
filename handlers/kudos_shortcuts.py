"""Message shortcuts: **Give kudos** on any message (threads included, where slash commands
cannot be used) and, for L&D admins, **Remove kudos** on a recognition post."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import (
    REMOVED_NOTICE,
    Announce,
    KudosRefused,
    check_reason,
    read_values,
)
from bot.domain.refused import Refused
from bot.domain.text import from_form
from bot.services import Services
from bot.slack_client import slack_response_url
from bot.views.kudos import (
    GIVE_KUDOS_SHORTCUT,
    GIVE_KUDOS_VIEW,
    REASON_BLOCK,
    REASON_INPUT,
    RECEIVERS_BLOCK,
    RECEIVERS_INPUT,
    REMOVE_KUDOS_SHORTCUT,
    VALUES_BLOCK,
    VALUES_INPUT,
    give_kudos_modal,
    removed_notice,
    removed_text,
)
from handlers.effects import EffectRunner, direct_message
from handlers.kudos import give
from handlers.seam import Owed, Seam, Turn, ack_only, doing, perform_owed

log = logging.getLogger("guildbot.handlers.kudos_shortcuts")

PERMALINK_TIMEOUT_S = 1.0
APP_MESSAGE = "That message was posted by an app, and kudos are for people."
SELF_MESSAGE = (
    "Kudos are for recognising others, so you can't give them for your own message. "
    "Know someone who helped? Use Give kudos on their message."
)


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.shortcut(GIVE_KUDOS_SHORTCUT)(**on(ack_only, open_give_form))
    app.view(GIVE_KUDOS_VIEW)(**on(give_from_form, perform_owed))
    app.shortcut(REMOVE_KUDOS_SHORTCUT)(**on(remove_kudos, finish_removal))
    effects.performs(REMOVED_NOTICE, on.performer(tell_giver))


async def open_give_form(body: dict, client: AsyncWebClient) -> None:
    message, user_id = body["message"], body["user"]["id"]
    author_id = message.get("user")
    if message.get("bot_id") or not author_id:
        raise Refused(APP_MESSAGE)
    if author_id == user_id:
        raise Refused(SELF_MESSAGE)
    channel = body["channel"]["id"]
    metadata = {
        "channel": channel,
        "message_ts": message["ts"],
        "thread_ts": message.get("thread_ts") or message["ts"],
        "permalink": await _permalink(client, channel, message["ts"]),
        "response_url": body.get("response_url"),
    }
    await client.views_open(
        trigger_id=body["trigger_id"], view=give_kudos_modal(author_id, json.dumps(metadata))
    )


@doing("send the kudos", field=RECEIVERS_BLOCK)
async def give_from_form(ack: AsyncAck, view: dict, turn: Turn) -> Owed:
    state = view["state"]["values"]
    receiver_ids = tuple(state[RECEIVERS_BLOCK][RECEIVERS_INPUT].get("selected_users") or [])
    reason = from_form(state[REASON_BLOCK][REASON_INPUT].get("value") or "").strip()
    metadata = json.loads(view["private_metadata"])
    try:
        check_reason(reason)
    except KudosRefused as refusal:
        raise Refused(refusal.message, field=REASON_BLOCK) from None
    given = await give(
        turn,
        receiver_ids,
        reason=reason,
        values=read_values(state[VALUES_BLOCK][VALUES_INPUT].get("value") or ""),
        channel_id=metadata["channel"],
        source="shortcut",
        source_key=f"shortcut:{view['id']}",
        permalink=metadata.get("permalink"),
        message_ts=metadata["message_ts"],
        announce=Announce(
            metadata["channel"],
            thread_ts=metadata["thread_ts"],
            response_url=slack_response_url(metadata.get("response_url"), turn.services.settings),
            confirm=True,
        ),
    )
    await ack()
    return Owed.of(given.effects)


@dataclass(frozen=True)
class Removed:
    giver_id: str
    receiver_ids: tuple[str, ...]
    owed: Owed


@doing("take the kudos back")
async def remove_kudos(ack: AsyncAck, shortcut: dict, turn: Turn) -> Removed:
    channel, ts = shortcut["channel"]["id"], shortcut["message"]["ts"]
    kudos = turn.services.kudos
    revoked = await turn.record(
        kudos.remove, turn.team_id, channel, ts, turn.actor, turn.settings, turn.at
    )
    await ack()
    return Removed(revoked.giver_id, tuple(revoked.receiver_ids), Owed.of(revoked.effects))


async def finish_removal(handoff: Removed, respond: AsyncRespond, turn: Turn) -> None:
    await turn.perform(handoff.owed)
    text = removed_text(handoff.receiver_ids, handoff.giver_id)
    await respond(text=text, response_type="ephemeral")


async def tell_giver(turn: Turn, effect: OwedEffect) -> None:
    """The giver's DM when an L&D admin removed their kudos."""
    removed = await turn.services.run(turn.services.kudos.removed, effect.payload["kudos"])
    if removed is None:
        return  # erased since
    text = removed_notice(effect.payload["admin"], removed.receiver_ids, removed.reason)
    await direct_message(turn.client, removed.giver_id, text)


async def _permalink(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    """The message's permalink for the xAPI context; the form opens without it if Slack is slow."""
    try:
        response = await asyncio.wait_for(
            client.chat_getPermalink(channel=channel, message_ts=ts), PERMALINK_TIMEOUT_S
        )
    except (TimeoutError, SlackApiError) as error:
        log.info("no permalink for %s/%s: %s", channel, ts, error)
        return None
    return response.get("permalink")
