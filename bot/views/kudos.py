"""Kudos messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.views.mrkdwn import code, render, text_object, truncate


def _people(user_ids: Sequence[str]) -> str:
    mentions = [f"<@{uid}>" for uid in user_ids]
    if len(mentions) == 1:
        return mentions[0]
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


# A reaction carries no words: its recognition points at the message it was given for.
FOR_THIS_MESSAGE = "for this message"


def recognition_text(giver_id: str, receiver_ids: Sequence[str], reason: str) -> str:
    if not reason:
        return f":trophy: <@{giver_id}> gave kudos to {_people(receiver_ids)} {FOR_THIS_MESSAGE}"
    return f":trophy: <@{giver_id}> gave kudos to {_people(receiver_ids)}: {render(reason)}"


def recognition_blocks(
    giver_id: str, receiver_ids: Sequence[str], reason: str, values: Sequence[str]
) -> list[dict[str, Any]]:
    """The headline, the reason in a block of its own (plain text unless it mentions someone
    or links somewhere), and who gave it with the values."""
    headline = f":trophy: *Kudos to {_people(receiver_ids)}*"
    if not reason:
        headline += f" {FOR_THIS_MESSAGE}"
    blocks: list[dict[str, Any]] = [SectionBlock(text=MarkdownTextObject(text=headline)).to_dict()]
    if reason:
        blocks.append({"type": "section", "text": text_object(reason)})
    context = f"From <@{giver_id}>"
    if values:
        context += " · " + " ".join(code(f"#{value}") for value in values)
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=truncate(context, 3000))]).to_dict()
    )
    return blocks


def confirmation_text(receiver_ids: Sequence[str], left_today: int) -> str:
    left = "no kudos" if left_today == 0 else f"{left_today} kudos"
    return (
        f"Kudos sent to {_people(receiver_ids)}. Thanks for recognising good work! "
        f"You have {left} left today."
    )


UNDO_ACTION = "kudos_undo"


def confirmation_blocks(text: str, source_key: str) -> list[dict[str, Any]]:
    """The giver's private confirmation, with Undo (honoured for 10 minutes)."""
    return [
        SectionBlock(
            text=MarkdownTextObject(text=text),
            accessory=ButtonElement(text="Undo", action_id=UNDO_ACTION, value=source_key),
        ).to_dict()
    ]


def undone_text(receiver_ids: Sequence[str]) -> str:
    return f"Undone: your kudos to {_people(receiver_ids)} were taken back and your quota returned."


def slack_time(moment: datetime, fallback: str) -> str:
    """A time each reader sees in their own zone (Slack date formatting)."""
    return f"<!date^{int(moment.timestamp())}^{{time}} ({{date_short_pretty}})|{fallback}>"


def quota_exceeded_text(limit: int, left: int, wanted: int, resets_at: datetime) -> str:
    reset = slack_time(resets_at, "at midnight, your time")
    if left == 0:
        return (
            f"You've given all {limit} of today's kudos, so this one wasn't sent. "
            f"Your quota resets {reset}."
        )
    return (
        f"You have {left} kudos left today, not enough for {wanted} people, so nothing was sent. "
        f"Thank fewer people now, or the rest after your quota resets {reset}."
    )


PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "all time"}


def leaderboard_blocks(
    period: str, receivers: Sequence[tuple[str, int]], givers: Sequence[tuple[str, int]]
) -> list[dict[str, Any]]:
    title = PERIOD_TITLES[period]
    if not receivers:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"No kudos {title} yet. Be the first: `/kudos @someone <what they did>`"
                )
            ).to_dict()
        ]

    def ranking(rows: Sequence[tuple[str, int]]) -> str:
        return "\n".join(
            f"{place}. <@{user_id}>: {count} kudos"
            for place, (user_id, count) in enumerate(rows, start=1)
        )

    blocks: list[Any] = [
        HeaderBlock(text=f"Kudos leaderboard, {title}"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text="*Most recognised*\n" + ranking(receivers)),
                MarkdownTextObject(text="*Most generous*\n" + ranking(givers)),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Ties go to whoever got there first. Other periods: "
                    "`/kudos leaderboard week|month|all`"
                )
            ]
        ),
    ]
    return [block.to_dict() for block in blocks]


GIVE_KUDOS_SHORTCUT = "give_kudos"
REMOVE_KUDOS_SHORTCUT = "remove_kudos"
GIVE_KUDOS_VIEW = "give_kudos"
RECEIVERS_BLOCK, RECEIVERS_INPUT = "receivers", "receivers_input"
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
VALUES_BLOCK, VALUES_INPUT = "values", "values_input"


def give_kudos_modal(author_id: str, private_metadata: str) -> dict[str, Any]:
    """The Give kudos form: the message's author prefilled, a reason, optional values."""
    return View(
        type="modal",
        callback_id=GIVE_KUDOS_VIEW,
        title="Give kudos",
        submit="Give kudos",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            InputBlock(
                block_id=RECEIVERS_BLOCK,
                label="Who",
                element=UserMultiSelectElement(
                    action_id=RECEIVERS_INPUT, initial_users=[author_id], max_selected_items=10
                ),
            ),
            InputBlock(
                block_id=REASON_BLOCK,
                label="What for",
                hint="A few words, so people know what it was for.",
                element=PlainTextInputElement(
                    action_id=REASON_INPUT,
                    multiline=True,
                    max_length=1000,
                    placeholder="for the clear write-up of the outage",
                ),
            ),
            InputBlock(
                block_id=VALUES_BLOCK,
                label="Values",
                optional=True,
                hint="Tags such as #teamwork or a skill such as #python.",
                element=PlainTextInputElement(
                    action_id=VALUES_INPUT, max_length=200, placeholder="#teamwork #python"
                ),
            ),
        ],
    ).to_dict()


def removed_text(revoked_receivers: Sequence[str], giver_id: str) -> str:
    return (
        f"Removed: the kudos from <@{giver_id}> to {_people(revoked_receivers)} no longer count, "
        "and I've told the giver."
    )


def removed_notice(admin_id: str, receiver_ids: Sequence[str], reason: str) -> str:
    """The giver's DM when an L&D admin removes their kudos."""
    what = f" (“{render(reason)}”)" if reason else ""
    return (
        f"<@{admin_id}> from L&D removed your kudos to {_people(receiver_ids)}{what}. "
        "They no longer count, and any of today's quota they used is yours again. "
        f"Questions? Ask <@{admin_id}>."
    )
