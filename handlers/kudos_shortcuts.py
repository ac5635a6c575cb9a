"""Message shortcuts: **Give kudos** on any message (threads included, where slash commands
cannot be used) and, for L&D admins, **Remove kudos** on a recognition post."""

from __future__ import annotations

import asyncio
import json
import logging
import re

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.effects import OwedEffect
from bot.domain.kudos import (
    REMOVED_NOTICE,
    Announce,
    GiveKudos,
    KudosRefused,
    QuotaExceeded,
    check_reason,
    check_receivers,
    read_values,
)
from bot.domain.people import Profile
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
    quota_exceeded_text,
    removed_notice,
    removed_text,
)
from handlers.effects import EffectRunner, direct_message
from handlers.guard import guarded, slack_slow
from handlers.kudos import SLACK_SLOW
from handlers.people import PersonNotFound, profiles
from handlers.slack_time import slack_time

log = logging.getLogger("guildbot.handlers.kudos_shortcuts")

PERMALINK_TIMEOUT_S = 1.0
APP_MESSAGE = "That message was posted by an app, and kudos are for people."
SELF_MESSAGE = (
    "Kudos are for recognising others, so you can't give them for your own message. "
    "Know someone who helped? Use Give kudos on their message."
)


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    async def ack_shortcut(ack: AsyncAck) -> None:
        await ack()

    @guarded
    async def open_give_form(body: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        message, user_id = body["message"], body["user"]["id"]
        author_id = message.get("user")
        if message.get("bot_id") or not author_id:
            await respond(text=APP_MESSAGE, response_type="ephemeral", replace_original=False)
            return
        if author_id == user_id:
            await respond(text=SELF_MESSAGE, response_type="ephemeral", replace_original=False)
            return
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

    @guarded
    async def give_from_form(
        ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        state = view["state"]["values"]
        receiver_ids = tuple(state[RECEIVERS_BLOCK][RECEIVERS_INPUT].get("selected_users") or [])
        reason = from_form(state[REASON_BLOCK][REASON_INPUT].get("value") or "").strip()
        values = read_values(state[VALUES_BLOCK][VALUES_INPUT].get("value") or "")
        metadata = json.loads(view["private_metadata"])
        team_id, giver_id = body["user"]["team_id"], body["user"]["id"]
        try:
            check_reason(reason)
        except KudosRefused as refusal:
            await ack(response_action="errors", errors={REASON_BLOCK: refusal.message})
            return
        people: dict[str, Profile] = {}
        try:
            people = await profiles(services, client, team_id, [giver_id, *receiver_ids])
            receivers = tuple(people[uid] for uid in receiver_ids)
            check_receivers(giver_id, receivers)
            given = await services.run(
                services.kudos.give,
                GiveKudos(
                    team_id=team_id,
                    giver=people[giver_id],
                    receivers=receivers,
                    reason=reason,
                    values=values,
                    channel_id=metadata["channel"],
                    source="shortcut",
                    source_key=f"shortcut:{view['id']}",
                    permalink=metadata.get("permalink"),
                    message_ts=metadata["message_ts"],
                    announce=Announce(
                        metadata["channel"],
                        thread_ts=metadata["thread_ts"],
                        response_url=slack_response_url(
                            metadata.get("response_url"), services.settings
                        ),
                        confirm=True,
                    ),
                ),
            )
        except (KudosRefused, PersonNotFound, QuotaExceeded, TimeoutError) as problem:
            await ack(
                response_action="errors",
                errors={RECEIVERS_BLOCK: plain(_why(problem, SLACK_SLOW), people)},
            )
            return
        services.forwarder.wake()
        context["owed"] = list(given.effects)
        await ack()

    @guarded
    async def do_owed(client: AsyncWebClient, context: AsyncBoltContext) -> None:
        await effects.perform_now(client, context.get("owed") or [])

    @guarded
    async def remove_kudos(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team_id, admin_id = body["user"]["team_id"], body["user"]["id"]
        try:
            admin = (await profiles(services, client, team_id, [admin_id]))[admin_id]
            revoked = await services.run(
                services.kudos.remove,
                team_id,
                body["channel"]["id"],
                body["message"]["ts"],
                admin,
                slack_time(body),
            )
        except (KudosRefused, TimeoutError) as refusal:
            context["removal"] = {"refused": _why(refusal, slack_slow("take the kudos back"))}
            await ack()
            return
        services.forwarder.wake()
        context["removal"] = {
            "giver": revoked.giver_id,
            "receivers": list(revoked.receiver_ids),
            "owed": list(revoked.effects),
        }
        await ack()

    @guarded
    async def finish_removal(
        body: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        removal = context.get("removal") or {}
        if "refused" in removal:
            await respond(text=removal["refused"], response_type="ephemeral")
            return
        await effects.perform_now(client, removal["owed"])
        await respond(
            text=removed_text(removal["receivers"], removal["giver"]), response_type="ephemeral"
        )

    async def tell_giver(client: AsyncWebClient, effect: OwedEffect) -> None:
        """The giver's DM when an L&D admin removed their kudos."""
        removed = await services.run(services.kudos.removed, effect.payload["kudos"])
        if removed is None:
            return  # erased since
        text = removed_notice(effect.payload["admin"], removed.receiver_ids, removed.reason)
        await direct_message(client, removed.giver_id, text)

    effects.performs(REMOVED_NOTICE, tell_giver)
    app.shortcut(GIVE_KUDOS_SHORTCUT)(ack=ack_shortcut, lazy=[open_give_form])
    app.view(GIVE_KUDOS_VIEW)(ack=give_from_form, lazy=[do_owed])
    app.shortcut(REMOVE_KUDOS_SHORTCUT)(ack=remove_kudos, lazy=[finish_removal])


def _why(problem: Exception, slow: str) -> str:
    """What to show on the form (or ephemerally) for a refusal; `slow` when Slack was."""
    if isinstance(problem, KudosRefused):
        return problem.message
    if isinstance(problem, PersonNotFound):
        return f"I couldn't find <@{problem.user_id}> in this workspace."
    if isinstance(problem, QuotaExceeded):
        quota = problem.quota
        return quota_exceeded_text(quota.limit, quota.left, problem.wanted, quota.resets_at)
    return slow


_MARKUP = re.compile(r"<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>|<!date\^[^|>]*\|(?P<fallback>[^>]*)>")


def plain(text: str, people: dict[str, Profile]) -> str:
    """Form errors are plain text: mentions become names, dates their fallback wording."""

    def readable(match: re.Match[str]) -> str:
        if match["user"]:
            person = people.get(match["user"])
            return person.name if person else "one of the people you picked"
        return match["fallback"]

    return _MARKUP.sub(readable, text)


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
