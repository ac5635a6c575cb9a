"""The L&D report: aggregate counts per person and per skill tag, across all four capabilities.

Computed from the outbox: its bodies are the exact xAPI statements sent to the LRS, so for a
period the counts per verb and per person are those of the non-voided statements the LRS holds
with a `timestamp` in it. Voiding statements are bookkeeping and not counted; statements they
void are left out; so are dead letters (the LRS refused them). Only counts leave this module:
no text, no ids other than people's Slack ids and skill names.

Measures, per person (the statement's actor unless said otherwise):
kudos_given / kudos_received (`give` / `receive`), questions_asked (`asked`), answers
(`answered`), acceptances (`accept`: answers the person accepted as asker), answers_accepted
(the answerer of each accepted answer), skills_added / skills_removed (`add` / `remove`),
endorsements_given (`like`), endorsements_received (the endorsed person), searches (`search`:
`/expert` and `/faq`), sessions_scheduled (`schedule`), registrations / unregistrations
(`registered` / `unregistered`), sessions_attended (`attended`), sessions_presented
(`present`), sessions_cancelled (`cancel`), ratings_given (`rated`) and mean_rating (the mean
1–5 score of the `rated` statements counted in the row). Per tag and in total, each measure
counts the statements carrying the tag; a derived measure equals its source there.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from bot.xapi import vocabulary as v
from storage.database import Database
from storage.repositories import reporting as repo
from storage.repositories.reporting import StoredStatement

VERB_MEASURES: dict[str, str] = {
    v.GIVE.id: "kudos_given",
    v.RECEIVE.id: "kudos_received",
    v.ASKED.id: "questions_asked",
    v.ANSWERED.id: "answers",
    v.ACCEPT.id: "acceptances",
    v.ADD.id: "skills_added",
    v.REMOVE.id: "skills_removed",
    v.LIKE.id: "endorsements_given",
    v.SEARCH.id: "searches",
    v.SCHEDULE.id: "sessions_scheduled",
    v.REGISTERED.id: "registrations",
    v.UNREGISTERED.id: "unregistrations",
    v.ATTENDED.id: "sessions_attended",
    v.PRESENT.id: "sessions_presented",
    v.CANCEL.id: "sessions_cancelled",
    v.RATED.id: "ratings_given",
}
# Derived measures: who they count for differs from the actor; in totals and per tag they equal
# their source.
DERIVED: dict[str, str] = {
    "answers_accepted": "acceptances",
    "endorsements_received": "endorsements_given",
}
MEASURES: tuple[str, ...] = (
    "kudos_given",
    "kudos_received",
    "questions_asked",
    "answers",
    "answers_accepted",
    "acceptances",
    "skills_added",
    "skills_removed",
    "endorsements_given",
    "endorsements_received",
    "searches",
    "sessions_scheduled",
    "sessions_presented",
    "registrations",
    "unregistrations",
    "sessions_attended",
    "sessions_cancelled",
    "ratings_given",
)
MEAN_RATING = "mean_rating"
COLUMNS: tuple[str, ...] = (*MEASURES, MEAN_RATING)

# Weekly activity by capability (the chart): one statement is one piece of activity, except
# `receive`, the mirror of a `give`.
CAPABILITIES: tuple[str, ...] = ("kudos", "qa", "skills", "lunchlearn")
CAPABILITY_NAMES = {
    "kudos": "kudos",
    "qa": "Q&A",
    "skills": "skills",
    "lunchlearn": "lunch-and-learn",
}
_CAPABILITY_OF: dict[str, str] = {
    v.GIVE.id: "kudos",
    v.ASKED.id: "qa",
    v.ANSWERED.id: "qa",
    v.ACCEPT.id: "qa",
    v.ADD.id: "skills",
    v.REMOVE.id: "skills",
    v.LIKE.id: "skills",
    v.SCHEDULE.id: "lunchlearn",
    v.REGISTERED.id: "lunchlearn",
    v.UNREGISTERED.id: "lunchlearn",
    v.ATTENDED.id: "lunchlearn",
    v.PRESENT.id: "lunchlearn",
    v.RATED.id: "lunchlearn",
    v.CANCEL.id: "lunchlearn",
}
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ParsedStatement:
    statement_id: str
    actor_id: str
    verb: str
    timestamp: datetime
    tags: tuple[str, ...]
    capability: str | None
    rating: int | None = None
    accepted_statement: str | None = None
    """For `accept`: the `answered` statement of the accepted answer."""
    endorsed: str | None = None
    """For `like`: the endorsed person's Slack id."""


def parse(stored: StoredStatement) -> ParsedStatement:
    statement = json.loads(stored.body)
    verb = statement["verb"]["id"]
    target = statement.get("object") or {}
    context = statement.get("context") or {}
    others = (context.get("contextActivities") or {}).get("other") or []
    tags = [slug for slug in (_skill(a) for a in [target, *others]) if slug]
    endorsed = None
    if verb == v.LIKE.id:
        endorsed = next((_person(a) for a in others if _person(a)), None)
    rating = None
    if verb == v.RATED.id:
        raw = ((statement.get("result") or {}).get("score") or {}).get("raw")
        rating = int(raw) if isinstance(raw, int | float) else None
    accepted = None
    if verb == v.ACCEPT.id:
        # Its object since guildbot's xAPI Profile; `context.statement` in older statements.
        answered = (
            target if target.get("objectType") == "StatementRef" else context.get("statement")
        )
        accepted = str((answered or {}).get("id") or "").lower() or None
    capability = _CAPABILITY_OF.get(verb)
    if verb == v.SEARCH.id:
        capability = "skills" if tags else "qa"
    return ParsedStatement(
        statement_id=stored.statement_id,
        actor_id=stored.actor_id,
        verb=verb,
        timestamp=stored.timestamp,
        tags=tuple(dict.fromkeys(tags)),
        capability=capability,
        rating=rating,
        accepted_statement=accepted,
        endorsed=endorsed,
    )


def _skill(activity: dict[str, Any]) -> str | None:
    definition = activity.get("definition") or {}
    identifier = str(activity.get("id") or "")
    if definition.get("type") != v.TAG or "/skills/" not in identifier:
        return None
    return unquote(identifier.rsplit("/", 1)[1])


def _person(activity: dict[str, Any]) -> str | None:
    definition = activity.get("definition") or {}
    identifier = str(activity.get("id") or "")
    if definition.get("type") != v.USER_PROFILE or "/people/" not in identifier:
        return None
    return unquote(identifier.rsplit("/", 1)[1])


@dataclass
class Tally:
    """Counts for one row of the report (a person, a tag, or everything)."""

    counts: Counter[str] = field(default_factory=Counter)
    rating_sum: int = 0
    ratings: int = 0

    def add(self, measure: str, rating: int | None = None) -> None:
        self.counts[measure] += 1
        if rating is not None:
            self.rating_sum += rating
            self.ratings += 1

    @property
    def mean_rating(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None

    def row(self) -> dict[str, int | float | None]:
        values: dict[str, int | float | None] = {m: self.counts.get(m, 0) for m in MEASURES}
        values[MEAN_RATING] = self.mean_rating
        return values


@dataclass(frozen=True)
class WeekActivity:
    start: datetime
    counts: dict[str, int]
    """Statements per capability (see `CAPABILITIES`)."""


@dataclass
class Report:
    since: datetime
    until: datetime
    statements: int = 0
    verbs: Counter[str] = field(default_factory=Counter)
    total: Tally = field(default_factory=Tally)
    people: dict[str, Tally] = field(default_factory=dict)
    tags: dict[str, Tally] = field(default_factory=dict)
    weeks: list[WeekActivity] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "since": _iso(self.since),
            "until": _iso(self.until),
            "statements": self.statements,
            "verbs": dict(sorted(self.verbs.items())),
            "totals": self.total.row(),
            "people": {key: self.people[key].row() for key in sorted(self.people)},
            "tags": {key: self.tags[key].row() for key in sorted(self.tags)},
            "weeks": [
                {"start": _iso(week.start), **{c: week.counts[c] for c in CAPABILITIES}}
                for week in self.weeks
            ],
        }

    def csv_rows(self) -> list[list[str]]:
        """One header, then rows `total`, each `person`, each `tag`: same columns in each."""
        rows = [["scope", "id", *COLUMNS]]

        def line(scope: str, key: str, tally: Tally) -> list[str]:
            values = tally.row()
            counts = ("" if values[c] is None else str(values[c]) for c in COLUMNS)
            return [scope, spreadsheet_safe(key), *counts]

        rows.append(line("total", "all", self.total))
        rows += [line("person", key, self.people[key]) for key in sorted(self.people)]
        rows += [line("tag", key, self.tags[key]) for key in sorted(self.tags)]
        return rows

    def csv_text(self) -> str:
        """`csv_rows` as CSV. CRLF rows (RFC 4180) make the writer quote any cell holding a CR."""
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(self.csv_rows())
        return text.getvalue()


# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: a leading quote marks it as text."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def week_starts(since: datetime, until: datetime) -> list[datetime]:
    """Seven-day windows from `since`; the last one may be cut short by `until`."""
    starts = []
    start = since
    while start < until:
        starts.append(start)
        start += WEEK
    return starts


class Weekly:
    """Counts statements per capability and seven-day window from `since`."""

    def __init__(self, since: datetime, until: datetime) -> None:
        self._since, self._until = since, until
        self._starts = week_starts(since, until)
        self._counts = [dict.fromkeys(CAPABILITIES, 0) for _ in self._starts]

    def add(self, statement: ParsedStatement) -> None:
        if statement.capability is None or not self._since <= statement.timestamp < self._until:
            return
        index = int((statement.timestamp - self._since) / WEEK)
        self._counts[index][statement.capability] += 1

    def weeks(self) -> list[WeekActivity]:
        return [WeekActivity(s, c) for s, c in zip(self._starts, self._counts, strict=True)]


def weekly_activity(
    statements: Iterable[ParsedStatement], since: datetime, until: datetime
) -> list[WeekActivity]:
    weekly = Weekly(since, until)
    for statement in statements:
        weekly.add(statement)
    return weekly.weeks()


def standing_statements(
    database: Database, since: datetime, until: datetime, team_id: str | None = None
) -> Iterator[ParsedStatement]:
    """Non-voided statements with a timestamp in [since, until), parsed, oldest first; read
    as they are consumed (consume them all: the database session stays open until then)."""
    with database.reading() as session:
        voided = repo.voided_ids(session)
        for stored in repo.statements_in(session, since, until, team_id):
            if stored.statement_id.lower() not in voided:
                yield parse(stored)


def build_report(
    database: Database, since: datetime, until: datetime, team_id: str | None = None
) -> Report:
    """One pass over the period's statements (every workspace's, or `team_id`'s); memory
    grows with people and tags, not with statements."""
    report = Report(since, until)
    weekly = Weekly(since, until)
    accepted: Counter[str] = Counter()
    for statement in standing_statements(database, since, until, team_id):
        weekly.add(statement)
        _count(report, statement, accepted)
    with database.reading() as session:
        answerers = repo.actors_of(session, list(accepted))
    for answered, times in accepted.items():
        if answered in answerers:
            _tally(report.people, answerers[answered]).counts["answers_accepted"] += times
    report.weeks = weekly.weeks()
    return report


def _count(report: Report, statement: ParsedStatement, accepted: Counter[str]) -> None:
    """Adds one statement to the report's totals, its actor's row and its tags' rows;
    an acceptance is kept in `accepted`, to credit the answer's author after the pass."""
    report.statements += 1
    report.verbs[statement.verb] += 1
    measure = VERB_MEASURES.get(statement.verb)
    if measure is None:
        return
    rows = [report.total, _tally(report.people, statement.actor_id)]
    rows += [_tally(report.tags, tag) for tag in statement.tags]
    for row in rows:
        row.add(measure, statement.rating)
    # Derived: in totals and per tag they equal their source; per person, the other party.
    for derived, source in DERIVED.items():
        if source == measure:
            for row in (report.total, *(report.tags[tag] for tag in statement.tags)):
                row.add(derived)
    if statement.accepted_statement:
        accepted[statement.accepted_statement] += 1
    if statement.endorsed:
        _tally(report.people, statement.endorsed).add("endorsements_received")


def _tally(rows: dict[str, Tally], key: str) -> Tally:
    if key not in rows:
        rows[key] = Tally()
    return rows[key]
