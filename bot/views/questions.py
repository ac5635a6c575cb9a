"""Q&A messages: the posted question, the asker's confirmation, the acceptance reply, the
routed DMs (asking, and once answered)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.questions import AskedQuestion
from bot.views.mrkdwn import code, link_label, quoted, render, text_object

ACCEPT_SHORTCUT = "accept_answer"
ACCEPT_EMOJI = "white_check_mark"


def _tags(tags: Sequence[str]) -> str:
    return " ".join(code(f"#{tag}") for tag in tags)


def question_text(asker_id: str, question: str, addressed_to: str | None = None) -> str:
    to = f" <@{addressed_to}>" if addressed_to else ""
    return f":question: <@{asker_id}> asks{to}: {render(question)}"


def question_blocks(
    asker_id: str, question: str, tags: Sequence[str], addressed_to: str | None = None
) -> list[dict[str, Any]]:
    context = f"Asked by <@{asker_id}>"
    if addressed_to:
        context += f" of <@{addressed_to}>"
    if tags:
        context += " · " + _tags(tags)
    blocks: list[Any] = [
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
    question_block = {"type": "section", "text": text_object(question, lead=":question: ")}
    return [question_block, *(block.to_dict() for block in blocks)]


def posting_text(channel_id: str) -> str:
    return f"Posting your question in <#{channel_id}>…"


def posted_text(channel_id: str, permalink: str | None, similar: Sequence[AskedQuestion]) -> str:
    where = f"<{permalink}|your question>" if permalink else "your question"
    text = (
        f"I posted {where} in <#{channel_id}>. Answers will come in its thread; "
        f"accept the one that helps with :{ACCEPT_EMOJI}:."
    )
    answered = [q for q in similar if q.permalink]
    if answered:
        text += "\nAlready answered, and maybe what you need:\n" + "\n".join(
            f"• <{q.permalink}|{link_label(q.text)}>" for q in answered
        )
    return text


def unposted_text(channel_id: str) -> str:
    return (
        f"I couldn't post in <#{channel_id}>, so your question wasn't asked. "
        "Ask an admin to add me there (`/invite @guildbot`), then try again."
    )


def withdrawn_text(question: str, why: str) -> str:
    """A withdrawn question's news, by DM when it is too late to answer the /ask in place."""
    return f"About your question “{link_label(question)}”: {why}"


def accepted_text(asker_id: str, answerer_id: str) -> str:
    return f":{ACCEPT_EMOJI}: <@{asker_id}> accepted <@{answerer_id}>'s answer. Thank you!"


DECLINE_ACTION = "route_decline"
PAUSE_ACTION = "route_pause"


def routed_text(asker_id: str, question: str) -> str:
    return f"<@{asker_id}> asked a question you may know the answer to: {render(question)}"


def routed_blocks(
    asker_id: str, question: str, slug: str, permalink: str | None, question_id: str
) -> list[dict[str, Any]]:
    """The DM to an expert: the question, why them, a link, and two ways to say no."""
    link = f"<{permalink}|Answer in the thread>" if permalink else "Answer in its thread"
    return [
        SectionBlock(
            text=MarkdownTextObject(text=f"<@{asker_id}> asks:\n{quoted(question, 500)}")
        ).to_dict(),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"You're one of the people who know {code('#' + slug)}. {link}; "
                    "at most a few questions a day come to you."
                )
            ]
        ).to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(text="Not my area", action_id=DECLINE_ACTION, value=question_id),
                ButtonElement(text="Pause for a week", action_id=PAUSE_ACTION, value=question_id),
            ]
        ).to_dict(),
    ]


def answered_routed_text(asker_id: str, question: str) -> str:
    return f"<@{asker_id}>'s question has an accepted answer: {render(question)}"


def answered_routed_blocks(
    asker_id: str, question: str, answer_link: str | None
) -> list[dict[str, Any]]:
    """A routed DM once its question has an accepted answer: nothing left to decline."""
    link = f" <{answer_link}|See the answer>." if answer_link else ""
    return [
        SectionBlock(
            text=MarkdownTextObject(text=f"<@{asker_id}> asked:\n{quoted(question, 500)}")
        ).to_dict(),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f":{ACCEPT_EMOJI}: Answered: the asker accepted an answer.{link} "
                    "Nothing more is needed from you."
                )
            ]
        ).to_dict(),
    ]


def declined_text(slug: str) -> str:
    return (
        f"Got it: I won't send you {code('#' + slug)} questions any more. I've asked someone else."
    )


def paused_text(until_epoch: int) -> str:
    return (
        "Paused: no questions will be routed to you until "
        f"<!date^{until_epoch}^{{date_short_pretty}}|next week>."
    )


def reminder_text(question_permalink: str | None, answers: int) -> str:
    got = "an answer" if answers == 1 else f"{answers} answers"
    link = f" (<{question_permalink}|see the thread>)" if question_permalink else ""
    return (
        f"Your question has {got}{link}. If one helped, accept it with :{ACCEPT_EMOJI}: or the "
        "*Accept answer* shortcut, so the next person with the same question finds it."
    )
