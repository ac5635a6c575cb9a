"""L&D settings: a workspace's L&D admins change its settings in a modal opened from App Home.

Saved before the ack (bad values are field errors, and change nothing); in force for the
workspace's next request; then the admin's App Home is redrawn with the change in its log.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.workspace_settings import SettingsSaved
from bot.services import Services
from bot.views.workspace_settings import (
    SETTINGS_ACTION,
    SETTINGS_VIEW,
    read_settings_form,
    settings_modal,
)
from handlers.effects import EffectRunner
from handlers.home import publish_home
from handlers.seam import Seam, Turn, ack_only, doing


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.action(SETTINGS_ACTION)(**on(ack_only, open_settings))
    app.view(SETTINGS_VIEW)(**on(save_settings, redraw_home))


async def open_settings(body: dict, turn: Turn) -> None:
    """The modal, filled in with the settings in force, for the workspace's L&D admins."""
    user_id = body["user"]["id"]
    if user_id not in turn.settings.lnd_admins:
        # A button left from when they were an admin: their redrawn Home has none.
        await publish_home(turn.services, turn.client, turn.team_id, user_id)
        return
    await turn.client.views_open(trigger_id=body["trigger_id"], view=settings_modal(turn.settings))


@doing("save the settings", field="lnd_admins")
async def save_settings(ack: AsyncAck, body: dict, view: dict, turn: Turn) -> SettingsSaved:
    form = read_settings_form(view["state"]["values"])
    book = turn.services.workspace_settings
    saved = await turn.services.run(book.change, turn.team_id, body["user"]["id"], form)
    await ack()
    return saved


async def redraw_home(handoff: SettingsSaved, body: dict, turn: Turn) -> None:
    """The admin's App Home, with the change in its log."""
    await publish_home(turn.services, turn.client, turn.team_id, body["user"]["id"])
