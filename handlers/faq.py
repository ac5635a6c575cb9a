"""`/faq <words>`: search resolved questions and their accepted answers."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.views.faq import faq_blocks, faq_text
from bot.views.help import FAQ, command_help_text
from handlers.effects import EffectRunner
from handlers.guard import guarded, slack_slow
from handlers.people import profiles
from handlers.questions import NOT_SET_UP


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    @guarded
    async def search_faq(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        """One indexed read, answered in the ack (ephemeral)."""
        typed = (command.get("text") or "").strip()
        if typed.lower() in ("", "help"):
            await ack(text=command_help_text(FAQ))
            return
        team_id, user_id = command["team_id"], command["user_id"]
        try:
            searcher = (await profiles(services, client, team_id, [user_id]))[user_id]
        except TimeoutError:
            await ack(text=slack_slow("search the answered questions"))
            return
        hits = await services.run(
            services.faq.search, team_id, typed, searcher.learner, command["trigger_id"]
        )
        services.forwarder.wake()
        # Without a Q&A channel there is nowhere to ask: say so instead of offering /ask.
        not_set_up = None if services.settings.qa_channel else NOT_SET_UP
        await ack(
            text=faq_text(typed, hits),
            blocks=faq_blocks(typed, hits, services.faq.ask_instead(typed), not_set_up),
        )

    app.command("/faq")(search_faq)
