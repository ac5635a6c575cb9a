"""`/kudos`: recognition by slash command.

Before the ack: read the text, look up the people (cached), store the kudos with its
statements. After the ack: post the recognition.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import (
    RECOGNITION,
    UNDO_WINDOW,
    UNPOST,
    Announce,
    GiveKudos,
    KudosRefused,
    QuotaExceeded,
    Recognition,
    UndoRefused,
    check_receivers,
    read_intent,
    read_period,
)
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
from handlers.effects import EffectRunner, post_once
from handlers.guard import error_code, guarded, slack_slow
from handlers.home import refresh_homes
from handlers.people import PersonNotFound, profiles
from handlers.slack_time import slack_time

log = logging.getLogger("guildbot.handlers.kudos")

SLACK_SLOW = slack_slow("send the kudos")
# chat.postMessage cannot reach these; the command's response_url still can.
UNREACHABLE_BY_BOT = {"channel_not_found", "not_in_channel", "is_archived"}


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    @guarded
    async def give_kudos(
        ack: AsyncAck, command: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        text = (command.get("text") or "").strip()
        if text.lower() in ("", "help"):
            await ack(text=command_help_text(kudos_help(services.settings.kudos_emoji)))
            return
        first, _, rest = text.partition(" ")
        if first.lower() == "leaderboard":
            await show_leaderboard(ack, command, client, rest)
            return
        team_id, giver_id = command["team_id"], command["user_id"]
        try:
            intent = read_intent(text)
            people = await profiles(services, client, team_id, [giver_id, *intent.receiver_ids])
            receivers = tuple(people[uid] for uid in intent.receiver_ids)
            check_receivers(giver_id, receivers)
        except KudosRefused as refusal:
            await ack(text=refusal.message)
            return
        except PersonNotFound as missing:
            await ack(text=f"I couldn't find <@{missing.user_id}> in this workspace.")
            return
        except TimeoutError:
            await ack(text=SLACK_SLOW)
            return
        try:
            given = await services.run(
                services.kudos.give,
                GiveKudos(
                    team_id=team_id,
                    giver=people[giver_id],
                    receivers=receivers,
                    reason=intent.reason,
                    values=intent.values,
                    channel_id=command["channel_id"],
                    source="command",
                    source_key=command["trigger_id"],
                    announce=Announce(
                        command["channel_id"],
                        response_url=slack_response_url(
                            command.get("response_url"), services.settings
                        ),
                    ),
                ),
            )
        except QuotaExceeded as over:
            quota = over.quota
            await ack(
                text=quota_exceeded_text(quota.limit, quota.left, over.wanted, quota.resets_at)
            )
            return
        services.forwarder.wake()
        context["owed"] = list(given.effects)
        confirmation = confirmation_text(intent.receiver_ids, given.quota.left)
        await ack(
            text=confirmation, blocks=confirmation_blocks(confirmation, command["trigger_id"])
        )

    async def show_leaderboard(
        ack: AsyncAck, command: dict, client: AsyncWebClient, option: str
    ) -> None:
        try:
            period = read_period(option)
            viewer = (await profiles(services, client, command["team_id"], [command["user_id"]]))[
                command["user_id"]
            ]
        except KudosRefused as refusal:
            await ack(text=refusal.message)
            return
        except TimeoutError:
            await ack(text=slack_slow("show the leaderboard"))
            return
        board = await services.run(
            services.kudos.leaderboard, command["team_id"], period, viewer.tz
        )
        await ack(
            text=f"Kudos leaderboard, {PERIOD_TITLES[period]}",
            blocks=leaderboard_blocks(
                period,
                [(s.user_id, s.count) for s in board.receivers],
                [(s.user_id, s.count) for s in board.givers],
            ),
        )

    @guarded
    async def do_owed(client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await effects.perform_now(client, context.get("owed") or [])

    async def perform_recognition(
        client: AsyncWebClient, effect: OwedEffect
    ) -> Mapping[str, Any] | None:
        """Posts the recognition of kudos still standing, then confirms to the giver when the
        form asked for it, and redraws the App Home of everyone involved."""
        owed = effect.payload
        recognition = await services.run(services.kudos.recognition, owed["kudos"])
        if recognition is None:
            return None  # taken back (or erased) before it was posted
        channel, thread_ts = owed["channel"], owed.get("thread_ts")
        text = recognition_text(recognition.giver_id, recognition.receiver_ids, recognition.reason)
        blocks = recognition_blocks(
            recognition.giver_id, recognition.receiver_ids, recognition.reason, recognition.values
        )
        try:
            ts = await post_once(client, effect, channel, text, blocks, thread_ts)
        except SlackApiError as error:
            if error_code(error) not in UNREACHABLE_BY_BOT or not owed.get("response_url"):
                raise
            # A private channel without the bot, or a DM between people: answer in place.
            await effects.respond(effect, text, blocks, "in_channel")
            result: dict[str, Any] = {"via": "response_url"}
        else:
            if not await services.run(services.kudos.record_post, recognition.kudos_ids, ts):
                await delete_post(client, channel, ts)  # undone while it was being posted
                return {"ts": ts, "deleted": True}
            result = {"ts": ts}
        confirm = owed.get("confirm")
        if confirm and services.clock() - effect.created_at < UNDO_WINDOW:
            await _confirm(client, effect, recognition, confirm, "ts" in result)
        receivers = list(recognition.receiver_ids)
        await refresh_homes(services, client, effect.team_id, [recognition.giver_id, *receivers])
        return result

    async def _confirm(
        client: AsyncWebClient,
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
                await client.chat_postEphemeral(
                    channel=owed["channel"],
                    user=recognition.giver_id,
                    thread_ts=owed.get("thread_ts"),
                    text=text,
                    blocks=blocks,
                )
            else:
                await effects.respond(effect, text, blocks, "ephemeral")
        except Exception:
            log.warning("could not confirm kudos %s to the giver", effect.key, exc_info=True)

    async def perform_unpost(client: AsyncWebClient, effect: OwedEffect) -> None:
        await delete_post(client, effect.payload["channel"], effect.payload["ts"])

    effects.performs(RECOGNITION, perform_recognition)
    effects.performs(UNPOST, perform_unpost)

    @guarded
    async def undo_kudos(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            requester = (await profiles(services, client, team_id, [user_id]))[user_id]
            revoked = await services.run(
                services.kudos.undo,
                team_id,
                body["actions"][0]["value"],
                requester,
                slack_time(body),
            )
        except (UndoRefused, TimeoutError) as refusal:
            context["undo"] = {"refused": getattr(refusal, "message", slack_slow("undo the kudos"))}
            await ack()
            return
        services.forwarder.wake()
        context["undo"] = {"receivers": list(revoked.receiver_ids), "owed": list(revoked.effects)}
        await ack()

    @guarded
    async def finish_undo(
        client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        undo = context.get("undo") or {}
        if "refused" in undo:
            await respond(text=undo["refused"], response_type="ephemeral", replace_original=False)
            return
        await effects.perform_now(client, undo["owed"])
        await respond(text=undone_text(undo["receivers"]), replace_original=True)

    app.command("/kudos")(ack=give_kudos, lazy=[do_owed])
    app.action(UNDO_ACTION)(ack=undo_kudos, lazy=[finish_undo])


async def delete_post(client: AsyncWebClient, channel: str, ts: str) -> None:
    """Deletes a recognition post whose kudos were revoked."""
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except SlackApiError as error:
        # Someone deleted it already: the kudos are revoked all the same.
        if error_code(error) != "message_not_found":
            raise
