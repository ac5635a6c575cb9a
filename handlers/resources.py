"""`/share`, `/resources`, the Open button, and reactions on a shared resource's message.
(Links and files posted in a community's channel are shared by handlers/communities.py,
whose message listener sees those messages.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.services import Services
from bot.views import resources as views
from bot.views.help import RESOURCES, SHARE, command_help_text
from bot.views.resource_list import OPEN_ACTION
from handlers.effects import EffectRunner
from handlers.seam import Seam, Turn, doing, says, workspace_in


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    on_a_resource = [reacted_on_a_resource(services)]
    app.command("/share", matchers=[says("", "help")])(**on(share_help))
    app.command("/share")(**on(share))
    app.command("/resources", matchers=[says("", "help")])(**on(resources_help))
    app.command("/resources")(**on(search))
    app.action(OPEN_ACTION)(**on(opened))
    app.event("reaction_added", matchers=on_a_resource)(**on(reaction_on_resource))
    app.event("reaction_removed", matchers=on_a_resource)(**on(reaction_on_resource))


async def share_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(SHARE))


@doing("share it")
async def share(ack: AsyncAck, command: dict, turn: Turn) -> None:
    intent = turn.services.resources.read_share(turn.team_id, command["text"].strip())
    [(_, new)] = await turn.record(
        turn.services.resources.share,
        turn.team_id,
        turn.actor,
        [intent.item],
        (command["channel_id"], None),
        intent.skills,
        command["trigger_id"],
    )
    await ack(text=views.shared_text(intent.item.title, new))


async def resources_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(RESOURCES))


async def search(ack: AsyncAck, command: dict, turn: Turn) -> None:
    """One indexed read, answered in the ack (ephemeral)."""
    typed = command["text"].strip()
    hits = await turn.services.run(turn.services.resources.search, turn.team_id, typed)
    await ack(text=views.results_text(typed, hits), blocks=views.results_blocks(typed, hits))


@doing("record that you opened it")
async def opened(ack: AsyncAck, body: dict, turn: Turn) -> None:
    """Slack opened the link already; the click tells who opened what."""
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id")
    await turn.record(
        turn.services.resources.open,
        turn.team_id,
        action.get("value") or "",
        turn.actor,
        channel,
        action["action_ts"],
        turn.at,
    )
    await ack()


def reacted_on_a_resource(services: Services) -> Callable[..., Awaitable[bool]]:
    """A listener matcher: the reaction is on a message that shared resources."""

    async def matches(event: dict, context: AsyncBoltContext) -> bool:
        team_id = workspace_in(context).team_id
        return bool(await _resources_reacted_on(services, team_id, event))

    return matches


async def reaction_on_resource(ack: AsyncAck, event: dict, turn: Turn) -> None:
    delta = 1 if event["type"] == "reaction_added" else -1
    found = await _resources_reacted_on(turn.services, turn.team_id, event)
    await turn.services.run(turn.services.resources.reacted, found, delta)
    await ack()


async def _resources_reacted_on(services: Services, team_id: str, event: dict) -> list[str]:
    item = event.get("item") or {}
    if item.get("type") != "message" or not item.get("channel"):
        return []
    return await services.run(
        services.resources.on_message, team_id, item["channel"], item.get("ts", "")
    )
