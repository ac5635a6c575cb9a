"""App Home: one person's learning record; for L&D admins also the xAPI outbox and totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.home import AdminRecord, LearningRecord
from bot.domain.workspace_settings import SettingChange
from bot.views.lunchlearn import when
from bot.views.mrkdwn import code, escape, link_label, shorten, truncate
from bot.views.workspace_settings import changes_blocks

PAUSE_ROUTING_ACTION = "home_pause_routing"
RESUME_ROUTING_ACTION = "home_resume_routing"
RETRY_DEAD_ACTION = "home_retry_dead"
RETRY_EFFECTS_ACTION = "home_retry_effects"


def _section(text: str) -> Any:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def _question_line(question: Any) -> str:
    label = link_label(question.text, 70)
    return f"• <{question.permalink}|{label}>" if question.permalink else f"• {label}"


def record_text(record: LearningRecord) -> str:
    """The record in brief (`/guild me`)."""
    skills = ", ".join(escape(f"#{s.slug}") for s in record.skills.declared) or "none yet"
    return (
        f"*Your learning record*\n• Skills: {skills}\n"
        f"• Kudos this month: {record.kudos_received} received, {record.kudos_given} given; "
        f"{record.quota.left} left to give today\n"
        f"• Questions: {len(record.open_questions)} of yours open, "
        f"{len(record.waiting_for_you)} waiting for your answer\n"
        f"• Lunch-and-learns coming up: {len(record.sessions)}\n"
        "More in guildbot's Home tab."
    )


def home_view(
    record: LearningRecord,
    admin: AdminRecord | None,
    now: datetime,
    learn_from: Sequence[dict[str, Any]] = (),
    settings_changes: Sequence[SettingChange] = (),
) -> dict[str, Any]:
    """`learn_from`: the "Learn from" section's blocks (bot/views/suggestions.py); for an
    admin, `settings_changes`: the workspace's latest."""
    blocks: list[Any] = [HeaderBlock(text="Your learning record")]

    skills = [
        f"• {code('#' + s.slug)} · {s.level or 'recognised'}"
        + (f" · endorsed by {len(s.endorsers)}" if s.endorsers else "")
        + (f" · {s.kudos} kudos" if s.kudos else "")
        for s in record.skills.skills[:15]
    ]
    blocks.append(
        _section(
            "*Skills*\n"
            + ("\n".join(skills) or "None yet. `/skills add python:expert` gets you started.")
        )
    )
    blocks.append(
        _section(
            f"*Kudos this month*\n{record.kudos_received} received · {record.kudos_given} given"
            f" · {record.quota.left} of {record.quota.limit} left to give today"
        )
    )
    questions = "*Your open questions*\n" + (
        "\n".join(_question_line(q) for q in record.open_questions) or "None."
    )
    questions += "\n*Waiting for your answer*\n" + (
        "\n".join(_question_line(q) for q in record.waiting_for_you) or "Nothing right now."
    )
    blocks.append(_section(questions))
    sessions = [
        f"• *{escape(lunch.title)}*, {when(lunch.starts_at)} · "
        + {"going": "you're going", "waitlist": "you're on the waitlist"}.get(
            status or "", "not signed up"
        )
        for lunch, status in record.sessions
    ]
    blocks.append(
        _section("*Lunch-and-learns coming up*\n" + ("\n".join(sessions) or "None scheduled."))
    )
    if learn_from:
        blocks.append(DividerBlock())
        blocks += learn_from
    blocks.append(DividerBlock())
    if record.paused_until:
        epoch = int(record.paused_until.timestamp())
        blocks.append(
            _section(
                f"*Routed questions* are paused until <!date^{epoch}^{{date_short_pretty}}|later>."
            )
        )
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text="Resume now", action_id=RESUME_ROUTING_ACTION)]
            )
        )
    else:
        blocks.append(_section("*Routed questions*: you get up to a few a day on skills you know."))
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text="Pause for a week", action_id=PAUSE_ROUTING_ACTION)]
            )
        )
    if admin is not None:
        blocks += _admin_blocks(admin)
        blocks += changes_blocks(settings_changes)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"Updated <!date^{int(now.timestamp())}^{{time}}|now>")
            ]
        )
    )
    return View(type="home", blocks=blocks).to_dict()


def _admin_blocks(admin: AdminRecord) -> list[Any]:
    outbox = admin.outbox
    last = (
        f"<!date^{int(outbox.last_sent_at.timestamp())}^{{date_short_pretty}} {{time}}|recently>"
        if outbox.last_sent_at
        else "never"
    )
    text = (
        f"*xAPI outbox* (L&D)\n{outbox.pending} pending · {outbox.dead} dead-lettered · "
        f"{outbox.sent} delivered · last delivery {last}"
    )
    blocks: list[Any] = [DividerBlock(), _section(text)]
    if admin.dead:
        reasons = "\n".join(
            f"• `{d.statement_id[:8]}` {escape(shorten(d.reason, 120))}" for d in admin.dead
        )
        blocks.append(_section("*Dead letters*\n" + reasons))
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Retry dead letters", action_id=RETRY_DEAD_ACTION, style="primary"
                    )
                ]
            )
        )
    blocks += _effects_blocks(admin)
    blocks.append(
        _section(
            f"*This month*: {admin.kudos_this_month} kudos · "
            f"{admin.questions_this_month} questions asked"
        )
    )
    return blocks


def _effects_blocks(admin: AdminRecord) -> list[Any]:
    """Posts and DMs owed to Slack: how many wait, and those Slack refused, with its reason."""
    effects = admin.effects
    text = (
        f"*Slack posts and messages owed*\n{effects.pending} waiting · "
        f"{effects.dead} that Slack refused"
    )
    blocks: list[Any] = [_section(text)]
    if admin.dead_effects:
        reasons = "\n".join(
            f"• {_effect_kind(d.kind)}: {escape(shorten(d.reason, 120))}"
            for d in admin.dead_effects
        )
        blocks.append(_section("*Refused*\n" + reasons))
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text="Try them again", action_id=RETRY_EFFECTS_ACTION)]
            )
        )
    return blocks


def _effect_kind(kind: str) -> str:
    """`kudos.removed_notice` → `kudos removed notice`."""
    return kind.replace(".", " ").replace("_", " ")
