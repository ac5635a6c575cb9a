"""The lunch-and-learn scheduling form, opened by `/lunchlearn`, from a knowledge gap, or from
a community's page, and read back when it is submitted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    ConversationSelectElement,
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    PlainTextInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.views.mrkdwn import code

SCHEDULE_VIEW = "lunchlearn_schedule"
# Block ids double as the field names `read_form` checks.
FIELDS = ("title", "description", "tags", "presenter", "start", "duration", "place", "capacity")
CHANNEL_FIELD = "channel"


def schedule_modal(
    private_metadata: str = "",
    topic: str | None = None,
    candidates: Sequence[str] = (),
    topics: Sequence[str] = (),
    channel: str | None = None,
) -> dict[str, Any]:
    """The scheduling form; from a knowledge gap, prefilled with its topic and, as presenter,
    the person who answered most on it (the others are suggested above the form); from a
    community, with its skills as `topics` and its `channel` to announce in."""

    def field(
        block_id: str, label: str, element: Any, optional: bool = False, hint: str = ""
    ) -> Any:
        return InputBlock(
            block_id=block_id, label=label, element=element, optional=optional, hint=hint or None
        )

    blocks: list[Any] = []
    if topic:
        suggestion = f"A knowledge gap: questions on {code('#' + topic)} go unanswered or slow."
        if candidates:
            suggestion += " People who answered most on it: " + ", ".join(
                f"<@{uid}>" for uid in candidates
            )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=suggestion)]))
    blocks += [
        field(
            "title",
            "Title",
            PlainTextInputElement(
                action_id="value",
                max_length=150,
                initial_value=f"All about #{topic}" if topic else None,
            ),
        ),
        field(
            "description",
            "Description",
            PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            optional=True,
        ),
        field(
            "tags",
            "Topics",
            PlainTextInputElement(
                action_id="value",
                placeholder="#python #testing",
                initial_value=f"#{topic}" if topic else " ".join(f"#{t}" for t in topics) or None,
            ),
            optional=True,
            hint="Topics that name a skill count as evidence for the presenter in /expert.",
        ),
        field(
            "presenter",
            "Presenter",
            UserSelectElement(
                action_id="value", initial_user=candidates[0] if candidates else None
            ),
        ),
        field(
            "start",
            "Starts",
            DateTimePickerElement(action_id="value"),
            hint="Everyone sees it in their own time zone.",
        ),
        field(
            "duration",
            "Duration (minutes)",
            NumberInputElement(action_id="value", is_decimal_allowed=False, initial_value="45"),
        ),
        field(
            "place",
            "Where",
            PlainTextInputElement(action_id="value", placeholder="Room 4, or a call link"),
        ),
        field(
            "capacity",
            "Capacity",
            NumberInputElement(action_id="value", is_decimal_allowed=False),
            optional=True,
            hint="Leave empty for no limit; when full, people join a waitlist.",
        ),
        field(
            CHANNEL_FIELD,
            "Announce in",
            ConversationSelectElement(
                action_id="value",
                initial_conversation=channel,
                default_to_current_conversation=channel is None,
                filter={"include": ["public", "private"], "exclude_bot_users": True},
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=SCHEDULE_VIEW,
        title="Lunch-and-learn",
        submit="Schedule",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=blocks,
    ).to_dict()


def read_state(values: dict[str, Any]) -> dict[str, str | None]:
    """The form's values by field name, whatever the element type."""
    read: dict[str, str | None] = {}
    for name in (*FIELDS, CHANNEL_FIELD):
        element = (values.get(name) or {}).get("value") or {}
        read[name] = (
            element.get("value")
            or element.get("selected_user")
            or element.get("selected_conversation")
            or (str(element["selected_date_time"]) if element.get("selected_date_time") else None)
        )
    return read
