"""`/share`, `/resources`, the Open button, and reactions on a shared resource's message.
(Links and files posted in a community's channel are shared by handlers/communities.py,
whose message listener sees those messages.)"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.resources import ResourceRefused
from bot.services import Services
from bot.views import resources as views
from bot.views.help import RESOURCES, SHARE, command_help_text
from handlers.effects import EffectRunner
from handlers.guard import slack_slow
from handlers.listeners import bound
from handlers.people import profiles
from handlers.slack_time import slack_time


async def share_command(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    command: dict,
    client: AsyncWebClient,
) -> None:
    typed = (command.get("text") or "").strip()
    if typed.lower() in ("", "help"):
        await ack(text=command_help_text(SHARE))
        return
    team_id, user_id = command["team_id"], command["user_id"]
    try:
        intent = services.resources.read_share(typed)
        sharer = (await profiles(services, client, team_id, [user_id]))[user_id]
    except ResourceRefused as refusal:
        await ack(text=refusal.message)
        return
    except TimeoutError:
        await ack(text=slack_slow("share it"))
        return
    [(_, new)] = await services.run(
        services.resources.share,
        team_id,
        sharer,
        [intent.item],
        (command["channel_id"], None),
        intent.skills,
        command["trigger_id"],
    )
    services.forwarder.wake()
    await ack(text=views.shared_text(intent.item.title, new))


async def resources_command(
    services: Services, effects: EffectRunner, ack: AsyncAck, command: dict
) -> None:
    """One indexed read, answered in the ack (ephemeral)."""
    typed = (command.get("text") or "").strip()
    if typed.lower() in ("", "help"):
        await ack(text=command_help_text(RESOURCES))
        return
    hits = await services.run(services.resources.search, command["team_id"], typed)
    await ack(text=views.results_text(typed, hits), blocks=views.results_blocks(typed, hits))


async def open_button(
    services: Services,
    effects: EffectRunner,
    ack: AsyncAck,
    body: dict,
    client: AsyncWebClient,
) -> None:
    """Slack opened the link already; the click tells who opened what."""
    team_id, user_id = body["user"]["team_id"], body["user"]["id"]
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id")
    person = (await profiles(services, client, team_id, [user_id]))[user_id]
    if await services.run(
        services.resources.open,
        team_id,
        action.get("value") or "",
        person,
        channel,
        action["action_ts"],
        slack_time(body),
    ):
        services.forwarder.wake()
    await ack()


async def reaction_on_resource(
    services: Services, effects: EffectRunner, ack: AsyncAck, event: dict, context: AsyncBoltContext
) -> None:
    delta = 1 if event["type"] == "reaction_added" else -1
    await services.run(services.resources.reacted, context["resources"], delta)
    await ack()


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    async def on_a_resource(event: dict, body: dict, context: AsyncBoltContext) -> bool:
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("channel"):
            return False
        found = await services.run(
            services.resources.on_message, body["team_id"], item["channel"], item.get("ts", "")
        )
        context["resources"] = found
        return bool(found)

    def listen(fn: object) -> object:
        return bound(fn, services, effects)  # type: ignore[arg-type]

    app.command("/share")(listen(share_command))
    app.command("/resources")(listen(resources_command))
    app.action(views.OPEN_ACTION)(listen(open_button))
    app.event("reaction_added", matchers=[on_a_resource])(listen(reaction_on_resource))
    app.event("reaction_removed", matchers=[on_a_resource])(listen(reaction_on_resource))
