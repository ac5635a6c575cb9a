"""xAPI 1.0.3 data rules, as pure functions: what the inbuilt LRS accepts.

Each check raises `Invalid` naming where the problem is (`statement.actor.mbox: …`); the HTTP
layer answers it with 400 Bad Request. Properties the specification does not define are
refused, so a misspelt property is reported instead of silently dropped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

INTERACTION_TYPES = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MBOX = re.compile(r"^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+(\s*;.*)?$")
_VERSION = re.compile(r"^1\.0(\.\d+)?$")
_LANGUAGE_TAG = re.compile(
    r"""^(?:
        (?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})   # language (and extlang)
        (?:-[A-Za-z]{4})?                                       # script
        (?:-(?:[A-Za-z]{2}|[0-9]{3}))?                          # region
        (?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*          # variants
        (?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*           # extensions
        (?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?                        # private use
      | [Xx](?:-[A-Za-z0-9]{1,8})+                              # private use only
      | [Ii]-[A-Za-z]{2,8}                                      # grandfathered i-…
    )$""",
    re.VERBOSE,
)
_TIMESTAMP = re.compile(
    r"""^(?P<year>\d{4})-?(?P<month>\d{2})-?(?P<day>\d{2})
        T(?P<hour>\d{2}):?(?P<minute>\d{2})(?::?(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
        (?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?$""",
    re.VERBOSE,
)
_DURATION = re.compile(
    r"""^P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?D)?
        (?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$""",
    re.VERBOSE,
)
_WEEKS = re.compile(r"^P\d+(?:[.,]\d+)?W$")


class Invalid(ValueError):
    """The data breaks a rule of the specification; the message names where."""


# Scalars -----------------------------------------------------------------------------------------


def _fail(where: str, problem: str) -> Invalid:
    return Invalid(f"{where}: {problem}")


def string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "expected a string")
    return value


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "expected a JSON object")
    return value


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, "expected a number")
    return float(value)


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "expected true or false")
    return value


def only(value: Mapping[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    """Refuses properties the specification does not define there, and nulls."""
    for name, item in value.items():
        if name not in allowed:
            raise _fail(f"{where}.{name}", "not a property xAPI defines here")
        if item is None:
            raise _fail(f"{where}.{name}", "must not be null (leave it out instead)")


def iri(value: Any, where: str) -> str:
    """An IRI (or IRL): a scheme, then no white space."""
    text = string(value, where)
    if not _SCHEME.match(text):
        raise _fail(where, f"{text!r} is not an IRI (expected a scheme, e.g. https://…)")
    return text


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def uuid_string(value: Any, where: str) -> str:
    if not is_uuid(value):
        raise _fail(where, "expected a UUID (e.g. 3f2b1c1e-7a0e-4c38-9a5c-2b8a6f0e9d11)")
    return str(value)


def parse_timestamp(value: Any, where: str) -> datetime:
    """An ISO 8601 date and time; no zone means UTC; the offset -00:00 is refused."""
    text = string(value, where)
    match = _TIMESTAMP.match(text)
    if match is None:
        raise _fail(where, f"{text!r} is not an ISO 8601 timestamp (e.g. 2026-12-01T09:30:00Z)")
    parts = match.groupdict()
    zone = parts["zone"]
    if zone and zone.startswith("-") and not any(c not in "-:0" for c in zone):
        raise _fail(where, "the offset -00:00 is not allowed: use Z or +00:00")
    fraction = (parts["fraction"] or "0")[:6].ljust(6, "0")
    try:
        moment = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
            int(fraction),
            tzinfo=_zone(zone),
        )
    except ValueError:
        raise _fail(where, f"{text!r} is not a real date and time") from None
    return moment.astimezone(UTC)


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(sign * offset)


def duration(value: Any, where: str) -> str:
    text = string(value, where)
    if not (_DURATION.match(text) or _WEEKS.match(text)):
        raise _fail(where, f"{text!r} is not an ISO 8601 duration (e.g. PT1H30M)")
    return text


def language_tag(value: Any, where: str) -> str:
    text = string(value, where)
    if not _LANGUAGE_TAG.match(text):
        raise _fail(where, f"{text!r} is not a language tag (RFC 5646, e.g. en-US)")
    return text


def language_map(value: Any, where: str) -> None:
    for tag, text in mapping(value, where).items():
        language_tag(tag, f"{where} key")
        string(text, f"{where}.{tag}")


def extensions(value: Any, where: str) -> None:
    """Keys are IRIs; values are any JSON (null and empty included)."""
    for name in mapping(value, where):
        iri(name, f"{where} key")


# Agents and groups -------------------------------------------------------------------------------


def agent(value: Any, where: str, object_type_required: bool = False) -> None:
    """An Agent: exactly one identifier, an optional name."""
    data = mapping(value, where)
    kind = data.get("objectType")
    if kind is None and object_type_required:
        raise _fail(f"{where}.objectType", 'required here: "Agent" or "Group"')
    if kind not in (None, "Agent"):
        raise _fail(f"{where}.objectType", 'expected "Agent"')
    only(data, {"objectType", "name", *_IDENTIFIERS}, where)
    if "name" in data:
        string(data["name"], f"{where}.name")
    found = [name for name in _IDENTIFIERS if name in data]
    if len(found) != 1:
        raise _fail(
            where,
            "an Agent needs exactly one of mbox, mbox_sha1sum, openid and account"
            + (f" (found {', '.join(found)})" if found else ""),
        )
    _identifier(data, found[0], where)


def group(value: Any, where: str) -> None:
    """A Group: identified (one identifier, members optional) or anonymous (members only)."""
    data = mapping(value, where)
    if data.get("objectType") != "Group":
        raise _fail(f"{where}.objectType", 'expected "Group"')
    only(data, {"objectType", "name", "member", *_IDENTIFIERS}, where)
    if "name" in data:
        string(data["name"], f"{where}.name")
    found = [name for name in _IDENTIFIERS if name in data]
    if len(found) > 1:
        raise _fail(where, f"a Group has at most one identifier (found {', '.join(found)})")
    if found:
        _identifier(data, found[0], where)
    members = data.get("member")
    if members is None and not found:
        raise _fail(f"{where}.member", "an anonymous Group needs its members")
    if members is not None:
        if not isinstance(members, list) or (not members and not found):
            raise _fail(f"{where}.member", "expected a list of Agents")
        for number_, member in enumerate(members):
            agent(member, f"{where}.member[{number_}]")


def actor(value: Any, where: str, object_type_required: bool = False) -> None:
    """An Agent or a Group."""
    data = mapping(value, where)
    if data.get("objectType") == "Group":
        group(data, where)
    else:
        agent(data, where, object_type_required)


def _identifier(data: Mapping[str, Any], name: str, where: str) -> None:
    value = data[name]
    here = f"{where}.{name}"
    if name == "mbox":
        if not _MBOX.match(string(value, here)):
            raise _fail(here, "expected mailto: and an e-mail address")
    elif name == "mbox_sha1sum":
        if not _SHA1.match(string(value, here)):
            raise _fail(here, "expected the SHA-1 of the mailto: IRI, in hexadecimal")
    elif name == "openid":
        iri(value, here)
    else:
        account = mapping(value, here)
        only(account, {"homePage", "name"}, here)
        if "homePage" not in account or "name" not in account:
            raise _fail(here, "an account needs homePage and name")
        iri(account["homePage"], f"{here}.homePage")
        string(account["name"], f"{here}.name")


def authority(value: Any, where: str) -> None:
    """An Agent, or an anonymous Group of two Agents (an OAuth client and its user)."""
    data = mapping(value, where)
    if data.get("objectType") != "Group":
        agent(data, where)
        return
    group(data, where)
    if any(name in data for name in _IDENTIFIERS) or len(data.get("member") or ()) != 2:
        raise _fail(where, "a Group authority is anonymous, with exactly two members")


# Statements --------------------------------------------------------------------------------------

_STATEMENT = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
_SUBSTATEMENT = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)


def statement(value: Any, where: str = "statement") -> None:
    """A whole statement, as a client may send it (`id`, `stored`, `authority` optional)."""
    data = mapping(value, where)
    only(data, _STATEMENT, where)
    if "id" in data:
        uuid_string(data["id"], f"{where}.id")
    _core(data, where, sub=False)
    if "stored" in data:
        parse_timestamp(data["stored"], f"{where}.stored")
    if "authority" in data:
        authority(data["authority"], f"{where}.authority")
    if "version" in data and not _VERSION.match(string(data["version"], f"{where}.version")):
        raise _fail(f"{where}.version", 'expected "1.0" or "1.0.x"')


def _core(data: Mapping[str, Any], where: str, sub: bool) -> None:
    for required in ("actor", "verb", "object"):
        if required not in data:
            raise _fail(where, f"{required} is required")
    actor(data["actor"], f"{where}.actor")
    verb(data["verb"], f"{where}.verb")
    target = mapping(data["object"], f"{where}.object")
    kind = _object(target, f"{where}.object", sub)
    if data["verb"]["id"] == VOIDED and kind != "StatementRef":
        raise _fail(f"{where}.object", "a voiding statement's object is a StatementRef")
    if "result" in data:
        result(data["result"], f"{where}.result")
    if "context" in data:
        context(data["context"], f"{where}.context", about_activity=kind == "Activity")
    if "timestamp" in data:
        parse_timestamp(data["timestamp"], f"{where}.timestamp")
    if "attachments" in data:
        attachments = data["attachments"]
        if not isinstance(attachments, list):
            raise _fail(f"{where}.attachments", "expected a list")
        for number_, item in enumerate(attachments):
            attachment(item, f"{where}.attachments[{number_}]")


def verb(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, {"id", "display"}, where)
    if "id" not in data:
        raise _fail(where, "id is required")
    iri(data["id"], f"{where}.id")
    if "display" in data:
        language_map(data["display"], f"{where}.display")


def _object(data: Mapping[str, Any], where: str, sub: bool) -> str:
    kind = data.get("objectType", "Activity")
    if kind == "Activity":
        activity(data, where)
    elif kind == "Agent":
        agent(data, where, object_type_required=True)
    elif kind == "Group":
        group(data, where)
    elif kind == "StatementRef":
        statement_ref(data, where)
    elif kind == "SubStatement" and not sub:
        only(data, _SUBSTATEMENT, where)
        _core(data, where, sub=True)
    elif kind == "SubStatement":
        raise _fail(where, "a SubStatement cannot contain another SubStatement")
    else:
        raise _fail(
            f"{where}.objectType",
            f"{kind!r} is not Activity, Agent, Group, StatementRef or SubStatement",
        )
    return str(kind)


def statement_ref(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, {"objectType", "id"}, where)
    if data.get("objectType") != "StatementRef":
        raise _fail(f"{where}.objectType", 'expected "StatementRef"')
    uuid_string(data.get("id"), f"{where}.id")


def activity(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, {"objectType", "id", "definition"}, where)
    if data.get("objectType", "Activity") != "Activity":
        raise _fail(f"{where}.objectType", 'expected "Activity"')
    if "id" not in data:
        raise _fail(where, "id is required")
    iri(data["id"], f"{where}.id")
    if "definition" in data:
        definition(data["definition"], f"{where}.definition")


_DEFINITION = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "interactionType",
        "correctResponsesPattern",
        "extensions",
        *_COMPONENT_LISTS,
    }
)


def definition(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, _DEFINITION, where)
    _each(
        data,
        where,
        {
            "name": language_map,
            "description": language_map,
            "type": iri,
            "moreInfo": iri,
            "extensions": extensions,
        },
    )
    _interaction(data, where)


def _interaction(data: Mapping[str, Any], where: str) -> None:
    """An interaction activity's type, correct responses and components."""
    interaction = data.get("interactionType")
    if interaction is not None and (
        not isinstance(interaction, str) or interaction not in INTERACTION_TYPES
    ):
        raise _fail(f"{where}.interactionType", f"{interaction!r} is not an interaction type")
    used = [n for n in ("correctResponsesPattern", *_COMPONENT_LISTS) if n in data]
    if used and interaction is None:
        raise _fail(where, f"{used[0]} needs interactionType")
    if "correctResponsesPattern" in data:
        patterns = data["correctResponsesPattern"]
        if not isinstance(patterns, list):
            raise _fail(f"{where}.correctResponsesPattern", "expected a list of strings")
        for number_, pattern in enumerate(patterns):
            string(pattern, f"{where}.correctResponsesPattern[{number_}]")
    _each(data, where, dict.fromkeys(_COMPONENT_LISTS, _components))


def _each(
    data: Mapping[str, Any], where: str, checks: Mapping[str, Callable[[Any, str], object]]
) -> None:
    """Checks each of these fields that is present, in this order, with its check."""
    for name, check in checks.items():
        if name in data:
            check(data[name], f"{where}.{name}")


def _components(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise _fail(where, "expected a list of interaction components")
    seen: set[str] = set()
    for number_, item in enumerate(value):
        here = f"{where}[{number_}]"
        component = mapping(item, here)
        only(component, {"id", "description"}, here)
        identifier = string(component.get("id"), f"{here}.id")
        if identifier in seen:
            raise _fail(f"{here}.id", f"{identifier!r} is used twice in the list")
        seen.add(identifier)
        if "description" in component:
            language_map(component["description"], f"{here}.description")


def result(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, {"score", "success", "completion", "response", "duration", "extensions"}, where)
    if "score" in data:
        score(data["score"], f"{where}.score")
    for name in ("success", "completion"):
        if name in data:
            boolean(data[name], f"{where}.{name}")
    if "response" in data:
        string(data["response"], f"{where}.response")
    if "duration" in data:
        duration(data["duration"], f"{where}.duration")
    if "extensions" in data:
        extensions(data["extensions"], f"{where}.extensions")


def score(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, {"scaled", "raw", "min", "max"}, where)
    values = {name: number(data[name], f"{where}.{name}") for name in data}
    if "scaled" in values and not -1 <= values["scaled"] <= 1:
        raise _fail(f"{where}.scaled", "must be between -1 and 1")
    low, high, raw = values.get("min"), values.get("max"), values.get("raw")
    if low is not None and high is not None and high <= low:
        raise _fail(f"{where}.max", "must be greater than min")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise _fail(f"{where}.raw", "must be between min and max")


_CONTEXT = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)


def context(value: Any, where: str, about_activity: bool) -> None:
    data = mapping(value, where)
    only(data, _CONTEXT, where)
    _each(
        data,
        where,
        {
            "registration": uuid_string,
            "instructor": actor,
            "team": group,
            "contextActivities": context_activities,
        },
    )
    for name in ("revision", "platform"):
        if name in data:
            string(data[name], f"{where}.{name}")
            if not about_activity:
                raise _fail(f"{where}.{name}", "allowed only when the object is an Activity")
    _each(
        data,
        where,
        {"language": language_tag, "statement": statement_ref, "extensions": extensions},
    )


def context_activities(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(data, {"parent", "grouping", "category", "other"}, where)
    for kind, item in data.items():
        listed = item if isinstance(item, list) else [item]
        for number_, one in enumerate(listed):
            activity(one, f"{where}.{kind}[{number_}]")


def attachment(value: Any, where: str) -> None:
    data = mapping(value, where)
    only(
        data,
        {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"},
        where,
    )
    for required in ("usageType", "display", "contentType", "length", "sha2"):
        if required not in data:
            raise _fail(where, f"{required} is required")
    iri(data["usageType"], f"{where}.usageType")
    language_map(data["display"], f"{where}.display")
    if "description" in data:
        language_map(data["description"], f"{where}.description")
    if not _MEDIA_TYPE.match(string(data["contentType"], f"{where}.contentType")):
        raise _fail(f"{where}.contentType", "expected an Internet media type, e.g. text/plain")
    length = data["length"]
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise _fail(f"{where}.length", "expected a whole number of bytes")
    if not _HEX.match(string(data["sha2"], f"{where}.sha2")):
        raise _fail(f"{where}.sha2", "expected a SHA-2 hash in hexadecimal")
    if "fileUrl" in data:
        iri(data["fileUrl"], f"{where}.fileUrl")


def new_statement_id() -> str:
    return str(uuid.uuid4())
