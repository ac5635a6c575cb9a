"""Lunch-and-learn messages: the announcement, RSVP answers, the list (the scheduling form is
bot/views/session_form.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.erasure import FORMER_COLLEAGUE
from bot.domain.lunchlearn import Lunch
from bot.views.mrkdwn import code, escape, plain_object, truncate

GOING_ACTION = "lunch_going"
NOT_GOING_ACTION = "lunch_not_going"
CALENDAR_ACTION = "lunch_calendar"
CHECKIN_ACTION = "lunch_checkin"


def when(moment: datetime, fallback: str = "") -> str:
    """A time each reader sees in their own zone."""
    epoch = int(moment.timestamp())
    text = fallback or moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_long_pretty}} at {{time}}|{text}>"


def _title(lunch: Lunch) -> str:
    """The title as typed, for a sentence in mrkdwn."""
    return escape(lunch.title)


def presenter(lunch: Lunch) -> str:
    """A mention of the presenter, or "a former colleague" once erased."""
    return f"<@{lunch.presenter_id}>" if lunch.presenter_id else FORMER_COLLEAGUE


def announcement_text(lunch: Lunch) -> str:
    return f":fork_and_knife: Lunch-and-learn: {_title(lunch)}, {when(lunch.starts_at)}"


def announcement_blocks(
    lunch: Lunch, going: int, waitlist: int, checkin_open: bool
) -> list[dict[str, Any]]:
    ends = lunch.starts_at + timedelta(minutes=lunch.duration_minutes)
    details = (
        f"*When:* {when(lunch.starts_at)} to {when(ends, ends.strftime('%H:%M UTC'))} "
        f"({lunch.duration_minutes} min)\n*Where:* {escape(lunch.place)}\n*Presenter:* "
        f"{presenter(lunch)}"
    )
    if lunch.tags:
        details += "\n*Topics:* " + " ".join(code(f"#{t}") for t in lunch.tags)
    places = f"{going} going"
    if lunch.capacity is not None:
        places += f" of {lunch.capacity}"
    if waitlist:
        places += f" · {waitlist} on the waitlist"
    blocks: list[Any] = [HeaderBlock(text=f"Lunch-and-learn: {lunch.title}"[:150])]
    if lunch.status == "cancelled":
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=":no_entry: *This session was cancelled.*"))
        )
    if lunch.description.strip():
        blocks.append(SectionBlock(text=plain_object(lunch.description, 2900)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(details, 3000))))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"{places} · id `{lunch.short_id}`")])
    )
    if lunch.status != "cancelled":
        buttons = [
            ButtonElement(text="Going", action_id=GOING_ACTION, value=lunch.id, style="primary"),
            ButtonElement(text="Can't go", action_id=NOT_GOING_ACTION, value=lunch.id),
            ButtonElement(text="Add to calendar", action_id=CALENDAR_ACTION, value=lunch.id),
        ]
        if checkin_open:
            buttons.insert(
                0,
                ButtonElement(
                    text="Check in", action_id=CHECKIN_ACTION, value=lunch.id, style="primary"
                ),
            )
        blocks.append(ActionsBlock(elements=buttons))
    return [block.to_dict() for block in blocks]


def rsvp_text(status: str, lunch: Lunch, position: int | None = None) -> str:
    if status == "going":
        return f"You're going to “{_title(lunch)}”, {when(lunch.starts_at)}. See you there!"
    if status == "waitlist":
        return (
            f"“{_title(lunch)}” is full, so you're on the waitlist. If a place frees up, it's "
            "yours and I'll tell you by DM."
        )
    return f"You're not going to “{_title(lunch)}”. Thanks for letting people know."


def promoted_text(lunch: Lunch) -> str:
    return (
        f"Good news: a place freed up for “{_title(lunch)}”, {when(lunch.starts_at)}, and it's "
        "yours. Can't make it? Press *Can't go* on the announcement."
    )


def organiser_cancellation_text(user_id: str, lunch: Lunch, promoted: str | None) -> str:
    text = f"<@{user_id}> can't come to “{_title(lunch)}” any more."
    if promoted:
        text += f" <@{promoted}> moved up from the waitlist."
    return text


def cancelled_text(lunch: Lunch) -> str:
    return f"“{_title(lunch)}”, {when(lunch.starts_at)}, was cancelled. Sorry!"


def list_blocks(
    sessions: Sequence[tuple[Lunch, str | None]],
) -> list[dict[str, Any]]:
    if not sessions:
        return [
            SectionBlock(
                text=MarkdownTextObject(text="No lunch-and-learns coming up. Watch this space!")
            ).to_dict()
        ]
    lines = []
    for lunch, status in sessions:
        yours = {"going": "you're going", "waitlist": "you're on the waitlist"}.get(
            status or "", "not signed up"
        )
        lines.append(
            f"`{lunch.short_id}` *{_title(lunch)}*, {when(lunch.starts_at)}, "
            f"{presenter(lunch)} · {yours}"
        )
    return [
        HeaderBlock(text="Coming up").to_dict(),
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))).to_dict(),
    ]


RATE_ACTION = "lunch_rate"
RATE_VIEW = "lunch_rate"
CODE_VIEW = "lunch_checkin_code"


def reminder_text(lunch: Lunch, minutes: int) -> str:
    soon = f"in {round(minutes / 60)} hours" if minutes >= 120 else f"in {minutes} minutes"
    return (
        f":alarm_clock: “{_title(lunch)}” starts {soon}, {when(lunch.starts_at)}. "
        f"Where: {escape(lunch.place)}. Can't make it? Press *Can't go* on the announcement, so "
        "someone on the waitlist can come."
    )


def presenter_code_text(lunch: Lunch) -> str:
    return (
        f"“{_title(lunch)}” is starting. Please announce the check-in code *{lunch.checkin_code}*: "
        "people enter it when they press *Check in* on the announcement."
    )


def checked_in_text(lunch: Lunch, first: bool) -> str:
    if not first:
        return f"You're already checked in to “{_title(lunch)}”."
    return f"Checked in to “{_title(lunch)}”. Enjoy the session!"


def feedback_blocks(lunch: Lunch) -> list[dict[str, Any]]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Thanks for coming to “{_title(lunch)}”. How useful was it for you?"
            )
        ).to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=f"{n} {'★' * n}", action_id=f"{RATE_ACTION}_{n}", value=f"{lunch.id}|{n}"
                )
                for n in range(1, 6)
            ]
        ).to_dict(),
    ]


def rate_modal(lunch: Lunch, rating: int) -> dict[str, Any]:
    options = [Option(value=str(n), text=f"{n} {'★' * n}") for n in range(1, 6)]
    return View(
        type="modal",
        callback_id=RATE_VIEW,
        title="Feedback",
        submit="Send",
        close="Cancel",
        private_metadata=lunch.id,
        blocks=[
            InputBlock(
                block_id="rating",
                label=f"Your rating of “{lunch.title}”"[:2000],
                element=StaticSelectElement(
                    action_id="value", options=options, initial_option=options[rating - 1]
                ),
            ),
            InputBlock(
                block_id="comment",
                label="Anything to add?",
                optional=True,
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            ),
        ],
    ).to_dict()


def code_modal(lunch: Lunch) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=CODE_VIEW,
        title="Check in",
        submit="Check in",
        close="Cancel",
        private_metadata=lunch.id,
        blocks=[
            InputBlock(
                block_id="code",
                label="The code the presenter announced",
                element=PlainTextInputElement(action_id="value", max_length=8),
            )
        ],
    ).to_dict()


def rated_text(lunch: Lunch) -> str:
    return f"Thanks for your feedback on “{_title(lunch)}”!"


def feedback_text(lunch: Lunch) -> str:
    return f"How useful was “{_title(lunch)}” for you? Rate it from 1 to 5."


def done_view(title: str, text: str) -> dict[str, Any]:
    """What a form turns into once it did its job."""
    return View(
        type="modal",
        title=title,
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def calendar_comment(lunch: Lunch) -> str:
    if lunch.status == "cancelled":
        return f"“{_title(lunch)}” was cancelled: open this file to take it off your calendar."
    return f"“{_title(lunch)}”, {when(lunch.starts_at)}: open this file to add it to your calendar."


SUGGEST_ACTION = "lunch_suggest_for_gap"


def gaps_blocks(gaps: Sequence[Any], can_schedule: bool) -> list[dict[str, Any]]:
    """Knowledge gaps, worst first, each with a button for L&D to schedule a session on it."""
    if not gaps:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="No knowledge gaps right now: questions are getting answered."
                )
            ).to_dict()
        ]
    blocks: list[Any] = [HeaderBlock(text="Knowledge gaps")]
    for gap in gaps:
        line = (
            f"*{code('#' + gap.slug)}* · {gap.asked} asked in 90 days · "
            f"{gap.unanswered} unanswered · {gap.slow} answered slowly · "
            f"{gap.experts} people with evidence"
        )
        button = (
            ButtonElement(
                text="Suggest a lunch-and-learn", action_id=SUGGEST_ACTION, value=gap.slug
            )
            if can_schedule
            else None
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line), accessory=button))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Ranked by unanswered and slow questions per person who can answer."
                )
            ]
        )
    )
    return [block.to_dict() for block in blocks]
