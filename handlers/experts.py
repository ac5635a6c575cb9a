"""`/expert <topic>`, and the Endorse buttons on expert results and skill profiles (their
Ask buttons are Q&A's: handlers/questions.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.domain.experts import ExpertSearch, Match
from bot.services import Services
from bot.views.help import EXPERT, command_help_text
from bot.views.skills import (
    ENDORSE_ACTION,
    WITHDRAW_ACTION,
    expert_blocks,
    expert_text,
    profile_blocks,
    profile_text,
)
from handlers.effects import EffectRunner
from handlers.seam import Seam, Turn, doing, says


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.command("/expert", matchers=[says("", "help")])(**on(show_help))
    app.command("/expert")(**on(find_experts))
    app.action(ENDORSE_ACTION)(**on(change_endorsement, refresh_after_endorsement))
    app.action(WITHDRAW_ACTION)(**on(change_endorsement, refresh_after_endorsement))


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(EXPERT))


@doing("look for experts")
async def find_experts(ack: AsyncAck, command: dict, turn: Turn) -> None:
    experts, topic = turn.services.experts, command["text"].strip()
    search = await turn.services.run(
        experts.search, turn.team_id, turn.actor, topic, command["trigger_id"]
    )
    if search.match.slug:
        turn.services.forwarder.wake()
    viewer = turn.actor.user_id
    await ack(text=expert_text(search, viewer), blocks=expert_blocks(search, viewer))


# Endorsements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endorsement:
    """Whose skill the button was about, and where it was: `profile` or `expert:<slug>`."""

    user_id: str
    skill: str
    origin: str


@doing("change the endorsement")
async def change_endorsement(ack: AsyncAck, body: dict, turn: Turn) -> Endorsement:
    action = body["actions"][0]
    target = json.loads(action["value"])
    endorsed = await turn.person(target["user"])
    skills, skill, cause = turn.services.skills, target["skill"], body["trigger_id"]
    if action["action_id"] == ENDORSE_ACTION:
        await turn.record(skills.endorse, turn.team_id, turn.actor, endorsed, skill, cause, turn.at)
    else:
        whom = endorsed.user_id
        await turn.record(skills.withdraw, turn.team_id, turn.actor, whom, skill, cause, turn.at)
    await ack()
    return Endorsement(target["user"], skill, target["from"])


async def refresh_after_endorsement(
    handoff: Endorsement, body: dict, respond: AsyncRespond, turn: Turn
) -> None:
    """Redraws the message the button was on, so the button shows the new state."""
    services, viewer_id = turn.services, body["user"]["id"]
    if handoff.origin == "profile":
        profile = await services.run(services.skills.profile, turn.team_id, handoff.user_id)
        await respond(
            text=profile_text(profile),
            blocks=profile_blocks(profile, viewer_id),
            replace_original=True,
        )
        return
    slug = handoff.origin.removeprefix("expert:")
    experts = await services.run(services.experts.rank, turn.team_id, slug)
    endorsed = await services.run(
        services.skills.endorsed_by, turn.team_id, viewer_id, slug, [e.user_id for e in experts]
    )
    search = ExpertSearch(Match(slug, slug, "exact"), tuple(experts), frozenset(endorsed))
    await respond(
        text=expert_text(search, viewer_id),
        blocks=expert_blocks(search, viewer_id),
        replace_original=True,
    )
