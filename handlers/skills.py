"""`/skills`: your profile (with the Edit form), someone else's, add, remove, forget me."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.refused import Refused
from bot.domain.skills import (
    DEFAULT_LEVEL,
    MAX_SKILLS_PER_PERSON,
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
from handlers.seam import Seam, Turn, ack_only, doing, says, subcommand

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
MAX_OPTIONS = 20
# Every /skills answer that needs Slack says this when Slack is slow.
SKILLS_DOING = "change or show any skills"


def register(app: AsyncApp, services: Services, effects: EffectRunner) -> None:
    on = Seam(services, effects)
    command = app.command
    command("/skills", matchers=[says("help")])(**on(show_help))
    command("/skills", matchers=[says("")])(**on(show_own_profile))
    command("/skills", matchers=[subcommand("add")])(**on(add_skills))
    command("/skills", matchers=[subcommand("remove")])(**on(remove_skills))
    command("/skills", matchers=[says("forget me")])(**on(ask_to_forget))
    command("/skills", matchers=[names_someone])(**on(show_someones_profile))
    command("/skills")(**on(unknown))
    app.action(EDIT_ACTION)(**on(ack_only, open_edit_form))
    app.options(PICKER_ACTION)(**on(suggest_skills))
    app.action(PICKER_ACTION)(**on(ack_only, update_level_selects))
    # Changing a level needs no round trip; it is read when the form is saved.
    app.action(LEVEL_ACTION)(**on(ack_only))
    app.view(EDIT_VIEW)(**on(save_edit_form, refresh_profile_message))
    app.action(FORGET_CONFIRM_ACTION)(**on(forget_me, confirm_forgotten))
    app.action(FORGET_CANCEL_ACTION)(**on(ack_only, cancel_forget))


# The command ------------------------------------------------------------------------------


async def show_help(ack: AsyncAck) -> None:
    await ack(text=command_help_text(SKILLS))


async def show_own_profile(ack: AsyncAck, command: dict, turn: Turn) -> None:
    await show_profile(ack, turn, command["user_id"], command["user_id"])


@doing(SKILLS_DOING)
async def add_skills(ack: AsyncAck, command: dict, turn: Turn) -> None:
    skills = turn.services.skills
    wanted = read_skill_list(_rest(command), skills.names.for_team(turn.team_id))
    await _change(ack, turn, skills.declare, wanted, command["trigger_id"])


@doing(SKILLS_DOING)
async def remove_skills(ack: AsyncAck, command: dict, turn: Turn) -> None:
    skills = turn.services.skills
    slugs = read_skill_names(_rest(command), skills.names.for_team(turn.team_id))
    await _change(ack, turn, skills.remove, slugs, command["trigger_id"])


async def _change(
    ack: AsyncAck, turn: Turn, change: Callable[..., list[Any]], skills: Any, cause: str
) -> None:
    """Declares or removes the acting person's skills, and says what changed."""
    changes = await turn.record(change, turn.team_id, turn.actor, skills, cause)
    await ack(text=changes_text(changes))


async def ask_to_forget(ack: AsyncAck, command: dict, turn: Turn) -> None:
    skills = turn.services.skills
    profile = await turn.services.run(skills.profile, turn.team_id, command["user_id"])
    await ack(text="Forget your skills?", blocks=forget_confirmation_blocks(len(profile.declared)))


async def names_someone(command: dict) -> bool:
    return _mentioned(command) is not None


def _mentioned(command: dict) -> str | None:
    """The person the command's whole text names, if it names one."""
    mention = _MENTION.match((command.get("text") or "").strip())
    return mention[1] if mention else None


@doing(SKILLS_DOING)
async def show_someones_profile(ack: AsyncAck, command: dict, turn: Turn) -> None:
    subject = await turn.person(_mentioned(command) or "")
    if subject.is_bot or subject.deleted:
        raise Refused(f"<@{subject.user_id}> has no skills profile: it isn't a person here.")
    await show_profile(ack, turn, subject.user_id, command["user_id"])


async def unknown(ack: AsyncAck, command: dict) -> None:
    typed = code(f"/skills {readable(command['text'].strip())}")
    await ack(text=f"I don't know {typed}.\n" + command_help_text(SKILLS))


async def show_profile(ack: AsyncAck, turn: Turn, owner_id: str, viewer_id: str) -> None:
    profile = await turn.services.run(turn.services.skills.profile, turn.team_id, owner_id)
    await ack(text=profile_text(profile), blocks=profile_blocks(profile, viewer_id))


def _rest(command: dict) -> str:
    return command["text"].strip().partition(" ")[2]


# Edit form ----------------------------------------------------------------------------------


async def open_edit_form(body: dict, client: AsyncWebClient, turn: Turn) -> None:
    skills = turn.services.skills
    profile = await turn.services.run(skills.profile, turn.team_id, body["user"]["id"])
    chosen = [(s.slug, s.level or DEFAULT_LEVEL) for s in profile.declared]
    # Saving refreshes the profile message the Edit button was on.
    metadata = json.dumps({"response_url": body.get("response_url")})
    await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(chosen, metadata))


async def suggest_skills(ack: AsyncAck, body: dict, turn: Turn) -> None:
    skills = turn.services.skills
    typed = (body.get("value") or "").strip()
    slug = skills.names.for_team(turn.team_id).canonical(typed)
    if not slug:
        await ack(options=[])
        return
    matches = await turn.services.run(skills.suggest, turn.team_id, typed, MAX_OPTIONS)
    options = [add_option(typed, slug)]
    options += [skill_option(s).to_dict() for s in matches if s != slug][: MAX_OPTIONS - 1]
    await ack(options=options)


async def update_level_selects(body: dict, client: AsyncWebClient) -> None:
    view = body["view"]
    chosen = _chosen(view["state"]["values"], _picked(body))
    await client.views_update(
        view_id=view["id"], hash=view["hash"], view=edit_modal(chosen, view["private_metadata"])
    )


@dataclass(frozen=True)
class Saved:
    """The skills form was saved: the profile message it came from is redrawn."""


@doing("save your skills", field=PICKER_BLOCK)
async def save_edit_form(ack: AsyncAck, view: dict, turn: Turn) -> Saved:
    skills = turn.services.skills
    values = view["state"]["values"]
    wanted = read_picked(
        _chosen(values, _picked_on_form(values)), skills.names.for_team(turn.team_id)
    )
    await turn.record(skills.replace, turn.team_id, turn.actor, wanted, f"form:{view['id']}")
    await ack()
    return Saved()


def _picked_on_form(values: dict[str, Any]) -> list[str]:
    """The skills picked on the form; refuses none (that is what forget me is for) and too many."""
    selected = values[PICKER_BLOCK][PICKER_ACTION].get("selected_options") or []
    picked = [o["value"] for o in selected]
    if not picked:
        raise Refused("Pick at least one skill. To remove them all, use /skills forget me.")
    if len(picked) > MAX_SKILLS_PER_PERSON:
        raise Refused(f"Pick at most {MAX_SKILLS_PER_PERSON} skills.")
    return picked


async def refresh_profile_message(handoff: Saved, body: dict, view: dict, turn: Turn) -> None:
    echoed = json.loads(view["private_metadata"] or "{}").get("response_url")
    response_url = slack_response_url(echoed, turn.services.settings)
    if not response_url:
        return
    user_id = body["user"]["id"]
    profile = await turn.services.run(turn.services.skills.profile, turn.team_id, user_id)
    await AsyncWebhookClient(response_url).send(
        text=profile_text(profile), blocks=profile_blocks(profile, user_id), replace_original=True
    )


# Forget me ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    skills: int
    endorsements: int


@doing("forget your skills")
async def forget_me(ack: AsyncAck, turn: Turn) -> Forgotten:
    forgotten = await turn.record(turn.services.skills.forget, turn.team_id, turn.actor)
    await ack()
    return Forgotten(forgotten.skills, forgotten.endorsements)


async def confirm_forgotten(handoff: Forgotten, respond: AsyncRespond) -> None:
    await respond(
        text=(
            f"Done: {plural(handoff.skills, 'skill')} and "
            f"{plural(handoff.endorsements, 'endorsement')} deleted, your skill "
            "records voided, and you're out of expert rankings. Add a skill any time to "
            "come back."
        ),
        replace_original=True,
    )


async def cancel_forget(respond: AsyncRespond) -> None:
    await respond(text="Nothing changed: your skills are as they were.", replace_original=True)


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
