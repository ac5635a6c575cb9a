"""`/community`, its Join / Leave buttons, joining or leaving a community's channel in Slack,
and messages in a community's channel (contributions).

Before the ack: the membership or the community, with its statements and the Slack effects
it owes (creating the channel, inviting or removing a person, the bot joining a linked
channel); they are done right after it, or by the tick (handlers/effects.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.communities import (
    CREATE_CHANNEL,
    INVITE,
    JOIN_CHANNEL,
    REMOVE,
    CommunityRefused,
)
from bot.domain.effects import OwedEffect
from bot.domain.people import Profile
from bot.domain.resources import files_in, links_in
from bot.services import Services
from bot.slack_client import slack_response_url
from bot.views import communities as views
from bot.views.help import COMMUNITY, command_help_text
from bot.views.resource_list import resource_block
from bot.views.session_form import schedule_modal
from handlers.effects import EffectRunner, Undeliverable
from handlers.guard import error_code
from handlers.home import publish_home
from handlers.people import profiles
from handlers.seam import (
    Owed,
    Seam,
    Turn,
    doing,
    perform_owed,
    says,
    subcommand,
    workspace_for,
    workspace_in,
)
from handlers.slack_time import from_ts

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


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    command = app.command
    command("/community", matchers=[subcommand("help")])(**on(show_help))
    command("/community", matchers=[subcommand("create")])(**on(create, perform_owed))
    command("/community", matchers=[subcommand("link")])(**on(link, perform_owed))
    command("/community", matchers=[says("")])(**on(show_directory))
    command("/community")(**on(show_page))
    app.action(views.JOIN_ACTION)(**on(join, after_membership))
    app.action(views.LEAVE_ACTION)(**on(leave, after_membership))
    app.action(views.SCHEDULE_ACTION)(**on(may_schedule, open_schedule_form))
    app.event("member_joined_channel")(**on(member_joined))
    app.event("member_left_channel")(**on(member_left))
    app.event("message", matchers=[in_community(services)])(**on(community_message))
    on.performs(PERFORMERS)


# /community -------------------------------------------------------------------------------------


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(COMMUNITY))


@doing("change the community")
async def create(ack: AsyncAck, command: dict, turn: Turn) -> Owed:
    rest = command["text"].strip().partition(" ")[2]
    intent = turn.services.communities.read(turn.team_id, rest)
    created = await turn.services.run(
        turn.services.communities.create,
        turn.team_id,
        turn.actor,
        intent,
        command["trigger_id"],
        slack_response_url(command.get("response_url"), turn.services.settings),
        # The workspace asked from, when the data is an org's: its channel goes there.
        command["team_id"] if command.get("team_id", turn.team_id) != turn.team_id else None,
    )
    await ack(text=views.creating_text(intent.name))
    return Owed.of(created.effects)


@doing("change the community")
async def link(ack: AsyncAck, command: dict, turn: Turn) -> Owed:
    rest = command["text"].strip().partition(" ")[2]
    channel = _linked_channel(rest)
    if channel is None:
        raise CommunityRefused(
            "Name the channel as Slack links it: `/community link #channel #skill …` "
            "(pick the channel from the list Slack shows)."
        )
    intent = turn.services.communities.read(turn.team_id, rest.split(">", 1)[1])
    linked = await turn.record(
        turn.services.communities.link,
        turn.team_id,
        turn.actor,
        turn.settings,
        channel,
        intent,
        command["trigger_id"],
    )
    await ack(text=views.linked_text(linked.name, channel[0]))
    return Owed.of(linked.effects)


def _linked_channel(rest: str) -> tuple[str, str] | None:
    """`<#C123|name>` at the start of the text, as (id, name)."""
    head = rest.strip()
    if not head.startswith("<#") or ">" not in head or "|" not in head.split(">", 1)[0]:
        return None
    channel_id, _, name = head[2:].split(">", 1)[0].partition("|")
    return (channel_id, name) if channel_id[:1] in ("C", "G") and name else None


async def show_directory(ack: AsyncAck, command: dict, turn: Turn) -> None:
    communities = turn.services.communities
    cards = await turn.services.run(communities.directory, turn.team_id, command["user_id"])
    await ack(text=views.directory_text(cards), blocks=views.directory_blocks(cards))


async def show_page(ack: AsyncAck, command: dict, turn: Turn) -> None:
    typed, user_id = command["text"].strip(), command["user_id"]
    services = turn.services
    page = await services.run(services.communities.page, turn.team_id, typed, user_id)
    if page is None:
        await ack(text=views.not_found_text(typed))
        return
    recent = await services.run(services.resources.recent, [page.card.id])
    may_schedule = user_id in turn.settings.lnd_admins
    blocks = views.page_blocks(page, [resource_block(r) for r in recent], may_schedule)
    await ack(text=views.page_text(page), blocks=blocks)


# Scheduling a session from a community ---------------------------------------------------------


@dataclass(frozen=True)
class ScheduleFor:
    """The scheduling form is opened for this community right after the ack."""

    community_id: str


async def may_schedule(ack: AsyncAck, body: dict, turn: Turn) -> ScheduleFor:
    turn.services.lunchlearn.check_admin(body["user"]["id"], turn.settings)
    await ack()
    return ScheduleFor(body["actions"][0]["value"])


async def open_schedule_form(handoff: ScheduleFor, body: dict, turn: Turn) -> None:
    """The lunch-and-learn form, with the community's skills as topics and its channel to
    announce in; the session is then tagged with the community (handlers/lunchlearn.py)."""
    community_id = handoff.community_id
    found = await turn.services.run(
        turn.services.communities.schedulable, turn.team_id, community_id
    )
    if found is None:
        raise CommunityRefused("That community doesn't exist (any more).")
    skills, channel = found
    form = schedule_modal(json.dumps({"community": community_id}), topics=skills, channel=channel)
    await turn.client.views_open(trigger_id=body["trigger_id"], view=form)


# Join and Leave buttons -------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipChanged:
    """What the button owes Slack, and what the person is told after the ack."""

    owed: Owed
    told: str


@doing("change your membership")
async def join(ack: AsyncAck, body: dict, turn: Turn) -> MembershipChanged:
    changed = await _change_membership(body, turn, turn.services.communities.join)
    await ack()
    told = views.joined_text(changed.name, changed.channel_id, changed.new)
    return MembershipChanged(Owed.of(changed.effects), told)


@doing("change your membership")
async def leave(ack: AsyncAck, body: dict, turn: Turn) -> MembershipChanged:
    changed = await _change_membership(body, turn, turn.services.communities.leave)
    await ack()
    return MembershipChanged(Owed.of(changed.effects), views.left_text(changed.name, changed.new))


async def _change_membership(body: dict, turn: Turn, change: Callable[..., Any]) -> Any:
    action = body["actions"][0]
    return await turn.record(
        change, turn.team_id, turn.actor, action["value"], action["action_ts"], turn.at
    )


async def after_membership(
    handoff: MembershipChanged, body: dict, respond: AsyncRespond, turn: Turn
) -> None:
    await turn.perform(handoff.owed)
    if body.get("response_url"):
        await respond(text=handoff.told, response_type="ephemeral", replace_original=False)
    elif (body.get("view") or {}).get("type") == "home":
        # Pressed in App Home ("Learn from"): it is redrawn instead.
        await publish_home(turn.services, turn.client, turn.team_id, body["user"]["id"])


# Joining or leaving the channel in Slack -------------------------------------------------------


async def member_joined(
    ack: AsyncAck, event: dict, body: dict, context: AsyncBoltContext, turn: Turn
) -> None:
    await _membership_event(turn, event, body, context, turn.services.communities.join)
    await ack()


async def member_left(
    ack: AsyncAck, event: dict, body: dict, context: AsyncBoltContext, turn: Turn
) -> None:
    await _membership_event(turn, event, body, context, turn.services.communities.leave)
    await ack()


async def _membership_event(
    turn: Turn, event: dict, body: dict, context: AsyncBoltContext, change: Callable[..., Any]
) -> None:
    """Recorded the same way as the buttons, with nothing owed to Slack: it happened there.
    Someone Slack does not know is a refusal: the event is acked and dropped."""
    user_id = event.get("user") or ""
    community_id = await turn.services.run(
        turn.services.communities.of_channel, turn.team_id, event.get("channel") or ""
    )
    if community_id is None or user_id == context.bot_user_id:
        return
    person = await turn.person(user_id)
    if not person.is_bot:
        at = from_ts(event.get("event_ts"))
        await turn.record(change, turn.team_id, person, community_id, body["event_id"], at, False)


# Contributions ----------------------------------------------------------------------------------


def in_community(services: Services) -> Callable[..., Awaitable[bool]]:
    """A listener matcher: a message in a community's channel (not the Q&A channel, whose
    replies are answers)."""

    async def matches(event: dict, context: AsyncBoltContext) -> bool:
        return await _community_of(services, workspace_in(context).team_id, event) is not None

    return matches


async def _community_of(services: Services, team_id: str, event: dict) -> str | None:
    channel = event.get("channel")
    if not channel or channel == workspace_for(services, team_id).settings.qa_channel:
        return None
    return await services.run(services.communities.of_channel, team_id, channel)


def contribution_of(event: dict[str, Any]) -> tuple[str, str | None] | None:
    """(ts, thread_ts) of a person's new message or thread reply; None for the rest (edits,
    deletions, joins, apps)."""
    if event.get("subtype") not in CONTRIBUTING_SUBTYPES or event.get("bot_id"):
        return None
    if not event.get("user") or not event.get("ts"):
        return None
    thread_ts = event.get("thread_ts")
    return event["ts"], thread_ts if thread_ts and thread_ts != event["ts"] else None


async def community_message(ack: AsyncAck, event: dict, turn: Turn) -> None:
    """Every message event in a community's channel is acked here; a person's message counts
    as a contribution (and its links and files are shared resources, see handlers/resources).
    An author Slack does not know is a refusal: the event is acked and dropped."""
    found = contribution_of(event)
    if found is not None:
        community_id = await _community_of(turn.services, turn.team_id, event)
        if community_id is not None:
            await _contribute(turn, community_id, event, found)
    await ack()


async def _contribute(
    turn: Turn, community_id: str, event: dict, found: tuple[str, str | None]
) -> None:
    author = await turn.person(event["user"])
    ts, thread_ts = found
    at = from_ts(event.get("event_ts") or ts)
    services = turn.services
    new = await services.run(
        services.communities.contribute, turn.team_id, community_id, author, ts, thread_ts, at
    )
    if new:
        await _share_what_it_links(turn, event, author, at)
        services.forwarder.wake()


async def _share_what_it_links(
    turn: Turn, event: dict, author: Profile, at: datetime | None
) -> None:
    """Links and files in a community's message are resources, with its skills."""
    items = [*links_in(event.get("text") or ""), *files_in(event.get("files") or [])]
    if items:
        where = (event["channel"], event["ts"])
        share = turn.services.resources.share
        await turn.services.run(share, turn.team_id, author, items, where, (), event["ts"], at)


# Effects ----------------------------------------------------------------------------------------


async def create_channel(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    """Creates the community's channel, records the community, invites its creator."""
    services, client, owed = turn.services, turn.client, effect.payload
    name = await services.run(services.communities.pending, owed["community"])
    if name is None:
        return None  # created already, or gone
    try:
        # An org-wide install's token must say which of the org's workspaces it is for.
        where = {"team_id": owed["workspace"]} if "workspace" in owed else {}
        created = await client.conversations_create(name=name, **where)
    except SlackApiError as error:
        if error_code(error) != "name_taken":
            raise
        await services.run(services.communities.creation_failed, owed["community"])
        await _tell(turn, effect, views.name_taken_text(name))
        raise Undeliverable(f"a channel called #{name} exists already", told=True) from None
    channel_id = str(created["channel"]["id"])
    # Looked up plainly: Slack being slow is a failure to retry, like an unreachable Slack.
    creator = (await profiles(services, client, turn.team_id, [owed["creator"]]))[owed["creator"]]
    done = await turn.record(
        services.communities.channel_created, owed["community"], channel_id, creator, owed["cause"]
    )
    if done is not None:
        await turn.perform(Owed.of(done.effects))
        await _tell(turn, effect, views.created_text(done.name, channel_id))
    return {"channel": channel_id}


async def invite(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    channel, user = effect.payload["channel"], effect.payload["user"]
    try:
        await turn.client.conversations_invite(channel=channel, users=user)
    except SlackApiError as error:
        if error_code(error) not in ALREADY:
            raise
        return {"already": True}
    return None


async def remove(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    channel, user = effect.payload["channel"], effect.payload["user"]
    try:
        await turn.client.conversations_kick(channel=channel, user=user)
    except SlackApiError as error:
        code = error_code(error)
        if code not in ALREADY and code not in CANNOT_REMOVE:
            raise
        log.info("left community channel %s stays with %s: %s", channel, user, code)
        return {"kept": code}
    return None


async def join_channel(turn: Turn, effect: OwedEffect) -> Mapping[str, Any] | None:
    """The bot joins a linked public channel, to see its messages; a private one needs an
    `/invite @guildbot` (conversations.join refuses it)."""
    try:
        await turn.client.conversations_join(channel=effect.payload["channel"])
    except SlackApiError as error:
        if error_code(error) == "method_not_supported_for_channel_type":
            raise Undeliverable("a private channel: invite guildbot there with /invite") from None
        raise
    return None


async def _tell(turn: Turn, effect: OwedEffect, text: str) -> None:
    """The creator hears how it went while their command's response URL lasts."""
    try:
        await turn.effects.respond(effect, text, None, "ephemeral")
    except Exception:
        log.info("could not tell the creator about %s", effect.key, exc_info=True)


PERFORMERS = {
    CREATE_CHANNEL: create_channel,
    INVITE: invite,
    REMOVE: remove,
    JOIN_CHANNEL: join_channel,
}
