"""`/skills`: your profile (with the Edit form), someone else's, add, remove, forget me."""

from __future__ import annotations

import json
import re

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.skills import (
    DEFAULT_LEVEL,
    MAX_SKILLS_PER_PERSON,
    SkillsRefused,
    read_picked,
    read_skill_list,
    read_skill_names,
)
from bot.services import Services
from bot.slack_client import slack_response_url
from bot.views.help import SKILLS, command_help_text
from bot.views.mrkdwn import code, readable
from bot.views.skills import (
    EDIT_ACTION,
    EDIT_VIEW,
    FORGET_CANCEL_ACTION,
    FORGET_CONFIRM_ACTION,
    LEVEL_ACTION,
    LEVEL_BLOCK_PREFIX,
    PICKER_ACTION,
    PICKER_BLOCK,
    add_option,
    changes_text,
    edit_modal,
    forget_confirmation_blocks,
    profile_blocks,
    profile_text,
    skill_option,
)
from handlers.effects import EffectRunner
from handlers.guard import guarded, slack_slow
from handlers.people import PersonNotFound, profiles

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
MAX_OPTIONS = 20


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    @guarded
    async def skills_command(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        text = (command.get("text") or "").strip()
        team_id, user_id = command["team_id"], command["user_id"]
        first, _, rest = text.partition(" ")
        verb = first.lower()
        try:
            if verb == "help":
                await ack(text=command_help_text(SKILLS))
            elif verb == "":
                await show_profile(ack, team_id, user_id, user_id)
            elif verb == "add":
                wanted = read_skill_list(rest, services.skills.names)
                person = (await profiles(services, client, team_id, [user_id]))[user_id]
                changes = await services.run(
                    services.skills.declare, team_id, person, wanted, command["trigger_id"]
                )
                services.forwarder.wake()
                await ack(text=changes_text(changes))
            elif verb == "remove":
                slugs = read_skill_names(rest, services.skills.names)
                person = (await profiles(services, client, team_id, [user_id]))[user_id]
                changes = await services.run(
                    services.skills.remove, team_id, person, slugs, command["trigger_id"]
                )
                services.forwarder.wake()
                await ack(text=changes_text(changes))
            elif text.lower() == "forget me":
                profile = await services.run(services.skills.profile, team_id, user_id)
                await ack(
                    text="Forget your skills?",
                    blocks=forget_confirmation_blocks(len(profile.declared)),
                )
            elif mention := _MENTION.match(text):
                subject = (await profiles(services, client, team_id, [mention[1]]))[mention[1]]
                if subject.is_bot or subject.deleted:
                    await ack(
                        text=f"<@{subject.user_id}> has no skills profile: it isn't a person here."
                    )
                    return
                await show_profile(ack, team_id, subject.user_id, user_id)
            else:
                unknown = code(f"/skills {readable(text)}")
                await ack(text=f"I don't know {unknown}.\n" + command_help_text(SKILLS))
        except SkillsRefused as refusal:
            await ack(text=refusal.message)
        except PersonNotFound as missing:
            await ack(text=f"I couldn't find <@{missing.user_id}> in this workspace.")
        except TimeoutError:
            await ack(text=slack_slow("change or show any skills"))

    async def show_profile(ack: AsyncAck, team_id: str, owner_id: str, viewer_id: str) -> None:
        profile = await services.run(services.skills.profile, team_id, owner_id)
        await ack(text=profile_text(profile), blocks=profile_blocks(profile, viewer_id))

    # Edit form ------------------------------------------------------------------------------

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    @guarded
    async def open_edit_form(body: dict, client: AsyncWebClient) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        profile = await services.run(services.skills.profile, team_id, user_id)
        chosen = [(s.slug, s.level or DEFAULT_LEVEL) for s in profile.declared]
        # Saving refreshes the profile message the Edit button was on.
        metadata = json.dumps({"response_url": body.get("response_url")})
        await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(chosen, metadata))

    @guarded
    async def suggest_skills(ack: AsyncAck, body: dict) -> None:
        typed = (body.get("value") or "").strip()
        slug = services.skills.names.canonical(typed)
        if not slug:
            await ack(options=[])
            return
        team_id = body["user"]["team_id"]
        matches = await services.run(services.skills.suggest, team_id, typed, MAX_OPTIONS)
        options = [add_option(typed, slug)]
        options += [skill_option(s).to_dict() for s in matches if s != slug][: MAX_OPTIONS - 1]
        await ack(options=options)

    @guarded
    async def update_level_selects(body: dict, client: AsyncWebClient) -> None:
        view = body["view"]
        chosen = _chosen(view["state"]["values"], _picked(body))
        await client.views_update(
            view_id=view["id"],
            hash=view["hash"],
            view=edit_modal(chosen, view["private_metadata"]),
        )

    @guarded
    async def save_edit_form(
        ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        values = view["state"]["values"]
        picked = [
            o["value"] for o in values[PICKER_BLOCK][PICKER_ACTION].get("selected_options") or []
        ]
        if not picked:
            await ack(
                response_action="errors",
                errors={
                    PICKER_BLOCK: "Pick at least one skill. To remove them all, "
                    "use /skills forget me."
                },
            )
            return
        if len(picked) > MAX_SKILLS_PER_PERSON:
            await ack(
                response_action="errors",
                errors={PICKER_BLOCK: f"Pick at most {MAX_SKILLS_PER_PERSON} skills."},
            )
            return
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        try:
            wanted = read_picked(_chosen(values, picked), services.skills.names)
            person = (await profiles(services, client, team_id, [user_id]))[user_id]
        except SkillsRefused as refusal:
            await ack(response_action="errors", errors={PICKER_BLOCK: refusal.message[:150]})
            return
        except TimeoutError:
            await ack(
                response_action="errors", errors={PICKER_BLOCK: slack_slow("save your skills")}
            )
            return
        changes = await services.run(
            services.skills.replace, team_id, person, wanted, f"form:{view['id']}"
        )
        services.forwarder.wake()
        context["saved"] = {"summary": changes_text(changes) or "No changes."}
        await ack()

    @guarded
    async def refresh_profile_message(body: dict, view: dict, context: AsyncBoltContext) -> None:
        echoed = json.loads(view["private_metadata"] or "{}").get("response_url")
        response_url = slack_response_url(echoed, services.settings)
        if not context.get("saved") or not response_url:
            return
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        profile = await services.run(services.skills.profile, team_id, user_id)
        await AsyncWebhookClient(response_url).send(
            text=profile_text(profile),
            blocks=profile_blocks(profile, user_id),
            replace_original=True,
        )

    # Forget me ------------------------------------------------------------------------------

    @guarded
    async def forget_me(
        ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team_id, user_id = body["user"]["team_id"], body["user"]["id"]
        person = (await profiles(services, client, team_id, [user_id]))[user_id]
        forgotten = await services.run(services.skills.forget, team_id, person)
        services.forwarder.wake()
        context["forgotten"] = {
            "skills": forgotten.skills,
            "endorsements": forgotten.endorsements,
        }
        await ack()

    @guarded
    async def confirm_forgotten(respond: AsyncRespond, context: AsyncBoltContext) -> None:
        done = context.get("forgotten") or {}
        await respond(
            text=(
                f"Done: {plural(done.get('skills', 0), 'skill')} and "
                f"{plural(done.get('endorsements', 0), 'endorsement')} deleted, your skill "
                "records voided, and you're out of expert rankings. Add a skill any time to "
                "come back."
            ),
            replace_original=True,
        )

    @guarded
    async def cancel_forget(respond: AsyncRespond) -> None:
        await respond(text="Nothing changed: your skills are as they were.", replace_original=True)

    app.command("/skills")(skills_command)
    app.action(EDIT_ACTION)(ack=ack_only, lazy=[open_edit_form])
    app.options(PICKER_ACTION)(suggest_skills)
    app.action(PICKER_ACTION)(ack=ack_only, lazy=[update_level_selects])
    # Changing a level needs no round trip; it is read when the form is saved.
    app.action(LEVEL_ACTION)(ack_only)
    app.view(EDIT_VIEW)(ack=save_edit_form, lazy=[refresh_profile_message])
    app.action(FORGET_CONFIRM_ACTION)(ack=forget_me, lazy=[confirm_forgotten])
    app.action(FORGET_CANCEL_ACTION)(ack=ack_only, lazy=[cancel_forget])


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _picked(body: dict) -> list[str]:
    action = body["actions"][0]
    return [o["value"] for o in action.get("selected_options") or []]


def _chosen(values: dict, picked: list[str]) -> list[tuple[str, str]]:
    """Each picked skill with the level chosen on the form (the default for a new one)."""
    chosen = []
    for slug in dict.fromkeys(picked):
        selected = (values.get(LEVEL_BLOCK_PREFIX + slug) or {}).get(LEVEL_ACTION) or {}
        level = (selected.get("selected_option") or {}).get("value") or DEFAULT_LEVEL
        chosen.append((slug, level))
    return chosen
