"""`/kudos`: recognition by slash command.

Before the ack: read the text, look up the people (cached), store the kudos with its
statements. After the ack: post the recognition.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.kudos import (
    GiveKudos,
    KudosRefused,
    QuotaExceeded,
    UndoRefused,
    check_receivers,
    read_intent,
    read_period,
)
from bot.services import Services
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
from handlers.effects import EffectRunner
from handlers.guard import error_code, guarded, slack_slow
from handlers.home import refresh_homes
from handlers.people import PersonNotFound, profiles

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
                ),
            )
        except QuotaExceeded as over:
            quota = over.quota
            await ack(
                text=quota_exceeded_text(quota.limit, quota.left, over.wanted, quota.resets_at)
            )
            return
        services.forwarder.wake()
        context["kudos"] = {
            "ids": list(given.kudos_ids),
            "receivers": list(intent.receiver_ids),
            "reason": intent.reason,
            "values": list(intent.values),
        }
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
    async def post_command_recognition(
        command: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        kudos = context.get("kudos")
        if not kudos:
            return
        giver_id = command["user_id"]
        recognition = (giver_id, kudos["receivers"], kudos["reason"], kudos["values"])
        posted = await post_recognition(
            services, client, kudos["ids"], *recognition, command["channel_id"]
        )
        await refresh_homes(services, client, command["team_id"], [giver_id, *kudos["receivers"]])
        if not posted:
            # A private channel without the bot, or a DM between people: answer in place.
            await respond(
                text=recognition_text(*recognition[:3]),
                blocks=recognition_blocks(*recognition),
                response_type="in_channel",
            )

    @guarded
    async def undo_kudos(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            requester = (await profiles(services, client, team_id, [user_id]))[user_id]
            revoked = await services.run(
                services.kudos.undo, team_id, body["actions"][0]["value"], requester
            )
        except (UndoRefused, TimeoutError) as refusal:
            context["undo"] = {"refused": getattr(refusal, "message", slack_slow("undo the kudos"))}
            await ack()
            return
        services.forwarder.wake()
        context["undo"] = {
            "receivers": list(revoked.receiver_ids),
            "channel": revoked.channel_id,
            "post_ts": revoked.post_ts,
        }
        await ack()

    @guarded
    async def finish_undo(
        client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        undo = context.get("undo") or {}
        if "refused" in undo:
            await respond(text=undo["refused"], response_type="ephemeral", replace_original=False)
            return
        if undo.get("post_ts"):
            await delete_post(client, undo["channel"], undo["post_ts"])
        await respond(text=undone_text(undo["receivers"]), replace_original=True)

    app.command("/kudos")(ack=give_kudos, lazy=[post_command_recognition])
    app.action(UNDO_ACTION)(ack=undo_kudos, lazy=[finish_undo])


async def post_recognition(
    services: Services,
    client: AsyncWebClient,
    kudos_ids: Sequence[str],
    giver_id: str,
    receiver_ids: Sequence[str],
    reason: str,
    values: Sequence[str],
    channel: str,
    thread_ts: str | None = None,
) -> bool:
    """Posts the recognition (as a thread reply when `thread_ts` is given) and remembers where,
    for undo and removal. False when the bot cannot post in that channel."""
    try:
        posted = await client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=recognition_text(giver_id, receiver_ids, reason),
            blocks=recognition_blocks(giver_id, receiver_ids, reason, values),
        )
    except SlackApiError as error:
        if error_code(error) not in UNREACHABLE_BY_BOT:
            raise
        return False
    await services.run(services.kudos.record_post, kudos_ids, posted["ts"])
    return True


async def delete_post(client: AsyncWebClient, channel: str, ts: str) -> None:
    """Deletes a recognition post whose kudos were revoked."""
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except SlackApiError as error:
        # Someone deleted it already: the kudos are revoked all the same.
        if error_code(error) != "message_not_found":
            raise
