"""The L&D settings modal (opened from App Home by a workspace's L&D admins), read back when
it is submitted, and the log of changes App Home shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.workspace import WorkspaceSettings
from bot.domain.workspace_settings import SettingChange, SettingsForm, reminder_text
from bot.views.mrkdwn import escape, truncate

SETTINGS_ACTION = "home_lnd_settings"
SETTINGS_VIEW = "lnd_settings"
CHECKIN_CODE_ON = "on"

LABELS = {
    "qa_channel": "Q&A channel",
    "digest_channel": "Digest channel",
    "digest_cron": "Digest schedule",
    "lnd_admins": "L&D admins",
    "kudos_managers": "Kudos managers",
    "kudos_emoji": "Kudos emoji",
    "kudos_daily_limit": "Kudos a day",
    "kudos_manager_daily_limit": "Kudos a day for managers",
    "lunchlearn_reminders": "Lunch-and-learn reminders",
    "lunchlearn_checkin_code": "Check-in code",
    "skill_aliases": "Skill aliases",
}
"""Each setting's name in Slack; its block id in the modal is the setting's own name."""


def settings_modal(settings: WorkspaceSettings) -> dict[str, Any]:
    """The form, filled in with the settings in force."""

    def field(name: str, element: Any, hint: str, optional: bool = False) -> InputBlock:
        return InputBlock(
            block_id=name, label=LABELS[name], element=element, hint=hint, optional=optional
        )

    def channel(initial: str | None) -> ConversationSelectElement:
        return ConversationSelectElement(
            action_id="value",
            initial_conversation=initial,
            filter={"include": ["public", "private"], "exclude_bot_users": True},
        )

    def text(initial: str, max_length: int) -> PlainTextInputElement:
        return PlainTextInputElement(
            action_id="value", initial_value=initial or None, max_length=max_length
        )

    code = Option(value=CHECKIN_CODE_ON, text="Ask for a code the presenter announces")
    blocks = [
        field(
            "qa_channel",
            channel(settings.qa_channel),
            "Where /ask posts questions. Invite guildbot there.",
            optional=True,
        ),
        field(
            "digest_channel",
            channel(settings.digest_channel),
            "Where the weekly digest goes. Empty: no digest.",
            optional=True,
        ),
        field(
            "digest_cron",
            text(settings.digest_cron, 100),
            "When it goes: minute hour day month weekday, in guildbot's time zone. "
            "0 9 * * 1 is Mondays 09:00; 30 16 * * 5 is Fridays 16:30.",
        ),
        field(
            "lnd_admins",
            UserMultiSelectElement(
                action_id="value", initial_users=sorted(settings.lnd_admins.user_ids) or None
            ),
            "They change these settings, schedule lunch-and-learns and remove kudos.",
        ),
        field(
            "kudos_managers",
            UserMultiSelectElement(
                action_id="value", initial_users=sorted(settings.kudos_managers) or None
            ),
            "They may give more kudos a day than others.",
            optional=True,
        ),
        field(
            "kudos_emoji",
            text(f":{settings.kudos_emoji}:", 100),
            "Reacting with it gives kudos, e.g. :trophy: or :tada:.",
        ),
        field(
            "kudos_daily_limit",
            text(str(settings.kudos_daily_limit), 6),
            "Kudos each person may give a day, in their own time zone.",
        ),
        field(
            "kudos_manager_daily_limit",
            text(str(settings.kudos_manager_daily_limit), 6),
            "Kudos each manager may give a day.",
        ),
        field(
            "lunchlearn_reminders",
            text(reminder_text(settings.lunchlearn_reminders), 100),
            "When those going are reminded, e.g. 24h, 15m. Empty: no reminders. "
            "For sessions scheduled from now on.",
            optional=True,
        ),
        field(
            "lunchlearn_checkin_code",
            CheckboxesElement(
                action_id="value",
                options=[code],
                initial_options=[code] if settings.lunchlearn_checkin_code else None,
            ),
            "Checking in to a lunch-and-learn also asks for a code.",
            optional=True,
        ),
        field(
            "skill_aliases",
            PlainTextInputElement(
                action_id="value",
                initial_value=settings.skill_aliases or None,
                multiline=True,
                max_length=3000,
            ),
            "One skill a line: skill: alias, alias (e.g. kubernetes: k8s, kube). "
            "Added to guildbot's own; yours win.",
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=SETTINGS_VIEW,
        title="L&D settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def read_settings_form(values: dict[str, Any]) -> SettingsForm:
    """The form as submitted (`view.state.values`), unchecked."""

    def element(name: str) -> dict[str, Any]:
        return (values.get(name) or {}).get("value") or {}

    def text(name: str) -> str:
        return element(name).get("value") or ""

    checked = element("lunchlearn_checkin_code").get("selected_options") or []
    return SettingsForm(
        qa_channel=element("qa_channel").get("selected_conversation"),
        digest_channel=element("digest_channel").get("selected_conversation"),
        digest_cron=text("digest_cron"),
        lnd_admins=tuple(element("lnd_admins").get("selected_users") or ()),
        kudos_managers=tuple(element("kudos_managers").get("selected_users") or ()),
        kudos_emoji=text("kudos_emoji"),
        kudos_daily_limit=text("kudos_daily_limit"),
        kudos_manager_daily_limit=text("kudos_manager_daily_limit"),
        lunchlearn_reminders=text("lunchlearn_reminders"),
        lunchlearn_checkin_code=any(o.get("value") == CHECKIN_CODE_ON for o in checked),
        skill_aliases=text("skill_aliases"),
    )


def shown(name: str, value: Any) -> str:
    """A stored value as App Home shows it: channels and people as links, the rest as read."""
    if value is None or value == []:
        return "none" if name.endswith(("admins", "managers", "reminders")) else "not set"
    if name == "skill_aliases":
        return escape(value.replace("\n", "; ")) or "none"
    if name.endswith("_channel"):
        return f"<#{value}>"
    if name in ("lnd_admins", "kudos_managers"):
        return ", ".join(f"<@{uid}>" for uid in value)
    if name == "kudos_emoji":
        return f":{value}:"
    if name == "lunchlearn_reminders":
        return reminder_text(value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return escape(str(value))


def changes_blocks(changes: Sequence[SettingChange]) -> list[Any]:
    """App Home's log of the latest settings changes, with the button to change them."""
    lines = [
        f"• {f'<@{c.by}>' if c.by else 'A former colleague'} "
        f"set *{LABELS.get(c.name, escape(c.name))}* to {shown(c.name, c.new)} "
        f"(was {shown(c.name, c.old)}), "
        f"<!date^{int(c.at.timestamp())}^{{date_short_pretty}} {{time}}|recently>"
        for c in changes
    ]
    text = "*Settings changes* (L&D)\n" + ("\n".join(lines) or "None made in Slack yet.")
    return [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(text, 3000)),
            accessory={
                "type": "button",
                "action_id": SETTINGS_ACTION,
                "text": {"type": "plain_text", "text": "L&D settings"},
            },
        )
    ]
