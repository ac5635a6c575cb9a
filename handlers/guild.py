"""`/guild`: guildbot at a glance, your learning record in brief, your statements as a file."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.people import Profile
from bot.domain.workspace import Workspace
from bot.operations import statements_of
from bot.services import Services
from bot.views.help import guild_help_blocks, guild_help_text
from bot.views.home import record_text
from bot.views.mrkdwn import code, readable
from handlers.effects import EffectRunner
from handlers.seam import Seam, doing, says


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    # Only `/guild export` has work after the ack; the rest answer in the ack alone.
    app.command("/guild", matchers=[says("export")])(**on(ack_export, send_export))
    app.command("/guild", matchers=[says("me")])(**on(show_record))
    app.command("/guild")(**on(show_help))


@doing("look up your learning record")
async def show_record(
    ack: AsyncAck, actor: Profile, workspace: Workspace, services: Services
) -> None:
    record = await services.run(services.home.record, workspace.team_id, actor)
    await ack(text=record_text(record))


async def show_help(ack: AsyncAck, command: dict, workspace: Workspace) -> None:
    option = (command.get("text") or "").strip().lower()
    blocks = guild_help_blocks(workspace.settings.kudos_emoji)
    if option not in ("", "help"):
        unknown = code(f"/guild {readable(option)}")
        await ack(text=f"I don't know {unknown}. Here is what I can do:", blocks=blocks)
        return
    await ack(text=guild_help_text(), blocks=blocks)


async def ack_export(ack: AsyncAck) -> None:
    await ack(text="Preparing your learning record; I'll send it to you as a file by DM.")


async def send_export(
    command: dict, client: AsyncWebClient, workspace: Workspace, services: Services
) -> None:
    user_id = command["user_id"]
    bodies = await services.run(statements_of, services.database, workspace.team_id, user_id)
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
