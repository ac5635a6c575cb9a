"""`/kudos`: recognition by slash command.

Before the ack: read the text, look up the people (cached), store the kudos with its
statements. After the ack: post the recognition.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import (
    RECOGNITION,
    UNDO_WINDOW,
    UNPOST,
    Announce,
    GiveKudos,
    KudosGiven,
    QuotaExceeded,
    Recognition,
    check_receivers,
    read_intent,
    read_period,
)
from bot.domain.refused import Refused
from bot.services import Services
from bot.slack_client import slack_response_url
from bot.views.help import command_help_text, kudos_help
from bot.views.kudos import (
    PERIOD_TITLES,
    UNDO_ACTION,
    confirmation_blocks,
    confirmation_text,
    leaderboard_blocks,
    quota_exceeded_text,
    recognition_blocks,
    recognition_text,
    undone_text,
)
from handlers.effects import EffectRunner, Recorded, post_once
from handlers.guard import error_code
from handlers.home import refresh_homes
from handlers.seam import Owed, Seam, Turn, doing, perform_owed, says, subcommand

log = logging.getLogger("guildbot.handlers.kudos")

# chat.postMessage cannot reach these; the command's response_url still can.
UNREACHABLE_BY_BOT = {"channel_not_found", "not_in_channel", "is_archived"}


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.command("/kudos", matchers=[says("", "help")])(**on(show_help))
    app.command("/kudos", matchers=[subcommand("leaderboard")])(**on(show_leaderboard))
    app.command("/kudos")(**on(give_kudos, perform_owed))
    app.action(UNDO_ACTION)(**on(undo_kudos, finish_undo))
    effects.performs(RECOGNITION, on.performer(perform_recognition))
    effects.performs(UNPOST, on.performer(perform_unpost))


async def show_help(ack: AsyncAck, turn: Turn) -> None:
    await ack(text=command_help_text(kudos_help(turn.settings.kudos_emoji)))


@doing("send the kudos")
async def give_kudos(ack: AsyncAck, command: dict, turn: Turn) -> Owed:
    intent = read_intent(command["text"].strip())
    response_url = slack_response_url(command.get("response_url"), turn.services.settings)
    given = await give(
        turn,
        intent.receiver_ids,
        reason=intent.reason,
        values=intent.values,
        channel_id=command["channel_id"],
        source="command",
        source_key=command["trigger_id"],
        announce=Announce(command["channel_id"], response_url=response_url),
    )
    confirmation = confirmation_text(intent.receiver_ids, given.quota.left)
    await ack(text=confirmation, blocks=confirmation_blocks(confirmation, command["trigger_id"]))
    return Owed.of(given.effects)


async def give(turn: Turn, receiver_ids: Sequence[str], **kudos: Any) -> KudosGiven:
    """The acting person gives kudos to these people (`kudos`: the rest of `GiveKudos`);
    over their quota is a refusal saying when it resets."""
    found = await turn.people(*receiver_ids)
    receivers = tuple(found[uid] for uid in receiver_ids)
    check_receivers(turn.actor.user_id, receivers)
    return await store(turn, GiveKudos(turn.team_id, turn.actor, receivers, **kudos))


async def store(turn: Turn, request: GiveKudos) -> KudosGiven:
    """Stores the kudos; over the giver's quota is a refusal saying when it resets."""
    try:
        return await turn.record(turn.services.kudos.give, request, turn.settings)
    except QuotaExceeded as over:
        quota = over.quota
        text = quota_exceeded_text(quota.limit, quota.left, over.wanted, quota.resets_at)
        raise Refused(text) from None


@doing("show the leaderboard")
async def show_leaderboard(ack: AsyncAck, command: dict, turn: Turn) -> None:
    period = read_period(command["text"].strip().partition(" ")[2])
    board = await turn.services.run(
        turn.services.kudos.leaderboard, turn.team_id, period, turn.actor.tz
    )
    await ack(
        text=f"Kudos leaderboard, {PERIOD_TITLES[period]}",
        blocks=leaderboard_blocks(
            period,
            [(s.user_id, s.count) for s in board.receivers],
            [(s.user_id, s.count) for s in board.givers],
        ),
    )


# Undo -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Undone:
    receiver_ids: tuple[str, ...]
    owed: Owed


@doing("undo the kudos")
async def undo_kudos(ack: AsyncAck, body: dict, turn: Turn) -> Undone:
    key = body["actions"][0]["value"]
    revoked = await turn.record(turn.services.kudos.undo, turn.team_id, key, turn.actor, turn.at)
    await ack()
    return Undone(tuple(revoked.receiver_ids), Owed.of(revoked.effects))


async def finish_undo(handoff: Undone, respond: AsyncRespond, turn: Turn) -> None:
    await turn.perform(handoff.owed)
    await respond(text=undone_text(handoff.receiver_ids), replace_original=True)


# What the kudos owe Slack ---------------------------------------------------------------


async def perform_recognition(
    turn: Turn, effect: OwedEffect
) -> Recorded | Mapping[str, Any] | None:
    """Posts the recognition of kudos still standing, then confirms to the giver when the
    form asked for it, and redraws the App Home of everyone involved. Where it was posted is
    recorded with the effect's completion (kudos taken back meanwhile then owe its removal)."""
    services = turn.services
    recognition = await services.run(services.kudos.recognition, effect.payload["kudos"])
    if recognition is None:
        return None  # taken back (or erased) before it was posted
    ts = await _post_recognition(turn, effect, recognition)
    confirm = effect.payload.get("confirm")
    if confirm and services.clock() - effect.created_at < UNDO_WINDOW:
        await _confirm(turn, effect, recognition, confirm, ts is not None)
    receivers = list(recognition.receiver_ids)
    await refresh_homes(services, turn.client, turn.team_id, [recognition.giver_id, *receivers])
    if ts is None:
        return {"via": "response_url"}
    record = functools.partial(
        services.kudos.record_post,
        turn.team_id,
        recognition.kudos_ids,
        effect.payload["channel"],
        ts,
    )
    return Recorded({"ts": ts}, record)


async def _post_recognition(turn: Turn, effect: OwedEffect, recognition: Recognition) -> str | None:
    """Posts it where the kudos were given and returns its ts; answers in place where the bot
    cannot post (None)."""
    client, owed = turn.client, effect.payload
    channel, thread_ts = owed["channel"], owed.get("thread_ts")
    text = recognition_text(recognition.giver_id, recognition.receiver_ids, recognition.reason)
    blocks = recognition_blocks(
        recognition.giver_id, recognition.receiver_ids, recognition.reason, recognition.values
    )
    try:
        return await post_once(client, effect, channel, text, blocks, thread_ts)
    except SlackApiError as error:
        if error_code(error) not in UNREACHABLE_BY_BOT or not owed.get("response_url"):
            raise
        # A private channel without the bot, or a DM between people: answer in place.
        await turn.effects.respond(effect, text, blocks, "in_channel")
        return None


async def _confirm(
    turn: Turn,
    effect: OwedEffect,
    recognition: Recognition,
    confirm: Mapping[str, Any],
    posted: bool,
) -> None:
    """The giver's private confirmation with Undo (best effort: the kudos stand anyway)."""
    text = confirmation_text(recognition.receiver_ids, confirm["left"])
    blocks = confirmation_blocks(text, confirm["source_key"])
    owed = effect.payload
    try:
        if posted:
            await turn.client.chat_postEphemeral(
                channel=owed["channel"],
                user=recognition.giver_id,
                thread_ts=owed.get("thread_ts"),
                text=text,
                blocks=blocks,
            )
        else:
            await turn.effects.respond(effect, text, blocks, "ephemeral")
    except Exception:
        log.warning("could not confirm kudos %s to the giver", effect.key, exc_info=True)


async def perform_unpost(turn: Turn, effect: OwedEffect) -> None:
    await delete_post(turn.client, effect.payload["channel"], effect.payload["ts"])


async def delete_post(client: AsyncWebClient, channel: str, ts: str) -> None:
    """Deletes a recognition post whose kudos were revoked."""
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except SlackApiError as error:
        # Someone deleted it already: the kudos are revoked all the same.
        if error_code(error) != "message_not_found":
            raise
