"""Kudos messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock


def _people(user_ids: Sequence[str]) -> str:
    mentions = [f"<@{uid}>" for uid in user_ids]
    if len(mentions) == 1:
        return mentions[0]
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


def recognition_text(giver_id: str, receiver_ids: Sequence[str], reason: str) -> str:
    return f":trophy: <@{giver_id}> gave kudos to {_people(receiver_ids)}: {reason}"


def recognition_blocks(
    giver_id: str, receiver_ids: Sequence[str], reason: str, values: Sequence[str]
) -> list[dict[str, Any]]:
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(text=f":trophy: *Kudos to {_people(receiver_ids)}*\n{reason}")
        )
    ]
    context = f"From <@{giver_id}>"
    if values:
        context += " · " + " ".join(f"`#{value}`" for value in values)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    return [block.to_dict() for block in blocks]


def confirmation_text(receiver_ids: Sequence[str]) -> str:
    return f"Kudos sent to {_people(receiver_ids)}. Thanks for recognising good work!"
