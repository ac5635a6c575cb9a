"""`/guild`: guildbot at a glance, your learning record in brief, your statements as a file."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations import statements_of
from bot.services import Services
from bot.views.help import guild_help_blocks, guild_help_text
from bot.views.home import record_text
from bot.views.mrkdwn import code, readable
from handlers.effects import EffectRunner
from handlers.seam import Seam, Turn, doing, says


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    # Only `/guild export` has work after the ack; the rest answer in the ack alone.
    app.command("/guild", matchers=[says("export")])(**on(ack_export, send_export))
    app.command("/guild", matchers=[says("me")])(**on(show_record))
    app.command("/guild")(**on(show_help))


@doing("look up your learning record")
async def show_record(ack: AsyncAck, turn: Turn) -> None:
    record = await turn.services.run(
        turn.services.home.record, turn.team_id, turn.actor, turn.settings
    )
    await ack(text=record_text(record))


async def show_help(ack: AsyncAck, command: dict, turn: Turn) -> None:
    option = (command.get("text") or "").strip().lower()
    blocks = guild_help_blocks(turn.settings.kudos_emoji)
    if option not in ("", "help"):
        unknown = code(f"/guild {readable(option)}")
        await ack(text=f"I don't know {unknown}. Here is what I can do:", blocks=blocks)
        return
    await ack(text=guild_help_text(), blocks=blocks)


async def ack_export(ack: AsyncAck) -> None:
    await ack(text="Preparing your learning record; I'll send it to you as a file by DM.")


async def send_export(command: dict, client: AsyncWebClient, turn: Turn) -> None:
    user_id, services = command["user_id"], turn.services
    bodies = await services.run(statements_of, services.database, turn.team_id, user_id)
    document = json.dumps([json.loads(b) for b in bodies], ensure_ascii=False, indent=2)
    opened = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        content=document,
        filename="my-learning-record.json",
        title="Your learning record (xAPI statements)",
        initial_comment=(
            f"Your {len(bodies)} learning records as xAPI statements, exactly as sent to "
            "your organisation's learning record store."
        ),
    )
