"""Skill profiles, expert results, the Edit skills form and the forget-me confirmation."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    ExternalDataMultiSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.experts import ExpertSearch, Ranked
from bot.domain.skills import LEVELS, MAX_SKILLS_PER_PERSON, SkillEntry, SkillProfile
from bot.views.mrkdwn import code, escape, readable, render

ENDORSE_ACTION = "skill_endorse"
WITHDRAW_ACTION = "skill_withdraw"
EDIT_ACTION = "skills_edit"
FORGET_CONFIRM_ACTION = "skills_forget_confirm"
FORGET_CANCEL_ACTION = "skills_forget_cancel"
EDIT_VIEW = "skills_edit"
PICKER_BLOCK, PICKER_ACTION = "skills", "skills_pick"
LEVEL_BLOCK_PREFIX, LEVEL_ACTION = "level:", "skill_level"
ASK_ACTION = "expert_ask"
ASK_VIEW = "expert_ask"
QUESTION_BLOCK, QUESTION_INPUT = "question", "question_input"
SHOWN_SKILLS = 40  # a message holds 50 blocks
# After the searcher's own name in expert results: a mention alone reads like anyone else's.
YOU = " (you)"


def tag(slug: str) -> str:
    return code(f"#{slug}")


def endorsement_value(user_id: str, slug: str, origin: str) -> str:
    """What an Endorse button carries: whose skill, which one, and what message to refresh."""
    return json.dumps({"user": user_id, "skill": slug, "from": origin}, separators=(",", ":"))


def _endorse_button(user_id: str, slug: str, endorsed: bool, origin: str) -> ButtonElement:
    value = endorsement_value(user_id, slug, origin)
    if endorsed:
        return ButtonElement(text="Endorsed ✓ (withdraw)", action_id=WITHDRAW_ACTION, value=value)
    return ButtonElement(text="Endorse", action_id=ENDORSE_ACTION, value=value, style="primary")


def _profile_line(entry: SkillEntry) -> str:
    parts = [entry.level or "recognised, not declared"]
    if entry.endorsers:
        parts.append(f"endorsed by {len(entry.endorsers)}")
    if entry.kudos:
        parts.append(f"{entry.kudos} kudos for it")
    return f"*{tag(entry.slug)}* · " + " · ".join(parts)


def profile_blocks(profile: SkillProfile, viewer_id: str) -> list[dict[str, Any]]:
    """Someone's skills with the evidence; Endorse buttons for others, Edit for the owner."""
    own = profile.user_id == viewer_id
    title = "Your skills" if own else "Skills"
    blocks: list[Any] = [HeaderBlock(text=title)]
    if not own:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"<@{profile.user_id}>")))
    if not profile.skills:
        empty = (
            "You haven't added any skills yet. Try `/skills add python:expert, react` or Edit."
            if own
            else f"<@{profile.user_id}> hasn't added any skills yet."
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty)))
    for entry in profile.skills[:SHOWN_SKILLS]:
        accessory = None
        if not own:
            endorsed = viewer_id in entry.endorsers
            accessory = _endorse_button(profile.user_id, entry.slug, endorsed, "profile")
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=_profile_line(entry)), accessory=accessory)
        )
    if own:
        blocks.append(
            ActionsBlock(elements=[ButtonElement(text="Edit skills", action_id=EDIT_ACTION)])
        )
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="`/skills add python:expert, react` · `/skills remove react` · "
                        "`/skills forget me`. Levels: learning, practitioner, expert."
                    )
                ]
            )
        )
    return [block.to_dict() for block in blocks]


def profile_text(profile: SkillProfile) -> str:
    declared = ", ".join(escape(f"#{s.slug} ({s.level})") for s in profile.declared) or "none yet"
    return f"Skills of <@{profile.user_id}>: {declared}"


def evidence_words(ranked: Ranked, slug: str) -> str:
    """ "expert · endorsed by 4 · 3 kudos for #python" — why this person ranks here."""
    slug = escape(slug)
    parts = [f"{ranked.level} (declared)" if ranked.level else "not declared"]
    if ranked.endorsements:
        parts.append(f"endorsed by {ranked.endorsements}")
    if ranked.sessions:
        talks = "session" if ranked.sessions == 1 else "sessions"
        parts.append(f"presented {ranked.sessions} {talks} on #{slug}")
    if ranked.answers:
        answers = "accepted answer" if ranked.answers == 1 else "accepted answers"
        parts.append(f"{ranked.answers} {answers} on #{slug}")
    if ranked.kudos:
        parts.append(f"{ranked.kudos} kudos for #{slug}")
    if ranked.contributions:
        days = "day" if ranked.contributions == 1 else "days"
        parts.append(f"contributed to #{slug} communities on {ranked.contributions} {days}")
    return " · ".join(parts)


def expert_blocks(search: ExpertSearch, viewer_id: str) -> list[dict[str, Any]]:
    match = search.match
    if match.slug is None:
        return [
            SectionBlock(
                text=MarkdownTextObject(text=no_match_text(match.typed, match.suggestions))
            ).to_dict(),
            _ask_actions(None, match.typed, "Post it as a question").to_dict(),
        ]
    slug = match.slug
    blocks: list[Any] = [HeaderBlock(text=f"Who knows #{slug}"[:150])]
    if match.how == "close":
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Showing {tag(slug)}, the closest skill to “{render(match.typed)}”."
                    )
                ]
            )
        )
    if not search.experts:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Nobody has evidence for {tag(slug)} yet. Know it? "
                    f"{code('/skills add ' + slug)} puts you on the map."
                )
            )
        )
        blocks.append(_ask_actions(None, slug, "Post it as a question"))
    for place, ranked in enumerate(search.experts, start=1):
        own = ranked.user_id == viewer_id
        accessory = None
        if not own:
            endorsed = ranked.user_id in search.endorsed_by_searcher
            accessory = _endorse_button(ranked.user_id, slug, endorsed, f"expert:{slug}")
        name = f"*{place}. <@{ranked.user_id}>*" + (YOU if own else "")
        line = f"{name}\n{evidence_words(ranked, slug)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line), accessory=accessory))
        if not own:
            blocks.append(_ask_actions(ranked.user_id, slug, "Ask"))
    if search.learned_from:
        helped = ", ".join(
            f"<@{teacher}> ({count} of them)" for teacher, count in search.learned_from
        )
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"People learning {tag(slug)} like you also learned from: {helped} "
                    "(accepted answers to their questions, sessions they attended)."
                )
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Ranked by evidence: declared level, accepted answers, endorsements and "
                    "kudos naming the skill, recent evidence counting most."
                )
            ]
        )
    )
    return [block.to_dict() for block in blocks]


def _ask_actions(user_id: str | None, topic: str, label: str) -> Any:
    value = json.dumps({"user": user_id, "topic": topic}, separators=(",", ":"))
    return ActionsBlock(
        elements=[ButtonElement(text=label, action_id=ASK_ACTION, value=value[:2000])]
    )


def ask_modal(user_id: str | None, topic: str, private_metadata: str) -> dict[str, Any]:
    """A small form to post a question, with the topic as its tag, maybe to one person."""
    to = f"To <@{user_id}>, in the Q&A channel" if user_id else "In the Q&A channel"
    return View(
        type="modal",
        callback_id=ASK_VIEW,
        title="Ask a question",
        submit="Post",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=f"{to} · {tag(readable(topic))}")]),
            InputBlock(
                block_id=QUESTION_BLOCK,
                label="Your question",
                element=PlainTextInputElement(
                    action_id=QUESTION_INPUT,
                    multiline=True,
                    max_length=2000,
                    placeholder="What are you trying to do, and what have you tried?",
                ),
            ),
        ],
    ).to_dict()


def asked_view(text: str) -> dict[str, Any]:
    return View(
        type="modal",
        title="Ask a question",
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def expert_text(search: ExpertSearch, viewer_id: str) -> str:
    if search.match.slug is None:
        return no_match_text(search.match.typed, search.match.suggestions)
    people = (
        ", ".join(f"<@{r.user_id}>{YOU if r.user_id == viewer_id else ''}" for r in search.experts)
        or "nobody yet"
    )
    return f"Who knows {escape('#' + search.match.slug)}: {people}"


def no_match_text(typed: str, suggestions: Sequence[str]) -> str:
    """`typed` is the command's text."""
    text = f"I don't know a skill called “{render(typed)}” yet."
    if suggestions:
        text += " Did you mean " + ", ".join(tag(s) for s in suggestions) + "?"
    return text + f" If you know it, {code('/skills add ' + readable(typed))} starts the list."


# The Edit skills form ---------------------------------------------------------------------------


def skill_option(slug: str, label: str | None = None) -> Option:
    return Option(value=slug, text=(label or f"#{slug}")[:75])


def add_option(typed: str, slug: str) -> dict[str, Any]:
    """The first suggestion: Slack selects take no free text, so typing offers to add it."""
    return skill_option(slug, f"Add “{typed.strip()}”").to_dict()


def edit_modal(chosen: Sequence[tuple[str, str]], private_metadata: str) -> dict[str, Any]:
    """The picker (options come from `block_suggestion`), then one level select per skill."""
    picker = ExternalDataMultiSelectElement(
        action_id=PICKER_ACTION,
        placeholder="Type a skill",
        min_query_length=1,
        max_selected_items=MAX_SKILLS_PER_PERSON,
        initial_options=[skill_option(slug) for slug, _ in chosen] or None,
    )
    blocks: list[Any] = [
        InputBlock(
            block_id=PICKER_BLOCK,
            label="Your skills",
            hint="Type to search; pick “Add …” for a skill nobody has added yet.",
            element=picker,
            optional=True,
            dispatch_action=True,
        )
    ]
    levels = [Option(value=level, text=level.capitalize()) for level in LEVELS]
    for slug, level in chosen:
        blocks.append(
            InputBlock(
                block_id=LEVEL_BLOCK_PREFIX + slug,
                label=f"#{slug}"[:2000],
                element=StaticSelectElement(
                    action_id=LEVEL_ACTION,
                    options=levels,
                    initial_option=next(o for o in levels if o.value == level),
                ),
            )
        )
    return View(
        type="modal",
        callback_id=EDIT_VIEW,
        title="Edit skills",
        submit="Save",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=blocks,
    ).to_dict()


def forget_confirmation_blocks(skill_count: int) -> list[dict[str, Any]]:
    what = (
        ("your skill" if skill_count == 1 else f"your {skill_count} skills")
        if skill_count
        else "your skills (you have none now)"
    )
    text = (
        f"*Forget me?* This deletes {what} and the endorsements you gave and received, keeps "
        "you out of expert rankings until you add a skill again, and voids your skill records "
        "in the learning record store. Kudos stay as they are."
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Forget me",
                    action_id=FORGET_CONFIRM_ACTION,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Forget your skills?",
                        text="This can't be undone.",
                        confirm="Forget me",
                        deny="Keep them",
                    ),
                ),
                ButtonElement(text="Cancel", action_id=FORGET_CANCEL_ACTION),
            ]
        ).to_dict(),
    ]


def changes_text(changes: Collection[Any]) -> str:
    """A one-line summary of what `/skills add|remove` did."""
    groups: dict[str, list[str]] = {}
    for change in changes:
        label = escape(f"#{change.slug}" + (f" ({change.level})" if change.level else ""))
        groups.setdefault(change.outcome, []).append(label)
    sentences = {
        "added": "Added {}.",
        "level": "Updated {}.",
        "unchanged": "Already there: {}.",
        "removed": "Removed {}.",
        "not declared": "Not on your profile: {}.",
    }
    return " ".join(sentences[k].format(", ".join(v)) for k, v in groups.items())
