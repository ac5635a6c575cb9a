"""FAQ search: resolved questions and their accepted answers, by full-text search.

The index is kept by triggers from migration 0005 (`faq_entry`; SQLite's FTS5 table `faq_fts`,
PostgreSQL's `faq_entry.document` tsvector), not by the models: this module only reads it.

What people type never reaches either query language as syntax. It is cut into words (letters
and digits, hyphenated ones whole) and "quoted phrases", common English words are dropped, and
the rest is written
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
# Letters and digits, hyphenated compounds kept whole: PostgreSQL's parser reads `INC-4948` as
# `inc` and `-4948` (and `db-staging-07` as the compound and its parts), in documents as in
# queries; FTS5 reads a quoted compound as the phrase of its parts.
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_TERM = re.compile(rf'"([^"]*)"|({_WORD.pattern})')
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

_HAND_WRITTEN = ("faq_entry", "faq_fts", "resource_fts")
_HAND_WRITTEN_INDEXES = ("ix_resource_search",)


def hand_written(name: str | None) -> bool:
    """Tables migrations 0005 and 0030 own (and FTS5's shadow tables `faq_fts_*`,
    `resource_fts_*`)."""
    return bool(name) and (
        name in _HAND_WRITTEN or str(name).startswith(("faq_fts_", "resource_fts_"))
    )


def autogenerate_sees(name: str | None, type_: str, _parents: object) -> bool:
    """An Alembic `include_name` hook: autogenerate and the schema test skip the full-text
    search objects (0005's, and 0030's resource index and PostgreSQL column)."""
    if type_ == "index":
        return name not in _HAND_WRITTEN_INDEXES
    if type_ == "column":
        return name != "search_document"
    return not (type_ == "table" and hand_written(name))


@dataclass(frozen=True)
class Terms:
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    @property
    def loose(self) -> Terms:
        """The same words, phrases or not (what candidates are found by)."""
        words = [*self.words, *(w for p in self.phrases for w in p)]
        return Terms(tuple(dict.fromkeys(words)))

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


RANKED = 2_000
"""At most this many candidates are ranked: the newest entries (they follow resolution order)
that have all the words typed; quoted phrases then narrow the candidates down.

Ranking reads every candidate, so a word found in half the workspace's questions would cost
tens of milliseconds; below this many (most searches, and every search in most workspaces) all
matches are ranked. Candidates are found by words, phrases or not, because PostgreSQL estimates
a phrase as common as its words together, and a plan made for a common word is slow for a rare
phrase. See bench/faq_search.py."""

# SQLite: the rowid of the RANKED-th newest candidate, when there are more (FTS5 walks its
# doclist newest first without ranking anything).
_SQLITE_FLOOR = text(
    """
    SELECT faq_fts.rowid FROM faq_fts JOIN faq_entry e ON e.id = faq_fts.rowid
    WHERE faq_fts MATCH :match AND e.team_id = :team_id
    ORDER BY faq_fts.rowid DESC
    LIMIT 1 OFFSET :offset
    """
)
# Best first (bm25 is lower for better matches). FTS5 sorts by `rank` itself, so snippets are
# made for the returned rows only.
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
            AND faq_fts.rowid >= :floor AND e.team_id = :team_id
        ORDER BY faq_fts.rank
        LIMIT :limit
    ) AS hit
    JOIN question q ON q.id = hit.question_id
    JOIN answer a ON a.id = hit.answer_id
    ORDER BY hit.score
    """
).columns(resolved_at=UTCDateTime())

# PostgreSQL: the newest RANKED candidates (walking ix_faq_entry_recent backwards when the
# words are common, through the GIN index when they are not: the planner decides from the
# words' statistics, which is why plans must be made for each search's own words), those with
# the phrases, ranked; headlines for the best `limit` only.
_HEADLINE = f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, ShortWord=2"
_POSTGRES = text(
    f"""
    SELECT e.question_id, e.answer_id,
           ts_headline('english', e.question, websearch_to_tsquery('english', :any_of),
                       '{_HEADLINE}, MinWords=20, MaxWords=40') AS question_snippet,
           ts_headline('english', e.answer, websearch_to_tsquery('english', :any_of),
                       '{_HEADLINE}, MaxFragments=1, MinWords=12, MaxWords=24') AS answer_snippet,
           a.author_id, q.permalink AS question_link, a.permalink AS answer_link,
           q.resolved_at
    FROM (
        SELECT newest.question_id, newest.seq,
               ts_rank(newest.document, websearch_to_tsquery('english', :search), 1) AS score
        FROM (
            SELECT question_id, seq, document FROM faq_entry
            WHERE team_id = :team_id
                AND document @@ websearch_to_tsquery('english', :words)
            ORDER BY seq DESC
            LIMIT :ranked
        ) AS newest
        WHERE newest.document @@ websearch_to_tsquery('english', :search)
        ORDER BY score DESC, newest.seq DESC
        LIMIT :limit
    ) AS top
    JOIN faq_entry e ON e.question_id = top.question_id
    JOIN question q ON q.id = top.question_id
    JOIN answer a ON a.id = e.answer_id
    ORDER BY top.score DESC, top.seq DESC
    """
).columns(resolved_at=UTCDateTime())
# psycopg prepares a statement run five times, and PostgreSQL may then reuse one generic plan
# for any words: ranking "kubernetes" through a plan made for a rare word takes 100+ ms.
_CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


def search(
    session: Session, team_id: str, typed: str, limit: int, ranked: int = RANKED
) -> list[FaqRow]:
    """The `limit` best resolved questions of the workspace for what was typed, among its
    `ranked` newest matches."""
    found = terms(typed)
    if not found:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_CUSTOM_PLANS)
        params = {
            "words": found.loose.websearch(),
            "search": found.websearch(),
            # A passage need not have every word: highlight any it has.
            "any_of": found.websearch(any_of=True),
            "team_id": team_id,
            "ranked": ranked,
            "limit": limit,
        }
        rows = connection.execute(_POSTGRES, params)
    else:
        words = {"match": found.loose.fts5(), "team_id": team_id, "offset": ranked - 1}
        floor = connection.execute(_SQLITE_FLOOR, words).scalar() or 0
        params = {"match": found.fts5(), "team_id": team_id, "floor": floor, "limit": limit}
        rows = connection.execute(_SQLITE, params)
    return [FaqRow(*row) for row in rows]


def indexed(session: Session, team_id: str) -> int:
    """How many questions of the workspace search can find."""
    statement = text("SELECT count(*) FROM faq_entry WHERE team_id = :team_id")
    return int(session.connection().execute(statement, {"team_id": team_id}).scalar_one())
