"""App Home's "Learn from": Say hi (Slack opens the profile; nothing to record), and turning
suggestions off or on (App Home is redrawn)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import Services
from bot.views.suggestions import RESUME_ACTION, SAY_HI_ACTION, STOP_ACTION
from handlers.effects import EffectRunner
from handlers.home import publish_home
from handlers.seam import Seam, Turn, ack_only


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.action(SAY_HI_ACTION)(**on(ack_only))
    app.action(STOP_ACTION)(**on(stop, redraw))
    app.action(RESUME_ACTION)(**on(resume, redraw))


async def stop(ack: AsyncAck, body: dict, turn: Turn) -> None:
    await turn.services.run(turn.services.suggestions.opt_out, turn.team_id, body["user"]["id"])
    await ack()


async def resume(ack: AsyncAck, body: dict, turn: Turn) -> None:
    await turn.services.run(turn.services.suggestions.opt_in, turn.team_id, body["user"]["id"])
    await ack()


async def redraw(body: dict, turn: Turn) -> None:
    await publish_home(turn.services, turn.client, turn.team_id, body["user"]["id"])
