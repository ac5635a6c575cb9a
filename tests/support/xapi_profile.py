"""A checker for guildbot's xAPI Profile, following the xAPI Profiles 1.0 specification.

- `problems_in(profile)`: the structural MUSTs of Part Two a profile document breaks.
- `Checker(profile).validates(statement)`: Part Three's Statement Template validation (the
  `validates` algorithm, rules evaluated with the restricted JSONPath of Part Two §8.1).
- `Checker(profile).follows(statements)`: Part Three's Pattern validation (`follows`).

No Python profile processor exists; this is plain code over the spec's pseudocode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc3987
from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

Json = dict[str, Any]

CONTEXT = "https://w3id.org/xapi/profiles/context"
CONFORMS_TO = "https://w3id.org/xapi/profiles#1.0"


# The restricted JSONPath of Part Two §8.1 -------------------------------------------------------

STAR = object()
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class JsonPathError(ValueError):
    pass


def parse_path(path: str) -> list[list[Any]]:
    """`$.a['b','c'][0][*].d` → [["a"], ["b", "c"], [0], [STAR], ["d"]]. Filters, scripts
    and recursive descent are not allowed (the spec forbids the first two; none of ours
    needs the third)."""
    if not path.startswith("$"):
        raise JsonPathError(f"{path!r}: must start with $")
    steps: list[list[Any]] = []
    at = 1
    while at < len(path):
        if path.startswith("..", at):
            raise JsonPathError(f"{path!r}: recursive descent is not supported")
        if path[at] == ".":
            if path.startswith(".*", at):
                steps.append([STAR])
                at += 2
                continue
            found = _NAME.match(path, at + 1)
            if found is None:
                raise JsonPathError(f"{path!r}: bad name at {at}")
            steps.append([found.group()])
            at = found.end()
        elif path[at] == "[":
            members, at = _bracket(path, at + 1)
            steps.append(members)
        else:
            raise JsonPathError(f"{path!r}: unexpected {path[at]!r} at {at}")
    return steps


def _bracket(path: str, at: int) -> tuple[list[Any], int]:
    members: list[Any] = []
    while True:
        if at >= len(path):
            raise JsonPathError(f"{path!r}: unclosed [")
        char = path[at]
        if char in "'\"":
            end = path.find(char, at + 1)
            if end < 0:
                raise JsonPathError(f"{path!r}: unclosed quote")
            members.append(path[at + 1 : end])
            at = end + 1
        elif char == "*":
            members.append(STAR)
            at += 1
        elif char.isdigit():
            number = re.compile(r"\d+").match(path, at)
            assert number is not None
            members.append(int(number.group()))
            at = number.end()
        else:
            raise JsonPathError(f"{path!r}: {char!r} in brackets (filters are not allowed)")
        if path.startswith("]", at):
            return members, at + 1
        if not path.startswith(",", at):
            raise JsonPathError(f"{path!r}: expected , or ] at {at}")
        at += 1


def evaluate(document: Any, path: str) -> list[Any]:
    """Every value `path` selects in `document` (an empty list when none)."""
    values = [document]
    for members in parse_path(path):
        found = []
        for value in values:
            for member in members:
                if member is STAR:
                    if isinstance(value, dict):
                        found.extend(value.values())
                    elif isinstance(value, list):
                        found.extend(value)
                elif isinstance(member, int):
                    if isinstance(value, list) and member < len(value):
                        found.append(value[member])
                elif isinstance(value, dict) and member in value:
                    found.append(value[member])
        values = found
    return values


# Statement Template validation (Part Three §2.1) ------------------------------------------------

_UNMATCHABLE = object()
_DETERMINING = {
    "contextGroupingActivityType": "grouping",
    "contextParentActivityType": "parent",
    "contextOtherActivityType": "other",
    "contextCategoryActivityType": "category",
}


def _types(statement: Json, kind: str) -> set[str]:
    activities = ((statement.get("context") or {}).get("contextActivities") or {}).get(kind) or []
    if isinstance(activities, dict):  # a singleton, before normalisation
        activities = [activities]
    return {(a.get("definition") or {}).get("type") for a in activities} - {None}


def matches_determining_properties(statement: Json, template: Json) -> bool:
    if "verb" in template and (statement.get("verb") or {}).get("id") != template["verb"]:
        return False
    target = statement.get("object") or {}
    if "objectActivityType" in template and (
        target.get("objectType", "Activity") != "Activity"
        or (target.get("definition") or {}).get("type") != template["objectActivityType"]
    ):
        return False
    for key, kind in _DETERMINING.items():
        if key in template and not set(template[key]) <= _types(statement, kind):
            return False
    return "attachmentUsageType" not in template


def follows_rule(statement: Json, rule: Json) -> bool:
    values = evaluate(statement, rule["location"])
    if "selector" in rule:
        selected: list[Any] = []
        for value in values:
            found = evaluate(value, rule["selector"])
            selected.extend(found or [_UNMATCHABLE])
        values = selected
    strict = True
    presence = rule.get("presence")
    matchable = [value for value in values if value is not _UNMATCHABLE]
    if presence == "included" and (not values or len(matchable) < len(values)):
        return False
    if presence == "excluded" and matchable:
        return False
    if presence == "recommended":
        strict = False
    applies = strict or bool(values)
    if "any" in rule and applies and not any(v in _listed(rule["any"]) for v in matchable):
        return False
    unlisted = len(matchable) < len(values) or any(
        v not in _listed(rule.get("all")) for v in values
    )
    if "all" in rule and applies and unlisted:
        return False
    return not ("none" in rule and applies and any(v in _listed(rule["none"]) for v in matchable))


def _listed(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


@dataclass(frozen=True)
class Outcome:
    outcome: str
    """"success", "invalid" or "unmatched"."""
    templates: tuple[str, ...]
    broken: tuple[str, ...] = ()
    """For "invalid": the rules (or references) not followed, for the failure message."""


@dataclass
class Checker:
    profile: Json
    known: dict[str, Json] = field(default_factory=dict)
    """Statements by id, for the StatementRef template checks."""

    @property
    def templates(self) -> list[Json]:
        return list(self.profile.get("templates") or [])

    def remember(self, statements: Iterable[Json]) -> None:
        self.known.update({s["id"]: s for s in statements})

    def validates(self, statement: Json) -> Outcome:
        matching, failing, broken = [], [], []
        for template in self.templates:
            if not matches_determining_properties(statement, template):
                continue
            unfollowed = self._unfollowed(statement, template)
            if unfollowed:
                failing.append(template["id"])
                broken += unfollowed
            else:
                matching.append(template["id"])
        if failing:
            return Outcome("invalid", tuple(failing), tuple(broken))
        return Outcome("success" if matching else "unmatched", tuple(matching))

    def _unfollowed(self, statement: Json, template: Json) -> list[str]:
        broken = []
        for key, where in (
            ("objectStatementRefTemplate", statement.get("object")),
            ("contextStatementRefTemplate", (statement.get("context") or {}).get("statement")),
        ):
            if key not in template:
                continue
            if not where or where.get("objectType") != "StatementRef":
                broken.append(f"{key}: not a StatementRef")
            elif where["id"] in self.known:
                found = self.validates(self.known[where["id"]]).templates
                if not set(found) & set(template[key]):
                    broken.append(f"{key}: {where['id']} matches {found}")
        broken += [
            json.dumps(r) for r in template.get("rules") or [] if not follows_rule(statement, r)
        ]
        return broken

    # Pattern validation (Part Three §2.2) ----------------------------------------------------

    def follows(self, statements: Sequence[Json]) -> bool:
        """Whether statements sharing a registration, ordered by timestamp, follow a primary
        Pattern (every one of them valid against its templates)."""
        ordered = sorted(statements, key=lambda s: s["timestamp"])
        matched = []
        for statement in ordered:
            outcome = self.validates(statement)
            if outcome.outcome != "success":
                return False
            matched.append(set(outcome.templates))
        patterns = {p["id"]: p for p in self.profile.get("patterns") or []}
        for pattern in patterns.values():
            if pattern.get("primary"):
                outcome, rest = self._matches(matched, pattern["id"], patterns)
                if outcome == "success" and not rest:
                    return True
        return False

    def _matches(
        self, statements: list[set[str]], element: str, patterns: Mapping[str, Json]
    ) -> tuple[str, list[set[str]]]:
        if element not in patterns:  # a Statement Template
            if not statements:
                return "partial", []
            return (
                ("success", statements[1:]) if element in statements[0] else ("failure", statements)
            )
        pattern = patterns[element]
        if "sequence" in pattern:
            return self._sequence(statements, pattern["sequence"], patterns)
        if "alternates" in pattern:
            return self._alternates(statements, pattern["alternates"], patterns)
        if "zeroOrMore" in pattern or "oneOrMore" in pattern:
            return self._repeated(statements, pattern, patterns)
        if "optional" in pattern:
            if not statements:
                return "success", []
            outcome, rest = self._matches(statements, pattern["optional"], patterns)
            return (outcome, rest) if outcome != "failure" else ("success", statements)
        raise ValueError(f"{element}: not a pattern")

    def _sequence(
        self, statements: list[set[str]], members: list[str], patterns: Mapping[str, Json]
    ) -> tuple[str, list[set[str]]]:
        rest = statements
        for member in members:
            outcome, rest = self._matches(rest, member, patterns)
            if outcome == "failure":
                return "failure", statements
            if outcome == "partial":
                return "partial", []
        return "success", rest

    def _alternates(
        self, statements: list[set[str]], members: list[str], patterns: Mapping[str, Json]
    ) -> tuple[str, list[set[str]]]:
        best, rest = "failure", statements
        for member in members:
            outcome, left = self._matches(statements, member, patterns)
            if outcome == "success":
                best = "success"
                rest = left if len(left) < len(rest) else rest
            if outcome == "partial" and best == "failure":
                best = "partial"
        return ("partial", []) if best == "partial" else (best, rest)

    def _repeated(
        self, statements: list[set[str]], pattern: Json, patterns: Mapping[str, Json]
    ) -> tuple[str, list[set[str]]]:
        member = pattern.get("zeroOrMore") or pattern["oneOrMore"]
        seen, last = False, statements
        while True:
            outcome, rest = self._matches(last, member, patterns)
            if outcome != "success":
                if outcome == "partial" and rest:
                    return "partial", rest
                ok = seen or "zeroOrMore" in pattern
                return ("success", last) if ok else (outcome, statements)
            seen = True
            if len(rest) == len(last):
                return "success", rest
            last = rest


# Structure (Part Two) ---------------------------------------------------------------------------

_PROFILE_KEYS = {
    "@context": True,
    "id": True,
    "type": True,
    "conformsTo": True,
    "prefLabel": True,
    "definition": True,
    "seeAlso": False,
    "versions": True,
    "author": True,
    "concepts": False,
    "templates": False,
    "patterns": False,
}
_RELATIONS = (
    "broader",
    "broadMatch",
    "narrower",
    "narrowMatch",
    "related",
    "relatedMatch",
    "exactMatch",
)
_CONCEPT_KEYS = {
    ("Verb", "ActivityType", "AttachmentUsageType"): {
        "required": {"id", "type", "inScheme", "prefLabel", "definition"},
        "optional": {"deprecated", *_RELATIONS},
    },
    ("ContextExtension", "ResultExtension", "ActivityExtension"): {
        "required": {"id", "type", "inScheme", "prefLabel", "definition"},
        "optional": {
            "deprecated",
            "recommendedActivityTypes",
            "recommendedVerbs",
            "context",
            "schema",
            "inlineSchema",
        },
    },
}
_TEMPLATE_KEYS = {
    "required": {"id", "type", "inScheme", "prefLabel", "definition"},
    "optional": {
        "deprecated",
        "allowedSolo",
        "verb",
        "objectActivityType",
        "contextGroupingActivityType",
        "contextParentActivityType",
        "contextOtherActivityType",
        "contextCategoryActivityType",
        "attachmentUsageType",
        "objectStatementRefTemplate",
        "contextStatementRefTemplate",
        "rules",
    },
}
_RULE_KEYS = {"location", "selector", "presence", "any", "all", "none", "scopeNote"}
_PATTERN_KINDS = ("alternates", "optional", "oneOrMore", "sequence", "zeroOrMore")
_PATTERN_KEYS = {
    "id",
    "type",
    "inScheme",
    "primary",
    "prefLabel",
    "definition",
    "deprecated",
    *_PATTERN_KINDS,
}


def _iri(value: Any) -> bool:
    return isinstance(value, str) and rfc3987.match(value, rule="absolute_IRI") is not None


def _language_map(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(t, str) and t for k, t in value.items())
    )


def _empties(value: Any, where: str) -> list[str]:
    if value is None or value in ("", {}, []):
        return [f"{where}: empty value"]
    if isinstance(value, dict):
        return [p for k, item in value.items() for p in _empties(item, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in _empties(item, f"{where}[{n}]")]
    return []


def _keys(thing: Json, required: set[str], optional: set[str], where: str) -> list[str]:
    missing = [f"{where}: {key} is required" for key in sorted(required - set(thing))]
    unknown = [
        f"{where}: {key} is not a property of it"
        for key in sorted(set(thing) - required - optional)
    ]
    return missing + unknown


def problems_in(profile: Json) -> list[str]:
    """What in the document breaks a MUST of the Profiles specification's Part Two."""
    problems = _empties(profile, "$")
    required = {k for k, needed in _PROFILE_KEYS.items() if needed}
    problems += _keys(profile, required, set(_PROFILE_KEYS) - required, "profile")
    problems += _header_problems(profile)
    problems += _version_problems(profile)
    author = profile.get("author") or {}
    if author.get("type") not in ("Organization", "Person") or not author.get("name"):
        problems.append("author must be an Organization or Person with a name")
    return problems + _part_problems(profile)


def _header_problems(profile: Json) -> list[str]:
    context = profile.get("@context")
    checks = [
        (
            CONTEXT not in (context if isinstance(context, list) else [context]),
            f"@context must contain {CONTEXT}",
        ),
        (profile.get("type") != "Profile", "type must be Profile"),
        (profile.get("conformsTo") != CONFORMS_TO, f"conformsTo must be {CONFORMS_TO}"),
        (not _iri(profile.get("id")), "id must be an IRI"),
        *(
            (not _language_map(profile.get(key)), f"{key} must be a language map")
            for key in ("prefLabel", "definition")
        ),
    ]
    return [message for broken, message in checks if broken]


def _part_problems(profile: Json) -> list[str]:
    """The concepts', templates' and patterns' problems, and ids defined twice."""
    problems: list[str] = []
    versions = {version.get("id") for version in profile.get("versions") or []}
    ids: list[str] = []
    for n, concept in enumerate(profile.get("concepts") or []):
        problems += _concept_problems(concept, versions, f"concepts[{n}]")
        ids.append(concept.get("id"))
    templates = {t.get("id") for t in profile.get("templates") or []}
    for n, template in enumerate(profile.get("templates") or []):
        problems += _template_problems(template, versions, templates, f"templates[{n}]")
        ids.append(template.get("id"))
    patterns = {p.get("id"): p for p in profile.get("patterns") or []}
    for n, pattern in enumerate(patterns.values()):
        problems += _pattern_problems(pattern, versions, templates, patterns, f"patterns[{n}]")
        ids.append(pattern.get("id"))
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    return problems + [f"{i}: defined twice" for i in duplicated]


def _version_problems(profile: Json) -> list[str]:
    problems = []
    versions = profile.get("versions") or []
    ids = [version.get("id") for version in versions]
    for n, version in enumerate(versions):
        where = f"versions[{n}]"
        problems += _keys(version, {"id", "generatedAtTime"}, {"wasRevisionOf"}, where)
        if not _iri(version.get("id")) or version.get("id") == profile.get("id"):
            problems.append(f"{where}: id must be an IRI other than the profile's")
        if n < len(versions) - 1 and not version.get("wasRevisionOf"):
            problems.append(f"{where}: a version after the first must say wasRevisionOf")
    if len(set(ids)) != len(ids):
        problems.append("versions: ids must be unique")
    return problems


def _concept_problems(concept: Json, versions: set[str], where: str) -> list[str]:
    kinds = next((k for k in _CONCEPT_KEYS if concept.get("type") in k), None)
    if kinds is None:
        return [f"{where}: type {concept.get('type')!r} is not one this checker knows"]
    spec = _CONCEPT_KEYS[kinds]
    problems = _keys(concept, spec["required"], spec["optional"], where)
    kind = concept.get("type")
    checks = [
        (not _iri(concept.get("id")), "id must be an IRI"),
        (concept.get("inScheme") not in versions, "inScheme must be a version of this profile"),
        *(
            (not _language_map(concept.get(key)), f"{key} must be a language map")
            for key in ("prefLabel", "definition")
        ),
        *(
            (key in concept and not all(_iri(i) for i in concept[key]), f"{key} must be IRIs")
            for key in (*_RELATIONS, "recommendedActivityTypes", "recommendedVerbs")
        ),
        (
            "related" in concept and not concept.get("deprecated"),
            "related is only for deprecated concepts",
        ),
        (
            "recommendedActivityTypes" in concept and kind != "ActivityExtension",
            "recommendedActivityTypes is only for ActivityExtensions",
        ),
        (
            "recommendedVerbs" in concept and kind == "ActivityExtension",
            "recommendedVerbs is not for ActivityExtensions",
        ),
        (
            "schema" in concept and "inlineSchema" in concept,
            "at most one of schema and inlineSchema",
        ),
    ]
    problems += [f"{where}: {message}" for broken, message in checks if broken]
    if "inlineSchema" in concept:
        try:
            Draft7Validator.check_schema(json.loads(concept["inlineSchema"]))
        except (ValueError, SchemaError) as error:
            problems.append(f"{where}: inlineSchema is not a legal JSON Schema ({error})")
    return problems


def _template_problems(
    template: Json, versions: set[str], templates: set[str], where: str
) -> list[str]:
    problems = _keys(template, _TEMPLATE_KEYS["required"], _TEMPLATE_KEYS["optional"], where)
    checks = [
        (template.get("type") != "StatementTemplate", "type must be StatementTemplate"),
        (template.get("inScheme") not in versions, "inScheme must be a version of this profile"),
        *(
            (key in template and not _iri(template[key]), f"{key} must be an IRI")
            for key in ("id", "verb", "objectActivityType")
        ),
        *(
            (key in template and not all(_iri(i) for i in template[key]), f"{key} must be IRIs")
            for key in _DETERMINING
        ),
        (
            "objectStatementRefTemplate" in template and "objectActivityType" in template,
            "objectStatementRefTemplate excludes objectActivityType",
        ),
        *(
            (ref not in templates, f"{key} names {ref}, not a template of this profile")
            for key in ("objectStatementRefTemplate", "contextStatementRefTemplate")
            for ref in template.get(key) or []
        ),
    ]
    problems += [f"{where}: {message}" for broken, message in checks if broken]
    for n, rule in enumerate(template.get("rules") or []):
        problems += _rule_problems(rule, f"{where}.rules[{n}]")
    return problems


def _rule_problems(rule: Json, where: str) -> list[str]:
    problems = _keys(rule, {"location"}, _RULE_KEYS - {"location"}, where)
    if not {"presence", "any", "all", "none"} & set(rule):
        problems.append(f"{where}: needs one of presence, any, all, none")
    if rule.get("presence", "included") not in ("included", "excluded", "recommended"):
        problems.append(f"{where}: presence {rule['presence']!r}")
    for key in ("location", "selector"):
        if key in rule:
            try:
                parse_path(rule[key])
            except JsonPathError as error:
                problems.append(f"{where}: {key}: {error}")
    return problems


def _pattern_problems(
    pattern: Json,
    versions: set[str],
    templates: set[str],
    patterns: Mapping[str, Json],
    where: str,
) -> list[str]:
    problems = _keys(pattern, {"id", "type", "inScheme"}, _PATTERN_KEYS, where)
    if pattern.get("type") != "Pattern":
        problems.append(f"{where}: type must be Pattern")
    if pattern.get("inScheme") not in versions:
        problems.append(f"{where}: inScheme must be a version of this profile")
    if pattern.get("primary") and not (pattern.get("prefLabel") and pattern.get("definition")):
        problems.append(f"{where}: a primary pattern needs prefLabel and definition")
    kinds = [kind for kind in _PATTERN_KINDS if kind in pattern]
    if len(kinds) != 1:
        return [*problems, f"{where}: needs exactly one of {', '.join(_PATTERN_KINDS)}"]
    members = _listed(pattern[kinds[0]])
    if kinds[0] in ("alternates", "sequence") and len(members) < 2:
        problems.append(f"{where}: {kinds[0]} needs two or more members")
    for member in members:
        if member not in templates and member not in patterns:
            problems.append(f"{where}: {member} is neither a template nor a pattern here")
        inner = patterns.get(member) or {}
        if kinds[0] == "alternates" and ("optional" in inner or "zeroOrMore" in inner):
            problems.append(f"{where}: optional or zeroOrMore directly inside alternates")
    if _refers_to_itself(pattern["id"], pattern, patterns, set()):
        problems.append(f"{where}: refers to itself")
    return problems


def _refers_to_itself(
    target: str, pattern: Json, patterns: Mapping[str, Json], seen: set[str]
) -> bool:
    for kind in _PATTERN_KINDS:
        for member in _listed(pattern.get(kind) or []):
            if member == target:
                return True
            if member in patterns and member not in seen:
                seen.add(member)
                if _refers_to_itself(target, patterns[member], patterns, seen):
                    return True
    return False


def extension_problems(profile: Json, statement: Json) -> list[str]:
    """Values of the profile's own extensions that break their `inlineSchema`, and any of
    them used outside where its type allows (a ContextExtension only in context…)."""
    problems = []
    for concept in profile.get("concepts") or []:
        kind = concept.get("type", "")
        if not kind.endswith("Extension"):
            continue
        places = {
            "ContextExtension": "$.context.extensions",
            "ResultExtension": "$.result.extensions",
            "ActivityExtension": "$.object.definition.extensions",
        }
        for place, path in places.items():
            found = [e[concept["id"]] for e in evaluate(statement, path) if concept["id"] in e]
            if found and place != kind:
                problems.append(f"{concept['id']}: a {kind} used at {path}")
            if "inlineSchema" in concept:
                validator = Draft7Validator(json.loads(concept["inlineSchema"]))
                problems += [
                    f"{concept['id']}: {e.message}" for v in found for e in validator.iter_errors(v)
                ]
    return problems


def off_profile(statements: Sequence[Json], profile: Json | None = None) -> list[str]:
    """Why each statement is off guildbot's profile (by default the one the bot serves): it
    matches no Statement Template, or more than one, or breaks a rule. Empty when all follow."""
    if profile is None:
        from bot.xapi.profile import load

        profile = json.loads(load())
    checker = Checker(profile)
    checker.remember(statements)
    found = []
    for statement in statements:
        outcome = checker.validates(statement)
        if outcome.outcome != "success" or len(outcome.templates) != 1:
            found.append(f"{statement.get('id')} ({statement['verb']['id']}): {outcome}")
        found += extension_problems(profile, statement)
    return found
