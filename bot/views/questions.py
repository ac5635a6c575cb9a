"""Q&A messages: the posted question, the asker's confirmation, the acceptance reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from storage.models import Question

ACCEPT_SHORTCUT = "accept_answer"
ACCEPT_EMOJI = "white_check_mark"


def _tags(tags: Sequence[str]) -> str:
    return " ".join(f"`#{tag}`" for tag in tags)


def question_text(asker_id: str, question: str, addressed_to: str | None = None) -> str:
    to = f" <@{addressed_to}>" if addressed_to else ""
    return f":question: <@{asker_id}> asks{to}: {question}"


def question_blocks(
    asker_id: str, question: str, tags: Sequence[str], addressed_to: str | None = None
) -> list[dict[str, Any]]:
    context = f"Asked by <@{asker_id}>"
    if addressed_to:
        context += f" of <@{addressed_to}>"
    if tags:
        context += " · " + _tags(tags)
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=f":question: *{question}*")),
        ContextBlock(elements=[MarkdownTextObject(text=context)]),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Know the answer? Reply in this thread. The asker accepts the answer "
                    f"that helped with :{ACCEPT_EMOJI}: or the *Accept answer* shortcut."
                )
            ]
        ),
    ]
    return [block.to_dict() for block in blocks]


def posting_text(channel_id: str) -> str:
    return f"Posting your question in <#{channel_id}>…"


def posted_text(channel_id: str, permalink: str | None, similar: Sequence[Question]) -> str:
    where = f"<{permalink}|your question>" if permalink else "your question"
    text = (
        f"I posted {where} in <#{channel_id}>. Answers will come in its thread; "
        f"accept the one that helps with :{ACCEPT_EMOJI}:."
    )
    answered = [q for q in similar if q.permalink]
    if answered:
        text += "\nAlready answered, and maybe what you need:\n" + "\n".join(
            f"• <{q.permalink}|{_short(q.text)}>" for q in answered
        )
    return text


def unposted_text(channel_id: str) -> str:
    return (
        f"I couldn't post in <#{channel_id}>, so your question wasn't asked. "
        "Ask an admin to add me there (`/invite @guildbot`), then try again."
    )


def accepted_text(asker_id: str, answerer_id: str) -> str:
    return f":{ACCEPT_EMOJI}: <@{asker_id}> accepted <@{answerer_id}>'s answer. Thank you!"


def _short(text: str, limit: int = 80) -> str:
    text = text.replace("|", "¦").replace(">", "›").replace("<", "‹")
    return text if len(text) <= limit else text[: limit - 1] + "…"
