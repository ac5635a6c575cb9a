"""`/faq` replies: the best answered questions, or an offer to ask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.faq import AskInstead, FaqHit, Snippet
from bot.domain.questions import MIN_QUESTION_WORDS
from bot.views.mrkdwn import code, readable, render, truncate

MAX_SECTION = 2900  # Slack refuses section text over 3,000 characters
MAX_ECHO = 100


def _echo(typed: str) -> str:
    """What they typed (command text), shown back in quotes on one line."""
    return truncate(render(" ".join(typed.split())), MAX_ECHO)


def snippet_mrkdwn(snippet: Snippet) -> str:
    """Matched words in bold."""
    return "".join(f"*{render(text)}*" if matched else render(text) for text, matched in snippet)


def _plain(snippet: Snippet) -> str:
    return "".join(text for text, _ in snippet)


def ask_offer(ask: AskInstead) -> str:
    command = readable(ask.command)
    if ask.long_enough:
        return f"Ask the people who know: {code(command)}"
    return (
        f"Ask the people who know with `/ask` and a question of at least {MIN_QUESTION_WORDS} "
        f"words: {code(command + ' …')}"
    )


def faq_text(typed: str, hits: Sequence[FaqHit]) -> str:
    """The plain-text fallback (notifications, screen readers)."""
    if not hits:
        return f"No answered question matches “{_echo(typed)}” yet."
    return f"Answered questions for “{_echo(typed)}”: " + "; ".join(
        render(_plain(hit.question)) for hit in hits
    )


def _hit_blocks(place: int, hit: FaqHit) -> list[Any]:
    line = f"*{place}.* :question: {snippet_mrkdwn(hit.question)}"
    answer = snippet_mrkdwn(hit.answer)
    if answer:
        line += f"\n>{answer}"
    about = [f"Accepted answer by <@{hit.answerer_id}>"]
    if hit.resolved_at is not None:
        stamp = int(hit.resolved_at.timestamp())
        date = f"<!date^{stamp}^{{date_short}}|{hit.resolved_at:%Y-%m-%d}>"
        about = [f"Answer by <@{hit.answerer_id}>, accepted {date}"]
    if hit.answer_link:
        about.append(f"<{hit.answer_link}|the answer>")
    if hit.question_link:
        about.append(f"<{hit.question_link}|the thread>")
    return [
        SectionBlock(text=MarkdownTextObject(text=truncate(line, MAX_SECTION))),
        ContextBlock(elements=[MarkdownTextObject(text=" · ".join(about))]),
    ]


def faq_blocks(
    typed: str, hits: Sequence[FaqHit], ask: AskInstead, not_set_up: str | None = None
) -> list[dict[str, Any]]:
    """The results, best first; nothing found: says so and offers `/ask` with their words
    (or, without a Q&A channel, `not_set_up` instead)."""
    offer = not_set_up or ask_offer(ask)
    if not hits:
        text = f"No answered question matches “{_echo(typed)}” yet.\n{offer}"
        return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=f"*Answered questions for “{_echo(typed)}”*"))
    ]
    for place, hit in enumerate(hits, start=1):
        blocks += _hit_blocks(place, hit)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Not it? {offer}")]))
    return [block.to_dict() for block in blocks]
