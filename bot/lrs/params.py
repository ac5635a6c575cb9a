"""Query parameters of the xAPI resources, checked and parsed (pure functions).

A parameter the resource does not define (in any letter case but its own) is refused with 400,
as are values that break the rules the same value would break inside a statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bot.lrs import validation
from bot.lrs.errors import bad_request
from storage.repositories import lrs_keys

MAX_LIMIT = 100
"""The most statements one page holds (also what `limit=0` means)."""
CURSOR = "cursor"
"""Where a `more` link continues; guildbot's own, never sent by a client but through `more`."""

_STATEMENT_FILTERS = frozenset(
    {
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "ascending",
    }
)
STATEMENT_PARAMS = frozenset(
    {"statementId", "voidedStatementId", "format", "attachments", CURSOR, *_STATEMENT_FILTERS}
)
FORMATS = ("exact", "ids", "canonical")


def only(params: Mapping[str, str], allowed: frozenset[str] | set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise bad_request(f"{name!r} is not a parameter of this resource")


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise bad_request(f"the {name} parameter is required")
    return value


def boolean(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise bad_request(f"{name} must be true or false")
    return value == "true"


def timestamp(params: Mapping[str, str], name: str) -> datetime | None:
    if name not in params:
        return None
    try:
        return validation.parse_timestamp(params[name], name)
    except validation.Invalid as problem:
        raise bad_request(str(problem)) from None


def iri(params: Mapping[str, str], name: str) -> str:
    try:
        return validation.iri(required(params, name), name)
    except validation.Invalid as problem:
        raise bad_request(str(problem)) from None


def registration(params: Mapping[str, str]) -> str | None:
    value = params.get("registration")
    if value is not None and not validation.is_uuid(value):
        raise bad_request("registration must be a UUID")
    return value.lower() if value is not None else None


def agent(params: Mapping[str, str], name: str = "agent") -> dict[str, Any]:
    """An Agent or identified Group given as JSON."""
    raw = required(params, name)
    try:
        value = json.loads(raw)
        validation.actor(value, name)
    except (ValueError, validation.Invalid) as problem:
        detail = str(problem) if isinstance(problem, validation.Invalid) else "not JSON"
        raise bad_request(f"{name} must be an Agent as JSON ({detail})") from None
    if lrs_keys.agent_identity(value) is None:
        raise bad_request(f"{name} must be an Agent or an identified Group, not an anonymous one")
    return dict(value)


@dataclass(frozen=True)
class StatementQuery:
    """`GET statements` without a statement id."""

    keys: tuple[str, ...]
    since: datetime | None
    until: datetime | None
    limit: int
    ascending: bool
    after: int | None


@dataclass(frozen=True)
class StatementRead:
    """`GET statements`: one statement (by id) or a query, and how to present the result."""

    statement_id: str | None
    voided: bool
    query: StatementQuery | None
    format: str
    attachments: bool


def statement_read(params: Mapping[str, str]) -> StatementRead:
    only(params, STATEMENT_PARAMS)
    shape = params.get("format", "exact")
    if shape not in FORMATS:
        raise bad_request("format must be ids, exact or canonical")
    attachments = boolean(params, "attachments")
    single = [name for name in ("statementId", "voidedStatementId") if name in params]
    if single:
        others = set(params) - {"format", "attachments", *single}
        if len(single) > 1 or others:
            raise bad_request(
                "statementId and voidedStatementId go alone (with format and attachments only)"
            )
        value = params[single[0]]
        if not validation.is_uuid(value):
            raise bad_request(f"{single[0]} must be a UUID")
        return StatementRead(
            value.lower(), single[0] == "voidedStatementId", None, shape, attachments
        )
    return StatementRead(None, False, statement_query(params), shape, attachments)


def statement_query(params: Mapping[str, str]) -> StatementQuery:
    keys: list[str] = []
    if "registration" in params:
        keys.append(lrs_keys.registration_key(registration(params) or ""))
    if "activity" in params:
        kind = (
            lrs_keys.RELATED_ACTIVITY
            if boolean(params, "related_activities")
            else lrs_keys.ACTIVITY
        )
        keys.append(lrs_keys.key(kind, iri(params, "activity")))
    else:
        boolean(params, "related_activities")
    if "agent" in params:
        kind = lrs_keys.RELATED_AGENT if boolean(params, "related_agents") else lrs_keys.AGENT
        identity = lrs_keys.agent_identity(agent(params))
        keys.append(kind + lrs_keys.digest(str(identity)))
    else:
        boolean(params, "related_agents")
    if "verb" in params:
        keys.append(lrs_keys.key(lrs_keys.VERB, iri(params, "verb")))
    limit_text = params.get("limit", "0")
    if not limit_text.isdigit():
        raise bad_request("limit must be a whole number (0: as many as a page holds)")
    limit = int(limit_text)
    limit = MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT)
    cursor = params.get(CURSOR)
    if cursor is not None and not cursor.isdigit():
        raise bad_request("this more link is not one this LRS made")
    return StatementQuery(
        keys=tuple(keys),
        since=timestamp(params, "since"),
        until=timestamp(params, "until"),
        limit=limit,
        ascending=boolean(params, "ascending"),
        after=int(cursor) if cursor is not None else None,
    )


def more_link(path: str, params: Mapping[str, str], after: int) -> str:
    """The relative URL of the next page: the same query, continuing after `after`."""
    kept = {name: value for name, value in params.items() if name != CURSOR}
    return f"{path}?{urlencode({**kept, CURSOR: str(after)})}"
