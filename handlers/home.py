"""App Home: the person's learning record, refreshed when they open it or it changes."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations import retry_dead
from bot.services import Services
from bot.views.home import (
    PAUSE_ROUTING_ACTION,
    RESUME_ROUTING_ACTION,
    RETRY_DEAD_ACTION,
    RETRY_EFFECTS_ACTION,
    home_view,
)
from bot.views.suggestions import learn_from_blocks
from handlers.effects import EffectRunner
from handlers.guard import guarded
from handlers.people import profiles

log = logging.getLogger("guildbot.handlers.home")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    @guarded
    async def opened(event: dict, body: dict, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # The Messages tab: nothing to draw.
        services.home.opened(body["team_id"], event["user"])
        await publish_home(services, client, body["team_id"], event["user"])

    @guarded
    async def pause(body: dict, client: AsyncWebClient) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        await services.run(services.routing.pause, team_id, user_id)
        await publish_home(services, client, team_id, user_id)

    @guarded
    async def resume(body: dict, client: AsyncWebClient) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        await services.run(services.home.resume_routing, team_id, user_id)
        await publish_home(services, client, team_id, user_id)

    @guarded
    async def retry(body: dict, client: AsyncWebClient) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        if user_id in services.settings.lnd_admins:
            await services.run(retry_dead, services.database, services.clock())
            services.forwarder.wake()
        await publish_home(services, client, team_id, user_id)

    app.event("app_home_opened")(ack=ack_only, lazy=[opened])
    app.action(PAUSE_ROUTING_ACTION)(ack=ack_only, lazy=[pause])
    app.action(RESUME_ROUTING_ACTION)(ack=ack_only, lazy=[resume])

    @guarded
    async def retry_effects(body: dict, client: AsyncWebClient) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        if user_id in services.settings.lnd_admins:
            await services.run(services.effects.retry_dead)
        await publish_home(services, client, team_id, user_id)

    app.action(RETRY_DEAD_ACTION)(ack=ack_only, lazy=[retry])
    app.action(RETRY_EFFECTS_ACTION)(ack=ack_only, lazy=[retry_effects])


async def publish_home(
    services: Services, client: AsyncWebClient, team_id: str, user_id: str
) -> None:
    """Draws the person's App Home from their record (admins also see the outbox)."""
    person = (await profiles(services, client, team_id, [user_id]))[user_id]
    record = await services.run(services.home.record, team_id, person)
    admin = None
    if user_id in services.settings.lnd_admins:
        admin = await services.run(services.home.admin, team_id, person.tz)
    learn = await services.run(services.suggestions.for_home, team_id, user_id)
    resources = await services.run(services.resources.for_member, team_id, user_id)
    learn_from = learn_from_blocks(learn, services.statements.identity.home_page, resources)
    view = home_view(record, admin, services.clock(), learn_from)
    await client.views_publish(user_id=user_id, view=view)


async def refresh_homes(
    services: Services, client: AsyncWebClient, team_id: str, user_ids: list[str]
) -> None:
    """Redraws App Home for people whose record just changed and who have looked at it (the
    rest get a fresh one when they open it); a failure here never undoes or hides the change."""
    for user_id in dict.fromkeys(user_ids):
        if not services.home.is_viewer(team_id, user_id):
            continue
        try:
            await publish_home(services, client, team_id, user_id)
        except Exception:
            log.warning("could not refresh App Home for %s", user_id, exc_info=True)
