"""FAQ search: resolved questions and their accepted answers, by full-text search.

The index is kept by triggers from migration 0005 (`faq_entry`; SQLite's FTS5 table `faq_fts`,
PostgreSQL's `faq_entry.document` tsvector), not by the models: this module only reads it.

What people type never reaches either query language as syntax. It is cut into words (letters
and digits) and "quoted phrases", common English words are dropped, and the rest is written
back as FTS5 strings (`"word" "two words"`, all of which must match) or as plain words for
`websearch_to_tsquery`, which never raises on any input. So `"`, `*`, `NEAR(`, `OR`, `-` or
an unbalanced quote are just text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from storage.types import UTCDateTime

MARK_OPEN = "\ue000"
"""Starts a matched word in a snippet (a private-use character, never in Slack text we keep)."""
MARK_CLOSE = "\ue001"
MAX_TERMS = 8
"""Words and phrases beyond these are ignored: a pasted paragraph stays a cheap query."""
_TERM = re.compile(r'"([^"]*)"|([^\W_]+)')
_WORD = re.compile(r"[^\W_]+")
# Words too common to narrow a search (PostgreSQL's `english` configuration drops these and
# more by itself; FTS5 keeps every word, so without this list "how do I …" must all match).
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)

_HAND_WRITTEN = ("faq_entry", "faq_fts")


def hand_written(name: str | None) -> bool:
    """Tables migration 0005 owns (and FTS5's shadow tables `faq_fts_*`)."""
    return bool(name) and (name in _HAND_WRITTEN or str(name).startswith("faq_fts_"))


def autogenerate_sees(name: str | None, type_: str, _parents: object) -> bool:
    """An Alembic `include_name` hook: autogenerate and the schema test skip the FTS objects."""
    return not (type_ == "table" and hand_written(name))


@dataclass(frozen=True)
class Terms:
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every word and phrase, each a quoted string."""
        return " ".join(
            [f'"{word}"' for word in self.words] + [f'"{" ".join(p)}"' for p in self.phrases]
        )

    def websearch(self, any_of: bool = False) -> str:
        """Input for `websearch_to_tsquery`: plain words and quoted phrases, all of them (or,
        with `any_of`, any: for highlighting the words a passage has)."""
        parts = [*self.words, *(f'"{" ".join(p)}"' for p in self.phrases)]
        return (" or " if any_of else " ").join(parts)


def terms(typed: str) -> Terms:
    """The words and "phrases" of a search, lower-cased, without common words or repeats."""
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for match in _TERM.finditer(typed):
        if match[1] is not None:
            inside = tuple(w.casefold() for w in _WORD.findall(match[1]))
            if len(inside) > 1:
                phrases.append(inside)
                continue
            candidates = inside
        else:
            candidates = (match[2].casefold(),)
        words += [w for w in candidates if w not in STOP_WORDS]
    words = list(dict.fromkeys(words))[:MAX_TERMS]
    phrases = list(dict.fromkeys(phrases))[: max(0, MAX_TERMS - len(words))]
    return Terms(tuple(words), tuple(phrases))


@dataclass(frozen=True)
class FaqRow:
    question_id: str
    answer_id: str
    question_snippet: str
    """The question, matched words between MARK_OPEN and MARK_CLOSE."""
    answer_snippet: str
    """The best passage of the accepted answer (its start when only the question matched)."""
    answerer_id: str
    question_link: str | None
    answer_link: str | None
    resolved_at: datetime | None


# Best first (bm25 is lower for better matches); snippets are computed for the rows returned
# only, because FTS5 sorts by `rank` itself and the LIMIT stops the scan after five.
_SQLITE = text(
    f"""
    SELECT hit.question_id, hit.answer_id, hit.question_snippet, hit.answer_snippet,
           a.author_id, q.permalink AS question_link, a.permalink AS answer_link,
           q.resolved_at
    FROM (
        SELECT e.question_id, e.answer_id, faq_fts.rank AS score,
               snippet(faq_fts, 0, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 40) AS question_snippet,
               snippet(faq_fts, 2, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 24) AS answer_snippet
        FROM faq_fts JOIN faq_entry e ON e.id = faq_fts.rowid
        WHERE faq_fts MATCH :match AND faq_fts.rank MATCH 'bm25(2.0, 1.0, 1.0)'
            AND e.team_id = :team_id
        ORDER BY faq_fts.rank
        LIMIT :limit
    ) AS hit
    JOIN question q ON q.id = hit.question_id
    JOIN answer a ON a.id = hit.answer_id
    ORDER BY hit.score
    """
).columns(resolved_at=UTCDateTime())
_HEADLINE = f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, ShortWord=2"
_POSTGRES = text(
    f"""
    SELECT top.question_id, top.answer_id,
           ts_headline('english', top.question, websearch_to_tsquery('english', :any_of),
                       '{_HEADLINE}, MinWords=20, MaxWords=40') AS question_snippet,
           ts_headline('english', top.answer, websearch_to_tsquery('english', :any_of),
                       '{_HEADLINE}, MaxFragments=1, MinWords=12, MaxWords=24') AS answer_snippet,
           a.author_id, q.permalink AS question_link, a.permalink AS answer_link,
           q.resolved_at
    FROM (
        SELECT e.question_id, e.answer_id, e.question, e.answer,
               ts_rank(e.document, search.query, 1) AS score
        FROM websearch_to_tsquery('english', :search) AS search(query)
        JOIN faq_entry e ON e.document @@ search.query
        WHERE e.team_id = :team_id
        ORDER BY score DESC, e.question_id
        LIMIT :limit
    ) AS top
    JOIN question q ON q.id = top.question_id
    JOIN answer a ON a.id = top.answer_id
    ORDER BY top.score DESC, top.question_id
    """
).columns(resolved_at=UTCDateTime())


def search(session: Session, team_id: str, typed: str, limit: int) -> list[FaqRow]:
    """The `limit` best resolved questions of the workspace for what was typed."""
    found = terms(typed)
    if not found:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        params = {
            "search": found.websearch(),
            # A passage need not have every word: highlight any it has.
            "any_of": found.websearch(any_of=True),
            "team_id": team_id,
            "limit": limit,
        }
        rows = connection.execute(_POSTGRES, params)
    else:
        params = {"match": found.fts5(), "team_id": team_id, "limit": limit}
        rows = connection.execute(_SQLITE, params)
    return [FaqRow(*row) for row in rows]


def indexed(session: Session, team_id: str) -> int:
    """How many questions of the workspace search can find."""
    statement = text("SELECT count(*) FROM faq_entry WHERE team_id = :team_id")
    return int(session.connection().execute(statement, {"team_id": team_id}).scalar_one())
