"""App Home: the person's learning record, refreshed when they open it or it changes."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.workspace import Workspace
from bot.operations import retry_dead
from bot.services import Services
from bot.views.home import (
    PAUSE_ROUTING_ACTION,
    RESUME_ROUTING_ACTION,
    RETRY_DEAD_ACTION,
    RETRY_EFFECTS_ACTION,
    home_view,
)
from handlers.effects import EffectRunner
from handlers.people import profiles
from handlers.seam import Seam, ack_only, settings_of

log = logging.getLogger("guildbot.handlers.home")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.event("app_home_opened")(**on(ack_only, opened))
    app.action(PAUSE_ROUTING_ACTION)(**on(ack_only, pause))
    app.action(RESUME_ROUTING_ACTION)(**on(ack_only, resume))
    app.action(RETRY_DEAD_ACTION)(**on(ack_only, retry))
    app.action(RETRY_EFFECTS_ACTION)(**on(ack_only, retry_effects))


async def opened(
    event: dict, client: AsyncWebClient, workspace: Workspace, services: Services
) -> None:
    if event.get("tab", "home") != "home":
        return  # The Messages tab: nothing to draw.
    services.home.opened(workspace.team_id, event["user"])
    await publish_home(services, client, workspace.team_id, event["user"])


async def pause(
    body: dict, client: AsyncWebClient, workspace: Workspace, services: Services
) -> None:
    team_id, user_id = workspace.team_id, body["user"]["id"]
    await services.run(services.routing.pause, team_id, user_id)
    await publish_home(services, client, team_id, user_id)


async def resume(
    body: dict, client: AsyncWebClient, workspace: Workspace, services: Services
) -> None:
    team_id, user_id = workspace.team_id, body["user"]["id"]
    await services.run(services.home.resume_routing, team_id, user_id)
    await publish_home(services, client, team_id, user_id)


async def retry(
    body: dict, client: AsyncWebClient, workspace: Workspace, services: Services
) -> None:
    """An admin sends the dead-lettered statements to the LRS again."""
    user_id = body["user"]["id"]
    if user_id in workspace.settings.lnd_admins:
        await services.run(retry_dead, services.database, services.clock())
        services.forwarder.wake()
    await publish_home(services, client, workspace.team_id, user_id)


async def retry_effects(
    body: dict, client: AsyncWebClient, workspace: Workspace, services: Services
) -> None:
    """An admin has the Slack effects Slack refused tried again."""
    user_id = body["user"]["id"]
    if user_id in workspace.settings.lnd_admins:
        await services.run(services.effects.retry_dead)
    await publish_home(services, client, workspace.team_id, user_id)


async def publish_home(
    services: Services, client: AsyncWebClient, team_id: str, user_id: str
) -> None:
    """Draws the person's App Home from their record (admins also see the outbox)."""
    person = (await profiles(services, client, team_id, [user_id]))[user_id]
    record = await services.run(services.home.record, team_id, person)
    admin = None
    if user_id in settings_of(services, team_id).lnd_admins:
        admin = await services.run(services.home.admin, team_id, person.tz)
    await client.views_publish(user_id=user_id, view=home_view(record, admin, services.clock()))


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
