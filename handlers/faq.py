"""`/faq <words>`: search resolved questions and their accepted answers."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.workspace import QA_NOT_SET_UP
from bot.services import Services
from bot.views.faq import faq_blocks, faq_text
from bot.views.help import FAQ, command_help_text
from handlers.effects import EffectRunner
from handlers.seam import Seam, Turn, doing, says


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.command("/faq", matchers=[says("", "help")])(**on(show_help))
    app.command("/faq")(**on(search_faq))


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(FAQ))


@doing("search the answered questions")
async def search_faq(ack: AsyncAck, command: dict, turn: Turn) -> None:
    """One indexed read, answered in the ack (ephemeral)."""
    faq, typed = turn.services.faq, command["text"].strip()
    hits = await turn.record(
        faq.search, turn.team_id, typed, turn.actor.learner, command["trigger_id"]
    )
    # Without a Q&A channel there is nowhere to ask: say so instead of offering /ask.
    not_set_up = None if turn.settings.qa_channel else QA_NOT_SET_UP
    await ack(
        text=faq_text(typed, hits),
        blocks=faq_blocks(typed, hits, faq.ask_instead(typed), not_set_up),
    )
