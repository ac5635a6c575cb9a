"""`/community`, its Join / Leave buttons, joining or leaving a community's channel in Slack,
and messages in a community's channel (contributions).

Before the ack: the membership or the community, with its statements and the Slack effects
it owes (creating the channel, inviting or removing a person, the bot joining a linked
channel); they are done right after it, or by the tick (handlers/effects.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.communities import (
    CREATE_CHANNEL,
    INVITE,
    JOIN_CHANNEL,
    REMOVE,
    CommunityRefused,
)
from bot.domain.effects import OwedEffect
from bot.domain.lunchlearn import SessionRefused
from bot.domain.people import Profile
from bot.domain.resources import files_in, links_in
from bot.services import Services
from bot.slack_client import slack_response_url
from bot.views import communities as views
from bot.views.help import COMMUNITY, command_help_text
from bot.views.lunchlearn import schedule_modal
from bot.views.resources import resource_block
from handlers.effects import EffectRunner, Undeliverable
from handlers.guard import error_code, slack_slow
from handlers.home import publish_home
from handlers.listeners import bound, performer
from handlers.people import PersonNotFound, profiles
from handlers.slack_time import from_ts, slack_time

log = logging.getLogger("guildbot.handlers.communities")

# Slack's answers that mean the membership already is as wanted.
ALREADY = {"already_in_channel", "not_in_channel", "cant_kick_self"}
# Removing someone from a channel is an admin's right in many workspaces: they left guildbot's
# community all the same.
CANNOT_REMOVE = {
    "restricted_action",
    "cant_kick_from_general",
    "method_not_supported_for_channel_type",
}
CONTRIBUTING_SUBTYPES = {None, "thread_broadcast", "file_share"}


# /community -------------------------------------------------------------------------------------


async def community_command(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    command: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    typed = (command.get("text") or "").strip()
    first, _, rest = typed.partition(" ")
    if first.lower() == "help":
        await ack(text=command_help_text(COMMUNITY))
        return
    try:
        if first.lower() == "create":
            context["owed"] = await _create(services, command, client, rest)
            await ack(text=views.creating_text(services.communities.read(rest).name))
        elif first.lower() == "link":
            await ack(text=await _link(services, context, command, client, rest))
        elif typed:
            await ack(**await _page(services, command, typed))
        else:
            cards = await services.run(
                services.communities.directory, command["team_id"], command["user_id"]
            )
            await ack(text=views.directory_text(cards), blocks=views.directory_blocks(cards))
    except CommunityRefused as refusal:
        await ack(text=refusal.message)
    except TimeoutError:
        await ack(text=slack_slow("change the community"))


async def _create(
    services: Services, command: dict, client: AsyncWebClient, rest: str
) -> list[str]:
    intent = services.communities.read(rest)
    team_id, user_id = command["team_id"], command["user_id"]
    creator = (await profiles(services, client, team_id, [user_id]))[user_id]
    created = await services.run(
        services.communities.create,
        team_id,
        creator,
        intent,
        command["trigger_id"],
        slack_response_url(command.get("response_url"), services.settings),
    )
    return list(created.effects)


async def _link(
    services: Services,
    context: AsyncBoltContext,
    command: dict,
    client: AsyncWebClient,
    rest: str,
) -> str:
    channel = _linked_channel(rest)
    if channel is None:
        raise CommunityRefused(
            "Name the channel as Slack links it: `/community link #channel #skill …` "
            "(pick the channel from the list Slack shows)."
        )
    intent = services.communities.read(rest.split(">", 1)[1])
    team_id, user_id = command["team_id"], command["user_id"]
    admin = (await profiles(services, client, team_id, [user_id]))[user_id]
    linked = await services.run(
        services.communities.link, team_id, admin, channel, intent, command["trigger_id"]
    )
    services.forwarder.wake()
    context["owed"] = list(linked.effects)
    return views.linked_text(linked.name, channel[0])


def _linked_channel(rest: str) -> tuple[str, str] | None:
    """`<#C123|name>` at the start of the text, as (id, name)."""
    head = rest.strip()
    if not head.startswith("<#") or ">" not in head or "|" not in head.split(">", 1)[0]:
        return None
    channel_id, _, name = head[2:].split(">", 1)[0].partition("|")
    return (channel_id, name) if channel_id[:1] in ("C", "G") and name else None


async def _page(services: Services, command: dict, typed: str) -> dict[str, Any]:
    page = await services.run(
        services.communities.page, command["team_id"], typed, command["user_id"]
    )
    if page is None:
        return {"text": views.not_found_text(typed)}
    recent = await services.run(services.resources.recent, [page.card.id])
    may_schedule = command["user_id"] in services.settings.lnd_admins
    blocks = views.page_blocks(page, [resource_block(r) for r in recent], may_schedule)
    return {"text": views.page_text(page), "blocks": blocks}


# Scheduling a session from a community ---------------------------------------------------------


async def ack_only(services: Services, effects: EffectRunner, ack: AsyncAck) -> None:
    await ack()


async def open_schedule_form(
    services: Services,
    effects: EffectRunner,
    body: dict,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """The lunch-and-learn form, with the community's skills as topics and its channel to
    announce in; the session is then tagged with the community (handlers/lunchlearn.py)."""
    team_id, user_id = body["user"]["team_id"], body["user"]["id"]
    community_id = body["actions"][0]["value"]
    try:
        services.lunchlearn.check_admin(user_id)
    except SessionRefused as refusal:
        await respond(text=refusal.message, response_type="ephemeral", replace_original=False)
        return
    found = await services.run(services.communities.schedulable, team_id, community_id)
    if found is None:
        await respond(text="That community doesn't exist (any more).", replace_original=False)
        return
    skills, channel = found
    form = schedule_modal(json.dumps({"community": community_id}), topics=skills, channel=channel)
    await client.views_open(trigger_id=body["trigger_id"], view=form)


# Join and Leave buttons -------------------------------------------------------------------------


async def join_button(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _membership_button(services, ack, body, client, context, join=True)


async def leave_button(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _membership_button(services, ack, body, client, context, join=False)


async def _membership_button(
    services: Services,
    ack: AsyncAck,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    join: bool,
) -> None:
    team_id, user_id = body["user"]["team_id"], body["user"]["id"]
    action = body["actions"][0]
    change = services.communities.join if join else services.communities.leave
    try:
        person = (await profiles(services, client, team_id, [user_id]))[user_id]
        changed = await services.run(
            change, team_id, person, action["value"], action["action_ts"], slack_time(body)
        )
    except CommunityRefused as refusal:
        context["told"] = refusal.message
    except TimeoutError:
        context["told"] = slack_slow("change your membership")
    else:
        services.forwarder.wake()
        context["owed"] = list(changed.effects)
        context["told"] = (
            views.joined_text(changed.name, changed.channel_id, changed.new)
            if join
            else views.left_text(changed.name, changed.new)
        )
    await ack()


async def after_button(
    services: Services,
    effects: EffectRunner,
    body: dict,
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await effects.perform_now(client, context.get("owed") or [])
    if body.get("response_url") and context.get("told"):
        await respond(text=context["told"], response_type="ephemeral", replace_original=False)
    elif (body.get("view") or {}).get("type") == "home":
        # Pressed in App Home ("Learn from"): it is redrawn instead.
        await publish_home(services, client, body["user"]["team_id"], body["user"]["id"])


# Joining or leaving the channel in Slack -------------------------------------------------------


async def member_joined(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    event: dict,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _membership_event(services, ack, event, body, client, context, join=True)


async def member_left(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    event: dict,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _membership_event(services, ack, event, body, client, context, join=False)


async def _membership_event(
    services: Services,
    ack: AsyncAck,
    event: dict,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    join: bool,
) -> None:
    """Recorded the same way as the buttons, with nothing owed to Slack: it happened there."""
    team_id, user_id = body["team_id"], event.get("user") or ""
    community_id = await services.run(
        services.communities.of_channel, team_id, event.get("channel") or ""
    )
    if community_id is None or user_id == context.bot_user_id:
        await ack()
        return
    try:
        person = (await profiles(services, client, team_id, [user_id]))[user_id]
    except PersonNotFound:
        await ack()
        return
    if not person.is_bot:
        change = services.communities.join if join else services.communities.leave
        await services.run(
            change,
            team_id,
            person,
            community_id,
            body["event_id"],
            from_ts(event.get("event_ts")),
            False,
        )
        services.forwarder.wake()
    await ack()


# Contributions ----------------------------------------------------------------------------------


def contribution_of(event: dict[str, Any]) -> tuple[str, str | None] | None:
    """(ts, thread_ts) of a person's new message or thread reply; None for the rest (edits,
    deletions, joins, apps)."""
    if event.get("subtype") not in CONTRIBUTING_SUBTYPES or event.get("bot_id"):
        return None
    if not event.get("user") or not event.get("ts"):
        return None
    thread_ts = event.get("thread_ts")
    return event["ts"], thread_ts if thread_ts and thread_ts != event["ts"] else None


async def community_message(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    event: dict,
    body: dict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Every message event in a community's channel is acked here; a person's message counts
    as a contribution (and its links and files are shared resources, see handlers/resources)."""
    found = contribution_of(event)
    team_id = body["team_id"]
    community_id = context.get("community_id")
    if found is None or community_id is None:
        await ack()
        return
    try:
        author = (await profiles(services, client, team_id, [event["user"]]))[event["user"]]
    except PersonNotFound:
        await ack()
        return
    ts, thread_ts = found
    at = from_ts(event.get("event_ts") or ts)
    new = await services.run(
        services.communities.contribute, team_id, community_id, author, ts, thread_ts, at
    )
    if new:
        await _share_what_it_links(services, team_id, event, author, at)
        services.forwarder.wake()
    await ack()


async def _share_what_it_links(
    services: Services, team_id: str, event: dict, author: Profile, at: datetime | None
) -> None:
    """Links and files in a community's message are resources, with its skills."""
    items = [*links_in(event.get("text") or ""), *files_in(event.get("files") or [])]
    if items:
        where = (event["channel"], event["ts"])
        await services.run(
            services.resources.share, team_id, author, items, where, (), event["ts"], at
        )


# Effects ----------------------------------------------------------------------------------------


async def create_channel(
    services: Services, effects: EffectRunner, client: AsyncWebClient, effect: OwedEffect
) -> Mapping[str, Any] | None:
    """Creates the community's channel, records the community, invites its creator."""
    owed = effect.payload
    name = await services.run(services.communities.pending, owed["community"])
    if name is None:
        return None  # created already, or gone
    try:
        created = await client.conversations_create(name=name)
    except SlackApiError as error:
        if error_code(error) != "name_taken":
            raise
        await services.run(services.communities.creation_failed, owed["community"])
        await _tell(effects, effect, views.name_taken_text(name))
        raise Undeliverable(f"a channel called #{name} exists already", told=True) from None
    channel_id = str(created["channel"]["id"])
    creator = (await profiles(services, client, effect.team_id, [owed["creator"]]))[owed["creator"]]
    done = await services.run(
        services.communities.channel_created, owed["community"], channel_id, creator, owed["cause"]
    )
    services.forwarder.wake()
    if done is not None:
        await effects.perform_now(client, list(done.effects))
        await _tell(effects, effect, views.created_text(done.name, channel_id))
    return {"channel": channel_id}


async def invite(
    services: Services, effects: EffectRunner, client: AsyncWebClient, effect: OwedEffect
) -> Mapping[str, Any] | None:
    channel, user = effect.payload["channel"], effect.payload["user"]
    try:
        await client.conversations_invite(channel=channel, users=user)
    except SlackApiError as error:
        if error_code(error) not in ALREADY:
            raise
        return {"already": True}
    return None


async def remove(
    services: Services, effects: EffectRunner, client: AsyncWebClient, effect: OwedEffect
) -> Mapping[str, Any] | None:
    channel, user = effect.payload["channel"], effect.payload["user"]
    try:
        await client.conversations_kick(channel=channel, user=user)
    except SlackApiError as error:
        code = error_code(error)
        if code not in ALREADY and code not in CANNOT_REMOVE:
            raise
        log.info("left community channel %s stays with %s: %s", channel, user, code)
        return {"kept": code}
    return None


async def join_channel(
    services: Services, effects: EffectRunner, client: AsyncWebClient, effect: OwedEffect
) -> Mapping[str, Any] | None:
    """The bot joins a linked public channel, to see its messages; a private one needs an
    `/invite @guildbot` (conversations.join refuses it)."""
    try:
        await client.conversations_join(channel=effect.payload["channel"])
    except SlackApiError as error:
        if error_code(error) == "method_not_supported_for_channel_type":
            raise Undeliverable("a private channel: invite guildbot there with /invite") from None
        raise
    return None


async def _tell(effects: EffectRunner, effect: OwedEffect, text: str) -> None:
    """The creator hears how it went while their command's response URL lasts."""
    try:
        await effects.respond(effect, text, None, "ephemeral")
    except Exception:
        log.info("could not tell the creator about %s", effect.key, exc_info=True)


async def do_owed(
    services: Services, effects: EffectRunner, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await effects.perform_now(client, context.get("owed") or [])


# Registration -----------------------------------------------------------------------------------


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    async def in_community(event: dict, body: dict, context: AsyncBoltContext) -> bool:
        """A message in a community's channel (not the Q&A channel, whose replies are answers)."""
        channel = event.get("channel")
        if not channel or channel == services.settings.qa_channel:
            return False
        community_id = await services.run(services.communities.of_channel, body["team_id"], channel)
        context["community_id"] = community_id
        return community_id is not None

    def listen(fn: Any) -> Any:
        return bound(fn, services, effects)

    for kind, fn in (
        (CREATE_CHANNEL, create_channel),
        (INVITE, invite),
        (REMOVE, remove),
        (JOIN_CHANNEL, join_channel),
    ):
        effects.performs(kind, performer(fn, services, effects))
    app.command("/community")(ack=listen(community_command), lazy=[listen(do_owed)])
    app.action(views.JOIN_ACTION)(ack=listen(join_button), lazy=[listen(after_button)])
    app.action(views.LEAVE_ACTION)(ack=listen(leave_button), lazy=[listen(after_button)])
    app.action(views.SCHEDULE_ACTION)(ack=listen(ack_only), lazy=[listen(open_schedule_form)])
    app.event("member_joined_channel")(listen(member_joined))
    app.event("member_left_channel")(listen(member_left))
    app.event("message", matchers=[in_community])(
        ack=listen(community_message), lazy=[listen(do_owed)]
    )
