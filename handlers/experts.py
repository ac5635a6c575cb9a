"""`/expert <topic>`, and the Endorse buttons on expert results and skill profiles."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.experts import ExpertSearch, Match
from bot.domain.questions import QuestionRefused, ReplyTo
from bot.domain.skills import SkillsRefused
from bot.domain.text import from_form
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
from handlers.guard import guarded, slack_slow
from handlers.people import PersonNotFound, profiles, user_id_or_none
from handlers.questions import NOT_SET_UP
from handlers.slack_time import slack_time


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    @guarded
    async def find_experts(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        topic = (command.get("text") or "").strip()
        if topic.lower() in ("", "help"):
            await ack(text=command_help_text(EXPERT))
            return
        team_id, user_id = command["team_id"], command["user_id"]
        try:
            searcher = (await profiles(services, client, team_id, [user_id]))[user_id]
        except TimeoutError:
            await ack(text=slack_slow("look for experts"))
            return
        search = await services.run(
            services.experts.search, team_id, searcher, topic, command["trigger_id"]
        )
        if search.match.slug:
            services.forwarder.wake()
        await ack(text=expert_text(search, user_id), blocks=expert_blocks(search, user_id))

    @guarded
    async def change_endorsement(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        action = body["actions"][0]
        target = json.loads(action["value"])
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            people = await profiles(services, client, team_id, [user_id, target["user"]])
            if action["action_id"] == ENDORSE_ACTION:
                await services.run(
                    services.skills.endorse,
                    team_id,
                    people[user_id],
                    people[target["user"]],
                    target["skill"],
                    body["trigger_id"],
                    slack_time(body),
                )
            else:
                await services.run(
                    services.skills.withdraw,
                    team_id,
                    people[user_id],
                    target["user"],
                    target["skill"],
                    body["trigger_id"],
                    slack_time(body),
                )
        except (SkillsRefused, PersonNotFound, TimeoutError) as problem:
            context["endorsement"] = {"refused": _why(problem)}
            await ack()
            return
        services.forwarder.wake()
        context["endorsement"] = target
        await ack()

    @guarded
    async def refresh_after_endorsement(
        body: dict, respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """Redraws the message the button was on, so the button shows the new state."""
        outcome = context.get("endorsement") or {}
        if "refused" in outcome:
            await respond(
                text=outcome["refused"], response_type="ephemeral", replace_original=False
            )
            return
        team_id, viewer_id = body["user"]["team_id"], body["user"]["id"]
        origin = outcome["from"]
        if origin == "profile":
            profile = await services.run(services.skills.profile, team_id, outcome["user"])
            await respond(
                text=profile_text(profile),
                blocks=profile_blocks(profile, viewer_id),
                replace_original=True,
            )
            return
        slug = origin.removeprefix("expert:")
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

    # Ask: a small form, then the same path as /ask ---------------------------------------

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    @guarded
    async def open_ask_form(body: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        if not services.settings.qa_channel:
            await respond(text=NOT_SET_UP, response_type="ephemeral", replace_original=False)
            return
        target = json.loads(body["actions"][0]["value"])
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=ask_modal(
                user_id_or_none(target.get("user")), target["topic"], json.dumps(target)
            ),
        )

    @guarded
    async def post_from_form(
        ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        target = json.loads(view["private_metadata"])
        typed = from_form(
            view["state"]["values"][QUESTION_BLOCK][QUESTION_INPUT].get("value") or ""
        )
        channel = services.settings.qa_channel
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            if not channel:
                raise QuestionRefused(NOT_SET_UP)
            intent = await services.run(services.questions.read, team_id, typed, target["topic"])
            asker = (await profiles(services, client, team_id, [user_id]))[user_id]
        except (QuestionRefused, TimeoutError) as problem:
            message = getattr(problem, "message", slack_slow("post your question"))
            await ack(response_action="errors", errors={QUESTION_BLOCK: message[:150]})
            return
        asked = await services.run(
            services.questions.ask,
            team_id,
            asker,
            intent,
            channel,
            f"form:{view['id']}",
            user_id_or_none(target.get("user")),
            ReplyTo(view_id=view["id"]),
        )
        services.forwarder.wake()
        context["owed"] = list(asked.effects)
        await ack(response_action="update", view=asked_view(posting_text(channel)))

    @guarded
    async def publish_from_form(client: AsyncWebClient, context: AsyncBoltContext) -> None:
        """Posts the question as /ask does; the form then says where it is."""
        await effects.perform_now(client, context.get("owed") or [])

    app.command("/expert")(find_experts)
    app.action(ASK_ACTION)(ack=ack_only, lazy=[open_ask_form])
    app.view(ASK_VIEW)(ack=post_from_form, lazy=[publish_from_form])
    app.action(ENDORSE_ACTION)(ack=change_endorsement, lazy=[refresh_after_endorsement])
    app.action(WITHDRAW_ACTION)(ack=change_endorsement, lazy=[refresh_after_endorsement])


def _why(problem: Exception) -> str:
    if isinstance(problem, SkillsRefused):
        return problem.message
    if isinstance(problem, PersonNotFound):
        return f"I couldn't find <@{problem.user_id}> in this workspace."
    return slack_slow("change the endorsement")
