"""App Home: the person's learning record, refreshed when they open it or it changes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncApp
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
from handlers.people import profiles
from handlers.seam import Seam, Turn, ack_only, workspace_for

log = logging.getLogger("guildbot.handlers.home")


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.event("app_home_opened")(**on(ack_only, opened))
    app.action(PAUSE_ROUTING_ACTION)(**on(ack_only, pause))
    app.action(RESUME_ROUTING_ACTION)(**on(ack_only, resume))
    app.action(RETRY_DEAD_ACTION)(**on(ack_only, retry))
    app.action(RETRY_EFFECTS_ACTION)(**on(ack_only, retry_effects))


async def opened(event: dict, turn: Turn) -> None:
    if event.get("tab", "home") != "home":
        return  # The Messages tab: nothing to draw.
    turn.services.home.opened(turn.team_id, event["user"])
    await publish_home(turn.services, turn.client, turn.team_id, event["user"])


async def pause(body: dict, turn: Turn) -> None:
    await _then_redraw(turn, body["user"]["id"], turn.services.routing.pause)


async def resume(body: dict, turn: Turn) -> None:
    await _then_redraw(turn, body["user"]["id"], turn.services.home.resume_routing)


async def _then_redraw(turn: Turn, user_id: str, change: Callable[[str, str], object]) -> None:
    """Changes how questions reach the person, then redraws their App Home."""
    await turn.services.run(change, turn.team_id, user_id)
    await publish_home(turn.services, turn.client, turn.team_id, user_id)


async def retry(body: dict, turn: Turn) -> None:
    """An admin sends the dead-lettered statements to the LRS again."""
    services, user_id = turn.services, body["user"]["id"]
    if user_id in turn.settings.lnd_admins:
        await turn.record(retry_dead, services.database, services.clock(), turn.team_id)
    await publish_home(services, turn.client, turn.team_id, user_id)


async def retry_effects(body: dict, turn: Turn) -> None:
    """An admin has the Slack effects Slack refused tried again."""
    services, user_id = turn.services, body["user"]["id"]
    if user_id in turn.settings.lnd_admins:
        await services.run(services.effects.retry_dead, turn.team_id)
    await publish_home(services, turn.client, turn.team_id, user_id)


async def publish_home(
    services: Services, client: AsyncWebClient, team_id: str, user_id: str
) -> None:
    """Draws the person's App Home from their record (admins also see the outbox)."""
    person = (await profiles(services, client, team_id, [user_id]))[user_id]
    record = await services.run(services.home.record, team_id, person)
    admin = None
    if user_id in workspace_for(services, team_id).settings.lnd_admins:
        admin = await services.run(services.home.admin, team_id, person.tz)
    learn = await services.run(services.suggestions.for_home, team_id, user_id)
    resources = await services.run(services.resources.for_member, team_id, user_id)
    home_page = workspace_for(services, team_id).identity.home_page
    learn_from = learn_from_blocks(learn, home_page, resources)
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
