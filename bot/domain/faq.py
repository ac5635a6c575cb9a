"""FAQ: full-text search over resolved questions and their accepted answers (`/faq`).

The index follows every change to what is resolved and what accepted answers say (triggers from
migration 0005), so a search is one read. Nothing found: the person is offered `/ask` with
their own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.domain import text
from bot.domain.questions import MIN_QUESTION_WORDS
from bot.xapi.statements import Learner, StatementBuilders, queued
from storage.database import Database
from storage.repositories import faq as faq_repo
from storage.repositories import outbox as outbox_repo

TOP = 5

Snippet = tuple[tuple[str, bool], ...]
"""Pieces of text in order, each marked True when it is a word the search matched."""

# Mentions and broadcasts say nothing about a question's subject; links (channel links too)
# keep their label.
_MENTION = re.compile(r"<[@!][^>]*>")
_LINK = re.compile(r"<([^>|]*)(?:\|([^>]*))?>")
_BROKEN_START = re.compile(r"^(?:[^<]*?>|(?:amp|lt|gt);)")
_BROKEN_END = re.compile(r"(?:<[^>]*|&[a-z]{0,3})$")
_MARKS = re.compile(f"({faq_repo.MARK_OPEN}[^{faq_repo.MARK_CLOSE}]*{faq_repo.MARK_CLOSE})")


@dataclass(frozen=True)
class FaqHit:
    question_id: str
    question: Snippet
    answer: Snippet
    """A passage of the accepted answer, with the matched words marked."""
    answerer_id: str
    question_link: str | None
    answer_link: str | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class AskInstead:
    """What to offer when nothing was found: `/ask` with what they typed."""

    command: str
    long_enough: bool
    """False when `/ask` would refuse it as too short, so the offer says to add words."""


def searchable(typed: str) -> str:
    """Command text as words to search: Slack's escapes undone, mentions dropped."""
    typed = _MENTION.sub(" ", text.clean(typed))
    return text.as_typed(_LINK.sub(lambda m: m[2] or m[1], typed))


def snippet(marked: str) -> Snippet:
    """Splits a snippet from the repository into plain and matched pieces.

    Stored text is Slack's (`<@U123|dana>`, `<https://…|label>`, `&amp;`), and a snippet may
    start or end inside such markup: the broken ends are cut, so what is left shows as Slack
    would show it. In Slack's text a bare `<` or `>` is always markup (literal ones are
    escaped), which is what tells a cut one.
    """
    marked = " ".join(marked.split())
    marked = _BROKEN_START.sub("", _BROKEN_END.sub("", marked)).strip()
    pieces = []
    for piece in _MARKS.split(marked):
        if piece.startswith(faq_repo.MARK_OPEN):
            pieces.append((piece.strip(faq_repo.MARK_OPEN + faq_repo.MARK_CLOSE), True))
        elif piece:
            # A stray marker (never expected) is dropped rather than shown.
            plain = piece.replace(faq_repo.MARK_OPEN, "").replace(faq_repo.MARK_CLOSE, "")
            pieces.append((plain, False))
    return tuple(pieces)


class FaqSearch:
    def __init__(self, database: Database, statements: StatementBuilders, clock: Clock) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock

    def search(
        self, team_id: str, typed: str, searcher: Learner | None = None, cause: str = ""
    ) -> list[FaqHit]:
        """The best `TOP` resolved questions of the workspace for the typed words. With a
        `searcher`, the search is recorded as an xAPI `search` of the FAQ."""
        with self._database.reading() as session:
            rows = faq_repo.search(session, team_id, searchable(typed), TOP)
        if searcher is not None:
            now = self._clock()
            statements = self._statements.for_team(team_id)
            searched = statements.searched(searcher, None, typed, cause, now)
            with self._database.transaction() as session:
                outbox_repo.add(session, queued(team_id, [searched]), now)
        return [
            FaqHit(
                question_id=row.question_id,
                question=snippet(row.question_snippet),
                answer=snippet(row.answer_snippet),
                answerer_id=row.answerer_id,
                question_link=row.question_link,
                answer_link=row.answer_link,
                resolved_at=row.resolved_at,
            )
            for row in rows
        ]

    @staticmethod
    def ask_instead(typed: str) -> AskInstead:
        """The `/ask` to offer when nothing was found."""
        typed = " ".join(text.clean(typed).split())
        return AskInstead(f"/ask {typed}", len(typed.split()) >= MIN_QUESTION_WORDS)
