"""Channel names from the requests that carry them (commands, buttons, shortcuts), kept for
xAPI activity names. Runs before every listener; costs a write only for a name not yet kept."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.services import Services
from handlers.effects import EffectRunner
from handlers.seam import BeforeListeners, workspace_in

log = logging.getLogger("guildbot.handlers.channels")


def channel_named_in(body: dict[str, Any]) -> tuple[str, str] | None:
    """(id, name) of the channel a request came from, when Slack names it."""
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id") and channel.get("name"):
        return str(channel["id"]), str(channel["name"])
    if body.get("channel_id") and body.get("channel_name"):
        return str(body["channel_id"]), str(body["channel_name"])
    return None


class RememberChannelNames(BeforeListeners):
    """Keeps the name of the channel a request came from, when it is new."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def before(self, req: AsyncBoltRequest) -> None:
        services = self._services
        named = channel_named_in(req.body)
        team_id = workspace_in(req.context).team_id
        if named and team_id and services.channels.is_new(team_id, *named):
            try:
                await services.run(services.channels.seen, team_id, *named)
            except Exception:
                # A name is only for reading statements: never worth failing a request.
                log.warning("could not keep the name of channel %s", named[0], exc_info=True)


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    app.use(RememberChannelNames(services))
