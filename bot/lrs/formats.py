"""How stored statements are handed out (pure functions): completed with what the LRS sets,
and in the `exact`, `ids` or `canonical` format a query asks for."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from storage.repositories import lrs_keys, lrs_statements

VERSION = "1.0.3"
DEFAULT_STATEMENT_VERSION = "1.0.0"
_LANGUAGE_MAPS = ("name", "description")


def xapi_time(moment: datetime) -> str:
    """UTC with the microseconds the LRS keeps, so `since` a returned `stored` excludes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def exact(body: str, stored: datetime, authority_json: str, fills: int) -> str:
    """The statement as kept, with `stored`, `authority` and, when it had none, `version` and
    `timestamp` (= stored), as JSON text: spliced into the kept text, which is never parsed,
    so a page of statements costs little to hand out."""
    moment = xapi_time(stored)
    added = f',"stored":"{moment}","authority":{authority_json}'
    if fills & lrs_statements.FILL_VERSION:
        added += f',"version":"{DEFAULT_STATEMENT_VERSION}"'
    if fills & lrs_statements.FILL_TIMESTAMP:
        added += f',"timestamp":"{moment}"'
    return body.rstrip()[:-1] + added + "}"


# ids ---------------------------------------------------------------------------------------------


def ids_only(statement: Mapping[str, Any]) -> dict[str, Any]:
    """Agents, groups, activities and verbs reduced to what identifies them."""
    shown = dict(statement)
    shown["actor"] = _agent_ids(statement["actor"])
    shown["verb"] = {"id": statement["verb"]["id"]}
    shown["object"] = _object_ids(statement["object"])
    if "authority" in statement:
        shown["authority"] = _agent_ids(statement["authority"])
    if "context" in statement:
        shown["context"] = _context_ids(statement["context"])
    return shown


def _agent_ids(agent: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"objectType": agent.get("objectType", "Agent")}
    for name in lrs_keys.IDENTIFIERS:
        if name in agent:
            shown[name] = agent[name]
    if "member" in agent and lrs_keys.agent_identity(agent) is None:
        shown["member"] = [_agent_ids(member) for member in agent["member"]]
    return shown


def _object_ids(target: Mapping[str, Any]) -> dict[str, Any]:
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        return {"id": target["id"]}
    if kind in ("Agent", "Group"):
        return _agent_ids(target)
    if kind == "SubStatement":
        return {"objectType": "SubStatement", **ids_only(target)}
    return dict(target)


def _context_ids(context: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(context)
    for role in ("instructor", "team"):
        if role in context:
            shown[role] = _agent_ids(context[role])
    if "contextActivities" in context:
        shown["contextActivities"] = {
            kind: [{"id": a["id"]} for a in _listed(value)]
            for kind, value in context["contextActivities"].items()
        }
    return shown


# canonical ---------------------------------------------------------------------------------------


def preferred_languages(accept_language: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (q=0 left out)."""
    ranked = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, rest = item.strip().partition(";")
        if not tag.strip():
            continue
        quality = 1.0
        for parameter in rest.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def one_language(language_map: Mapping[str, str], preferred: list[str]) -> dict[str, str]:
    """The entry for the most wanted language (exact tag, then same primary language), else
    English, else the first one."""
    if not language_map:
        return {}
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in [*preferred, "en-us", "en"]:
        if wanted == "*":
            break
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: language_map[tag]}
        primary = wanted.split("-")[0]
        for low, tag in lowered.items():
            if low.split("-")[0] == primary:
                return {tag: language_map[tag]}
    tag = next(iter(language_map))
    return {tag: language_map[tag]}


def merged_definition(definitions: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The LRS's canonical definition of an activity: language maps merged across every
    definition seen, other properties from the latest one that has them."""
    merged: dict[str, Any] = {}
    for definition in definitions:
        for name, value in definition.items():
            if name in _LANGUAGE_MAPS and isinstance(merged.get(name), dict):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = copy.deepcopy(value)
    return merged


def canonical(
    statement: Mapping[str, Any],
    definition_of: Callable[[str], Mapping[str, Any] | None],
    preferred: list[str],
) -> dict[str, Any]:
    """Activities with their canonical definitions and every language map cut to one
    language, the one the reader prefers."""
    shown = copy.deepcopy(dict(statement))
    _canonical_statement(shown, definition_of, preferred)
    return shown


def _canonical_statement(
    statement: dict[str, Any],
    definition_of: Callable[[str], Mapping[str, Any] | None],
    preferred: list[str],
) -> None:
    verb = statement["verb"]
    if "display" in verb:
        verb["display"] = one_language(verb["display"], preferred)
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        _canonical_activity(target, definition_of, preferred)
    elif kind == "SubStatement":
        _canonical_statement(target, definition_of, preferred)
    context = statement.get("context") or {}
    for kind_, value in (context.get("contextActivities") or {}).items():
        listed = _listed(value)
        for activity in listed:
            _canonical_activity(activity, definition_of, preferred)
        context["contextActivities"][kind_] = listed
    for attachment in statement.get("attachments") or ():
        for name in ("display", "description"):
            if name in attachment:
                attachment[name] = one_language(attachment[name], preferred)


def _canonical_activity(
    activity: dict[str, Any],
    definition_of: Callable[[str], Mapping[str, Any] | None],
    preferred: list[str],
) -> None:
    definition = dict(definition_of(activity["id"]) or activity.get("definition") or {})
    if not definition:
        return
    for name in _LANGUAGE_MAPS:
        if name in definition:
            definition[name] = one_language(definition[name], preferred)
    for name in ("choices", "scale", "source", "target", "steps"):
        for component in definition.get(name) or ():
            if "description" in component:
                component["description"] = one_language(component["description"], preferred)
    activity["definition"] = definition


# Shared ------------------------------------------------------------------------------------------


def _listed(value: Any) -> list[dict[str, Any]]:
    return list(value) if isinstance(value, list) else [value]


def with_context_activity_lists(statement: dict[str, Any]) -> dict[str, Any]:
    """Context activities always as lists, as the LRS returns them (a single one included)."""
    for holder in (statement, statement.get("object") or {}):
        context = holder.get("context") if isinstance(holder, dict) else None
        if context and "contextActivities" in context:
            context["contextActivities"] = {
                kind: _listed(value) for kind, value in context["contextActivities"].items()
            }
    return statement


def person(agent: Mapping[str, Any]) -> dict[str, Any]:
    """The Person object of `GET agents`: what is known of the agent, every value in a list."""
    found: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        found["name"] = [agent["name"]]
    for name in lrs_keys.IDENTIFIERS:
        if name in agent:
            found[name] = [agent[name]]
    return found
