"""App Home's "Learn from": Say hi (Slack opens the profile; nothing to record), and turning
suggestions off or on (App Home is redrawn)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.views.suggestions import RESUME_ACTION, SAY_HI_ACTION, STOP_ACTION
from handlers.effects import EffectRunner
from handlers.home import publish_home
from handlers.listeners import bound


async def ack_only(services: Services, effects: EffectRunner, ack: AsyncAck) -> None:
    await ack()


async def stop(services: Services, effects: EffectRunner, ack: AsyncAck, body: dict) -> None:
    await services.run(services.suggestions.opt_out, body["user"]["team_id"], body["user"]["id"])
    await ack()


async def resume(services: Services, effects: EffectRunner, ack: AsyncAck, body: dict) -> None:
    await services.run(services.suggestions.opt_in, body["user"]["team_id"], body["user"]["id"])
    await ack()


async def redraw(
    services: Services, effects: EffectRunner, body: dict, client: AsyncWebClient
) -> None:
    await publish_home(services, client, body["user"]["team_id"], body["user"]["id"])


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    def listen(fn: object) -> object:
        return bound(fn, services, effects)  # type: ignore[arg-type]

    app.action(SAY_HI_ACTION)(listen(ack_only))
    app.action(STOP_ACTION)(ack=listen(stop), lazy=[listen(redraw)])
    app.action(RESUME_ACTION)(ack=listen(resume), lazy=[listen(redraw)])
