"""`/expert <topic>`, and the Endorse buttons on expert results and skill profiles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.experts import ExpertSearch, Match
from bot.domain.people import Profile
from bot.domain.questions import ReplyTo
from bot.domain.text import from_form
from bot.domain.workspace import Workspace
from bot.services import Services
from bot.views.help import EXPERT, command_help_text
from bot.views.questions import posting_text
from bot.views.skills import (
    ASK_ACTION,
    ASK_VIEW,
    ENDORSE_ACTION,
    QUESTION_BLOCK,
    QUESTION_INPUT,
    WITHDRAW_ACTION,
    ask_modal,
    asked_view,
    expert_blocks,
    expert_text,
    profile_blocks,
    profile_text,
)
from handlers.effects import EffectRunner
from handlers.people import user_id_or_none
from handlers.seam import Owed, People, Seam, ack_only, doing, perform_owed, says


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    app.command("/expert", matchers=[says("", "help")])(**on(show_help))
    app.command("/expert")(**on(find_experts))
    app.action(ASK_ACTION)(**on(ack_only, open_ask_form))
    app.view(ASK_VIEW)(**on(post_from_form, perform_owed))
    app.action(ENDORSE_ACTION)(**on(change_endorsement, refresh_after_endorsement))
    app.action(WITHDRAW_ACTION)(**on(change_endorsement, refresh_after_endorsement))


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(EXPERT))


@doing("look for experts")
async def find_experts(
    ack: AsyncAck, command: dict, actor: Profile, workspace: Workspace, services: Services
) -> None:
    topic = command["text"].strip()
    search = await services.run(
        services.experts.search, workspace.team_id, actor, topic, command["trigger_id"]
    )
    if search.match.slug:
        services.forwarder.wake()
    await ack(text=expert_text(search, actor.user_id), blocks=expert_blocks(search, actor.user_id))


# Endorsements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endorsement:
    """Whose skill the button was about, and where it was: `profile` or `expert:<slug>`."""

    user_id: str
    skill: str
    origin: str


@doing("change the endorsement")
async def change_endorsement(
    ack: AsyncAck,
    body: dict,
    actor: Profile,
    people: People,
    at: datetime | None,
    workspace: Workspace,
    services: Services,
) -> Endorsement:
    action = body["actions"][0]
    target = json.loads(action["value"])
    endorsed = await people.one(target["user"])
    team_id, skill, cause = workspace.team_id, target["skill"], body["trigger_id"]
    if action["action_id"] == ENDORSE_ACTION:
        await services.run(services.skills.endorse, team_id, actor, endorsed, skill, cause, at)
    else:
        person_id = endorsed.user_id
        await services.run(services.skills.withdraw, team_id, actor, person_id, skill, cause, at)
    services.forwarder.wake()
    await ack()
    return Endorsement(target["user"], target["skill"], target["from"])


async def refresh_after_endorsement(
    handoff: Endorsement,
    body: dict,
    respond: AsyncRespond,
    workspace: Workspace,
    services: Services,
) -> None:
    """Redraws the message the button was on, so the button shows the new state."""
    team_id, viewer_id = workspace.team_id, body["user"]["id"]
    if handoff.origin == "profile":
        profile = await services.run(services.skills.profile, team_id, handoff.user_id)
        await respond(
            text=profile_text(profile),
            blocks=profile_blocks(profile, viewer_id),
            replace_original=True,
        )
        return
    slug = handoff.origin.removeprefix("expert:")
    experts = await services.run(services.experts.rank, team_id, slug)
    endorsed = await services.run(
        services.skills.endorsed_by, team_id, viewer_id, slug, [e.user_id for e in experts]
    )
    search = ExpertSearch(Match(slug, slug, "exact"), tuple(experts), frozenset(endorsed))
    await respond(
        text=expert_text(search, viewer_id),
        blocks=expert_blocks(search, viewer_id),
        replace_original=True,
    )


# Ask: a small form, then the same path as /ask -----------------------------------------------


async def open_ask_form(body: dict, client: AsyncWebClient, workspace: Workspace) -> None:
    workspace.settings.questions_channel()
    target = json.loads(body["actions"][0]["value"])
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=ask_modal(user_id_or_none(target.get("user")), target["topic"], json.dumps(target)),
    )


@doing("post your question", field=QUESTION_BLOCK)
async def post_from_form(
    ack: AsyncAck, view: dict, actor: Profile, workspace: Workspace, services: Services
) -> Owed:
    target = json.loads(view["private_metadata"])
    typed = from_form(view["state"]["values"][QUESTION_BLOCK][QUESTION_INPUT].get("value") or "")
    channel = workspace.settings.questions_channel()
    team_id = workspace.team_id
    intent = await services.run(services.questions.read, team_id, typed, target["topic"])
    asked = await services.run(
        services.questions.ask,
        team_id,
        actor,
        intent,
        channel,
        f"form:{view['id']}",
        user_id_or_none(target.get("user")),
        ReplyTo(view_id=view["id"]),
    )
    services.forwarder.wake()
    await ack(response_action="update", view=asked_view(posting_text(channel)))
    return Owed.of(asked.effects)
