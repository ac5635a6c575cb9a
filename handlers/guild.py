"""`/guild`: guildbot at a glance."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import Services
from bot.views.help import guild_help_blocks, guild_help_text
from handlers.guard import guarded


def register(app: AsyncApp, services: Services) -> None:
    @guarded
    async def show_help(ack: AsyncAck, command: dict) -> None:
        option = (command.get("text") or "").strip().lower()
        blocks = guild_help_blocks(services.settings.kudos_emoji)
        if option not in ("", "help"):
            await ack(
                text=f"I don't know `/guild {option}`. Here is what I can do:",
                blocks=blocks,
            )
            return
        await ack(text=guild_help_text(), blocks=blocks)

    app.command("/guild")(show_help)
