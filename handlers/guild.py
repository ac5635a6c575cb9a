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
from handlers.guard import guarded, slack_slow
from handlers.people import profiles


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    @guarded
    async def guild(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        option = (command.get("text") or "").strip().lower()
        team_id, user_id = command["team_id"], command["user_id"]
        if option == "me":
            try:
                person = (await profiles(services, client, team_id, [user_id]))[user_id]
            except TimeoutError:
                await ack(text=slack_slow("look up your learning record"))
                return
            record = await services.run(services.home.record, team_id, person)
            await ack(text=record_text(record))
            return
        blocks = guild_help_blocks(services.settings.kudos_emoji)
        if option not in ("", "help"):
            unknown = code(f"/guild {readable(option)}")
            await ack(text=f"I don't know {unknown}. Here is what I can do:", blocks=blocks)
            return
        await ack(text=guild_help_text(), blocks=blocks)

    async def is_export(command: dict) -> bool:
        return (command.get("text") or "").strip().lower() == "export"

    @guarded
    async def ack_export(ack: AsyncAck) -> None:
        await ack(text="Preparing your learning record; I'll send it to you as a file by DM.")

    @guarded
    async def send_export(command: dict, client: AsyncWebClient) -> None:
        team_id, user_id = command["team_id"], command["user_id"]
        bodies = await services.run(statements_of, services.database, team_id, user_id)
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

    # Only `/guild export` has work after the ack; the rest answer in the ack alone.
    app.command("/guild", matchers=[is_export])(ack=ack_export, lazy=[send_export])
    app.command("/guild")(guild)
