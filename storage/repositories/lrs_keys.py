"""What the inbuilt LRS finds a statement by: its filter keys (pure functions).

The xAPI statement query filters by agent, verb, activity and registration, each with a
"related" variant. Every value a statement can be found by becomes one key: a kind letter and a
digest of the value, so a single index over (key, seq) answers every filter newest first, and
an IRI of any length fits it.

The statements given here are already valid (the HTTP layer validates what clients post;
guildbot builds its own).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

AGENT = "a"
"""The agent (or identified group, or a member of a group) is the actor or the object."""
RELATED_AGENT = "A"
"""…or the authority, an instructor, the team, or any of those inside a SubStatement."""
VERB = "v"
ACTIVITY = "o"
"""The activity is the object."""
RELATED_ACTIVITY = "O"
"""…or a context activity, or either inside a SubStatement."""
REGISTRATION = "r"

IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")
"""An agent's inverse functional identifiers: it has exactly one, an identified group too."""
_CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")


def digest(value: str) -> str:
    """128 bits of SHA-256: names the value in an index without collisions in practice."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def key(kind: str, value: str) -> str:
    return kind + digest(value)


def agent_identity(agent: Mapping[str, Any]) -> str | None:
    """The agent's (or group's) identifier as one string, None for an anonymous group.

    Two agents are the same when they use the same identifier with the same value.
    """
    for name in IDENTIFIERS:
        value = agent.get(name)
        if value is None:
            continue
        if name == "account":
            return "\x1f".join(("account", str(value["homePage"]), str(value["name"])))
        return f"{name}\x1f{value}"
    return None


def agent_digests(agent: Mapping[str, Any]) -> list[str]:
    """The agent's own identifier and, for a group, those of its members: a query for an agent
    also finds the statements of groups it is a member of."""
    found = []
    own = agent_identity(agent)
    if own is not None:
        found.append(digest(own))
    for member in agent.get("member") or ():
        identity = agent_identity(member)
        if identity is not None:
            found.append(digest(identity))
    return found


def registration_key(registration: str) -> str:
    return key(REGISTRATION, registration.lower())


def statement_keys(
    statement: Mapping[str, Any], authority: Mapping[str, Any] | None = None
) -> set[str]:
    """Every key the statement is found by (not counting a statement it refers to)."""
    keys: set[str] = set()
    keys.add(key(VERB, statement["verb"]["id"]))
    for found in agent_digests(statement["actor"]):
        keys.update((AGENT + found, RELATED_AGENT + found))
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        for found in agent_digests(target):
            keys.update((AGENT + found, RELATED_AGENT + found))
    elif kind == "Activity":
        keys.update((key(ACTIVITY, target["id"]), key(RELATED_ACTIVITY, target["id"])))
    elif kind == "SubStatement":
        keys.update(_related(target))
    context = statement.get("context") or {}
    if context.get("registration"):
        keys.add(registration_key(context["registration"]))
    keys.update(_related_context(context))
    if authority:
        keys.update(RELATED_AGENT + found for found in agent_digests(authority))
    return keys


def _related(sub: Mapping[str, Any]) -> Iterator[str]:
    for found in agent_digests(sub["actor"]):
        yield RELATED_AGENT + found
    target = sub["object"]
    kind = target.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        for found in agent_digests(target):
            yield RELATED_AGENT + found
    elif kind == "Activity":
        yield key(RELATED_ACTIVITY, target["id"])
    yield from _related_context(sub.get("context") or {})


def _related_context(context: Mapping[str, Any]) -> Iterator[str]:
    for role in ("instructor", "team"):
        if context.get(role):
            for found in agent_digests(context[role]):
                yield RELATED_AGENT + found
    for activity in context_activities(context):
        yield key(RELATED_ACTIVITY, activity["id"])


def context_activities(context: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The context's activities, whether each kind holds one activity or a list."""
    groups = context.get("contextActivities") or {}
    for kind in _CONTEXT_ACTIVITY_KINDS:
        value = groups.get(kind)
        if isinstance(value, Mapping):
            yield value
        elif value:
            yield from value


def activities(statement: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every activity the statement mentions (object, context, and inside a SubStatement)."""
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        yield target
    elif kind == "SubStatement":
        yield from activities(target)
    yield from context_activities(statement.get("context") or {})
