"""guildbot's xAPI Profile (xAPI Profiles 1.0): the written contract of every statement.

`document()` builds it; `guildbot-profile.jsonld` beside this module is that document as
served at `GET /xapi/profile` and kept in the repository, and README.md's "xAPI vocabulary"
tables are rendered from it. After changing the profile, run `python -m bot.xapi.profile`:
it rewrites both (a test fails while either is stale).

Concepts: the Activity Streams verbs and activity types guildbot spells
`http://activitystrea.ms/<name>` (registered as `…/schema/1.0/<name>`, hence `exactMatch`) and
guildbot's own extensions. ADL's and the Tin Can registry's verbs, types and extensions are
used as those registries define them and are not redefined here: the Profiles specification
forbids defining a Concept another Profile defines.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from bot.xapi import vocabulary as v

PROFILE_FILE = Path(__file__).with_name("guildbot-profile.jsonld")
MEDIA_TYPE = "application/ld+json"
CONTEXT = "https://w3id.org/xapi/profiles/context"
CONFORMS_TO = "https://w3id.org/xapi/profiles#1.0"
GENERATED_AT = "2026-12-05T00:00:00Z"
LEVELS = ("learning", "practitioner", "expert")
"""The skill levels `level` takes (`bot.domain.skills.LEVELS`)."""

Json = dict[str, Any]


def _en(text: str) -> dict[str, str]:
    return {"en": text}


def _template_id(name: str) -> str:
    return f"{v.PROFILE}/templates/{name}"


def _pattern_id(name: str) -> str:
    return f"{v.PROFILE}/patterns/{name}"


# Concepts ----------------------------------------------------------------------------------------

# (name, registered display, registered meaning in short, how guildbot uses it)
_AS_VERBS = (
    (
        "give",
        "gave",
        "The actor gave the object to a target.",
        "a kudos badge; the receiver is the `target` extension",
    ),
    (
        "receive",
        "received",
        "The actor received the object.",
        "a kudos badge; `context.statement` is the `give`",
    ),
    (
        "accept",
        "accepted",
        "The actor accepted the object.",
        "the asker accepting the referenced `answered` statement",
    ),
    (
        "search",
        "searched",
        "The actor searched for the object.",
        "a skill (`/expert`) or the FAQ (`/faq`)",
    ),
    ("schedule", "scheduled", "The actor scheduled the object.", "a lunch-and-learn session"),
    (
        "present",
        "presented",
        "The actor presented the object.",
        "a lunch-and-learn session that started",
    ),
    ("cancel", "canceled", "The actor canceled the object.", "a lunch-and-learn session"),
    (
        "add",
        "added",
        "The actor added the object.",
        "a skill added to the actor's profile, or its new level",
    ),
    (
        "remove",
        "removed",
        "The actor removed the object.",
        "a skill removed from the actor's profile",
    ),
    (
        "like",
        "liked",
        "The actor marked the object as of special interest.",
        "an endorsement: the object is the endorsed person, the skill is in `contextActivities.other`",
    ),
    ("join", "joined", "The actor joined the object.", "a community of practice"),
    ("leave", "left", "The actor left the object.", "a community of practice"),
    ("create", "created", "The actor created the object.", "a community of practice"),
    (
        "share",
        "shared",
        "The actor shared the object.",
        "a resource (a link or a file) shared with colleagues",
    ),
)
_AS_TYPES = (
    ("badge", "A kudos: one person's recognition of another, named for both and its values."),
    ("question", "A question asked in Slack (not an assessment item)."),
)
_EXTENSIONS = (
    (
        v.EXT_VALUES,
        "ContextExtension",
        "kudos values",
        "The kudos values (tags) as the giver typed them, skill or not.",
        [v.GIVE.id, v.RECEIVE.id],
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    ),
    (
        v.EXT_TEAM,
        "ContextExtension",
        "Slack team",
        "The Slack team id of the workspace the statement happened in.",
        None,
        {"type": "string", "pattern": "^[TE][A-Z0-9]+$"},
    ),
    (
        v.EXT_LEVEL,
        "ResultExtension",
        "skill level",
        "The level the actor declared for the skill.",
        [v.ADD.id],
        {"type": "string", "enum": list(LEVELS)},
    ),
)


def _concepts() -> list[Json]:
    verbs = [
        {
            "id": v.AS + name,
            "type": "Verb",
            "inScheme": v.PROFILE_VERSION,
            "prefLabel": _en(display),
            "definition": _en(f"{meaning} guildbot: {use}."),
            "exactMatch": [f"{v.AS}schema/1.0/{name}"],
        }
        for name, display, meaning, use in _AS_VERBS
    ]
    types = [
        {
            "id": v.AS + name,
            "type": "ActivityType",
            "inScheme": v.PROFILE_VERSION,
            "prefLabel": _en(name),
            "definition": _en(use),
            "exactMatch": [f"{v.AS}schema/1.0/{name}"],
        }
        for name, use in _AS_TYPES
    ]
    extensions = []
    for iri, kind, label, meaning, verbs_for, schema in _EXTENSIONS:
        extension: Json = {
            "id": iri,
            "type": kind,
            "inScheme": v.PROFILE_VERSION,
            "prefLabel": _en(label),
            "definition": _en(meaning),
        }
        if verbs_for:
            extension["recommendedVerbs"] = verbs_for
        extension["inlineSchema"] = json.dumps(schema, separators=(",", ":"))
        extensions.append(extension)
    return [*verbs, *types, *extensions]


# Statement Templates -----------------------------------------------------------------------------


def _rule(
    location: str, presence: str | None = None, note: str | None = None, **match: Any
) -> Json:
    rule: Json = {"location": location}
    if presence:
        rule["presence"] = presence
    rule.update(match)
    if note:
        rule["scopeNote"] = _en(note)
    return rule


def _extension(iri: str, where: str = "context") -> str:
    return f"$.{where}.extensions['{iri}']"


def _common(platform: bool = True) -> list[Json]:
    """What every statement about a person's activity holds."""
    return [
        _rule(
            "$.id", "included", "A lowercase UUID; derived from the Slack event when one caused it."
        ),
        _rule(
            "$.timestamp",
            "included",
            "When it happened: the Slack event's time where Slack gives one.",
        ),
        _rule("$.actor.objectType", "included", all=["Agent"]),
        _rule("$.context.language", "included", all=[v.LANGUAGE]),
        _rule("$.context.platform", "included", all=[v.PLATFORM])
        if platform
        else _rule(
            "$.context.platform",
            "excluded",
            "xAPI allows `platform` only when the object is an Activity.",
        ),
        _rule(_extension(v.EXT_TEAM), "included"),
        _rule(
            "$.context.contextActivities.grouping[*].id",
            "included",
            "The workspace: its URL, fixed at first start.",
        ),
    ]


_SKILLS_NOTE = "Each skill the statement is about, one activity per canonical skill."
_CHANNEL = [v.CHAT_CHANNEL]


def _template(
    name: str,
    label: str,
    definition: str,
    verb: v.Verb,
    rules: list[Json],
    *,
    object_type: str | None = None,
    parent: list[str] | None = None,
    other: list[str] | None = None,
    object_ref: list[str] | None = None,
    context_ref: list[str] | None = None,
    solo: bool = False,
    personal: bool = True,
) -> Json:
    template: Json = {
        "id": _template_id(name),
        "type": "StatementTemplate",
        "inScheme": v.PROFILE_VERSION,
        "prefLabel": _en(label),
        "definition": _en(definition),
    }
    if solo:
        template["allowedSolo"] = True
    template["verb"] = verb.id
    if object_type:
        template["objectActivityType"] = object_type
    if personal:
        template["contextGroupingActivityType"] = [v.COMMUNITY_SITE]
    if parent:
        template["contextParentActivityType"] = parent
    if other:
        template["contextOtherActivityType"] = other
    template["contextCategoryActivityType"] = [v.XAPI_PROFILE]
    if object_ref:
        template["objectStatementRefTemplate"] = [_template_id(t) for t in object_ref]
    if context_ref:
        template["contextStatementRefTemplate"] = [_template_id(t) for t in context_ref]
    template["rules"] = rules
    return template


_SOLO = " Sent on its own (an Implied Pattern), with no registration."


def _kudos_templates() -> list[Json]:
    shared = [
        *_common(),
        _rule("$.object.definition.name", "included", "Who gave it to whom, and its values."),
        _rule(_extension(v.EXT_VALUES), "recommended", "The values as typed, when any."),
        _rule(
            "$.context.contextActivities.other[*].definition.type",
            "recommended",
            "The values that name a skill, as skills.",
            all=[v.TAG],
        ),
        _rule(
            "$.result.response",
            "recommended",
            "The reason, only with XAPI_INCLUDE_TEXT, as a person reads it.",
        ),
    ]
    return [
        _template(
            "kudos-given",
            "give kudos",
            "The giver gave a kudos (a badge) to the receiver, who is in the `target` "
            "extension; given for a message (a reaction, the shortcut), that message is a "
            "parent too, and for an answer `context.statement` references its `answered`." + _SOLO,
            v.GIVE,
            [*shared, _rule(_extension(v.EXT_TARGET), "included", "The receiver, as an Agent.")],
            object_type=v.BADGE,
            parent=_CHANNEL,
            solo=True,
        ),
        _template(
            "kudos-received",
            "receive kudos",
            "The receiver received the same kudos activity; `context.statement` references "
            "the giver's `give`." + _SOLO,
            v.RECEIVE,
            [*shared, _rule(_extension(v.EXT_TARGET), "excluded")],
            object_type=v.BADGE,
            parent=_CHANNEL,
            context_ref=["kudos-given"],
            solo=True,
        ),
    ]


def _question_templates() -> list[Json]:
    question = [
        _rule("$.context.registration", "included", "The question's id: its whole life."),
        _rule(
            "$.context.contextActivities.other[*].definition.type",
            "recommended",
            _SKILLS_NOTE,
            all=[v.TAG],
        ),
    ]
    shared = [*_common(), *question]
    return [
        _template(
            "question-asked",
            "ask a question (`/ask`)",
            "The asker asked the question (named by its skills and channel, never its text); "
            "its tags that name skills in `contextActivities.other`; the question text in "
            "`result.response` only with XAPI_INCLUDE_TEXT.",
            v.ASKED,
            shared,
            object_type=v.QUESTION,
            parent=_CHANNEL,
        ),
        _template(
            "question-answered",
            "answer in the thread",
            "The answerer answered the question (its permalink in `moreInfo`); the answer's "
            "permalink in `result.response`, its text instead only with XAPI_INCLUDE_TEXT.",
            v.ANSWERED,
            [
                *shared,
                _rule("$.result.response", "recommended", "The answer's permalink, or its text."),
            ],
            object_type=v.QUESTION,
            parent=_CHANNEL,
        ),
        _template(
            "answer-accepted",
            "accept an answer",
            "The asker accepted an answer: the object references its `answered` statement, so "
            "filtering by the answerer or by the question finds the acceptance; the question "
            "is the parent. Un-accepting or accepting another voids it.",
            v.ACCEPT,
            [
                *_common(platform=False),
                *question,
                _rule("$.object.objectType", "included", all=["StatementRef"]),
            ],
            parent=[v.QUESTION, v.CHAT_CHANNEL],
            object_ref=["question-answered"],
        ),
    ]


def _search_templates() -> list[Json]:
    rules = [
        *_common(),
        _rule("$.result.response", "recommended", "The query, only with XAPI_INCLUDE_TEXT."),
    ]
    return [
        _template(
            "skill-searched",
            "`/expert` search",
            "The searcher looked for experts in the skill they named." + _SOLO,
            v.SEARCH,
            rules,
            object_type=v.TAG,
            solo=True,
        ),
        _template(
            "faq-searched",
            "`/faq` search",
            "The searcher searched the FAQ, the collection of answered questions." + _SOLO,
            v.SEARCH,
            rules,
            object_type=v.COLLECTION,
            solo=True,
        ),
    ]


def _session_templates() -> list[Json]:
    shared = [
        *_common(),
        _rule("$.context.registration", "included", "The session's id: its whole life."),
        _rule(
            "$.context.instructor.objectType",
            "recommended",
            "The presenter (absent once erased).",
            all=["Agent"],
        ),
        _rule(
            "$.context.contextActivities.other[*].definition.type",
            "recommended",
            "The session's topics that name skills, and the knowledge gap it was scheduled from.",
            all=[v.TAG],
        ),
    ]
    planned = [
        _rule(_extension(v.EXT_PLANNED_START), "included", "When it is planned to start."),
        _rule(_extension(v.EXT_PLANNED_DURATION), "included", "How long it is planned to last."),
    ]

    def session(name: str, label: str, definition: str, verb: v.Verb, rules: list[Json]) -> Json:
        return _template(
            name, label, definition, verb, [*shared, *rules], object_type=v.MEETING, parent=_CHANNEL
        )

    return [
        session(
            "session-scheduled",
            "schedule a lunch-and-learn",
            "The organiser scheduled the session (its title as the name).",
            v.SCHEDULE,
            planned,
        ),
        session(
            "session-registered",
            "Going (or promoted from the waitlist)",
            "The attendee took a place.",
            v.REGISTERED,
            planned,
        ),
        session(
            "session-unregistered",
            "Can't go",
            "The attendee gave up their place.",
            v.UNREGISTERED,
            [],
        ),
        session(
            "session-attended",
            "check in",
            "The attendee checked in; `result.duration` is from the check-in (or the start) to "
            "the planned end, when that is known.",
            v.ATTENDED,
            [*planned, _rule("$.result.duration", "recommended")],
        ),
        session(
            "session-presented",
            "the session starts",
            "The presenter presented the session.",
            v.PRESENT,
            [],
        ),
        session(
            "session-rated",
            "feedback",
            "The attendee rated the session: `result.score` raw 1–5, min 1, max 5, scaled "
            "(raw − 1) / 4; the comment in `result.response` only with XAPI_INCLUDE_TEXT. A "
            "changed rating voids the previous one.",
            v.RATED,
            [
                _rule("$.result.score.raw", "included", all=[1, 2, 3, 4, 5]),
                _rule("$.result.score.min", "included", all=[1]),
                _rule("$.result.score.max", "included", all=[5]),
                _rule("$.result.score.scaled", "included", all=[0, 0.25, 0.5, 0.75, 1]),
            ],
        ),
        session(
            "session-canceled",
            "cancel a session",
            "The L&D admin canceled the session.",
            v.CANCEL,
            [],
        ),
    ]


def _skill_templates() -> list[Json]:
    return [
        _template(
            "skill-added",
            "declare a skill, or change its level",
            "The person added the skill to their profile; the level in `result.extensions`."
            + _SOLO,
            v.ADD,
            [*_common(), _rule(_extension(v.EXT_LEVEL, "result"), "included")],
            object_type=v.TAG,
            solo=True,
        ),
        _template(
            "skill-removed",
            "remove a skill",
            "The person removed the skill from their profile." + _SOLO,
            v.REMOVE,
            [*_common(), _rule("$.result", "excluded")],
            object_type=v.TAG,
            solo=True,
        ),
        _template(
            "skill-endorsed",
            "endorse someone's skill",
            "The endorser endorsed the person (the object, an Agent) for the skill, which is in "
            "`contextActivities.other` with the person's profile. Withdrawing voids it." + _SOLO,
            v.LIKE,
            [*_common(platform=False), _rule("$.object.objectType", "included", all=["Agent"])],
            other=[v.TAG, v.USER_PROFILE],
            solo=True,
        ),
    ]


def _community_templates() -> list[Json]:
    shared = [
        *_common(),
        _rule(
            "$.context.contextActivities.grouping[*].definition.type",
            "included",
            "The workspace and the community (both community sites).",
            all=[v.COMMUNITY_SITE],
        ),
        _rule(
            "$.context.contextActivities.other[*].definition.type",
            "recommended",
            "The community's topic skills.",
            all=[v.TAG],
        ),
    ]

    def community(name: str, label: str, definition: str, verb: v.Verb, *rules: Json) -> Json:
        return _template(
            name,
            label,
            definition + _SOLO,
            verb,
            [*shared, *rules],
            object_type=v.COMMUNITY_SITE,
            parent=_CHANNEL,
            solo=True,
        )

    def resource(name: str, label: str, definition: str, verb: v.Verb) -> Json:
        return _template(
            name,
            label,
            definition + _SOLO,
            verb,
            [
                *_common(),
                _rule(
                    "$.object.definition.type",
                    "included",
                    "A link, a document or a video.",
                    all=sorted(v.RESOURCE_TYPES.values()),
                ),
                _rule("$.object.definition.moreInfo", "included", "Its address."),
                _rule(
                    "$.context.contextActivities.other[*].definition.type",
                    "recommended",
                    "The resource's skills.",
                    all=[v.TAG],
                ),
            ],
            parent=_CHANNEL,
            solo=True,
        )

    return [
        community(
            "community-created",
            "create a community (`/community create`, `/community link`)",
            "The person created the community of practice (a Slack channel with topic skills), "
            "or an L&D admin linked an existing channel as one.",
            v.CREATE,
        ),
        community(
            "community-joined",
            "join a community (Join button, or joining its channel)",
            "The person joined the community.",
            v.JOIN,
        ),
        community(
            "community-left",
            "leave a community (Leave button, or leaving its channel)",
            "The person left the community.",
            v.LEAVE,
        ),
        community(
            "community-contributed",
            "a message or thread reply in a community's channel",
            "The person contributed to the community: the message's permalink in "
            "`result.response`, never its text; a reply's thread is a parent. At most "
            "a few a day per person and community are sent (the rest are counted only).",
            v.COMMENTED,
            _rule("$.result.response", "included", "The message's permalink."),
        ),
        resource(
            "resource-shared",
            "share a resource (a link or file in a community's channel, `/share`)",
            "The person shared the resource (its title as the name, its address in "
            "`moreInfo`); its community, when it has one, in `contextActivities.grouping`.",
            v.SHARE,
        ),
        resource(
            "resource-viewed",
            "open a resource (its Open button)",
            "The person opened the resource with its Open button.",
            v.VIEWED,
        ),
    ]


def _voiding_template() -> Json:
    return _template(
        "statement-voided",
        "revoke or erase",
        "guildbot's own agent (the bot user's account, named `guildbot`), whoever asked, voided "
        "the referenced statement: Undo, a kudos reaction removed, Remove kudos, an "
        "endorsement withdrawn, an answer deleted, an acceptance taken back, a rating changed, "
        "`/skills forget me`, erasure. A voiding statement cannot itself be voided, so it never "
        "names a person." + _SOLO,
        v.VOIDED,
        [
            _rule("$.id", "included"),
            _rule("$.timestamp", "included"),
            _rule("$.actor.account.name", "included", "guildbot's bot user."),
            _rule("$.actor.mbox", "excluded"),
            _rule("$.object.objectType", "included", all=["StatementRef"]),
            _rule("$.context.platform", "excluded"),
        ],
        solo=True,
        personal=False,
    )


def _templates() -> list[Json]:
    return [
        *_kudos_templates(),
        *_question_templates(),
        *_search_templates(),
        *_session_templates(),
        *_skill_templates(),
        *_community_templates(),
        _voiding_template(),
    ]


# Patterns ----------------------------------------------------------------------------------------


def _patterns() -> list[Json]:
    def pattern(name: str, **kind: Any) -> Json:
        return {"id": _pattern_id(name), "type": "Pattern", "inScheme": v.PROFILE_VERSION, **kind}

    def primary(name: str, label: str, definition: str, **kind: Any) -> Json:
        return {
            **pattern(name),
            "primary": True,
            "prefLabel": _en(label),
            "definition": _en(definition),
            **kind,
        }

    session_events = ["registered", "unregistered", "attended", "presented", "rated", "canceled"]
    return [
        primary(
            "session",
            "a lunch-and-learn",
            "One session's statements, grouped by its registration (the session id): scheduled "
            "first, then people registering, attending and rating it, its presenter presenting "
            "it, or its cancellation, in the order they happen.",
            sequence=[_template_id("session-scheduled"), _pattern_id("session-life")],
        ),
        pattern("session-life", zeroOrMore=_pattern_id("session-event")),
        pattern(
            "session-event",
            alternates=[_template_id(f"session-{event}") for event in session_events],
        ),
        primary(
            "question",
            "a question",
            "One question's statements, grouped by its registration (the question id): asked "
            "first, then answered, and an answer accepted, in the order they happen.",
            sequence=[_template_id("question-asked"), _pattern_id("question-life")],
        ),
        pattern("question-life", zeroOrMore=_pattern_id("question-event")),
        pattern(
            "question-event",
            alternates=[_template_id("question-answered"), _template_id("answer-accepted")],
        ),
    ]


# The document ------------------------------------------------------------------------------------


def document() -> Json:
    return {
        "@context": CONTEXT,
        "id": v.PROFILE,
        "type": "Profile",
        "conformsTo": CONFORMS_TO,
        "prefLabel": _en("guildbot"),
        "definition": _en(
            "Social learning at work in Slack, as guildbot records it: kudos, skills and "
            "endorsements, expert and FAQ searches, questions and answers, lunch-and-learn "
            "sessions, and communities of practice with the resources shared in them. Every statement names this version in `contextActivities.category`, the "
            "workspace in `grouping` and the Slack channel in `parent`; skills are activities "
            "(`<base>/skills/<name>`, type tag) in `contextActivities.other`, so one query by "
            "activity returns everything about a skill. Activity ids live under each "
            "deployment's base; this profile's IRIs, the extensions included, are the same in "
            "every deployment."
        ),
        "versions": [{"id": v.PROFILE_VERSION, "generatedAtTime": GENERATED_AT}],
        "author": {"type": "Organization", "name": "guildbot"},
        "concepts": _concepts(),
        "templates": _templates(),
        "patterns": _patterns(),
    }


def serialised(profile: Json) -> str:
    return json.dumps(profile, ensure_ascii=False, indent=2) + "\n"


def load() -> bytes:
    """The profile as kept in the repository, byte for byte (what `/xapi/profile` serves)."""
    return PROFILE_FILE.read_bytes()


# README ------------------------------------------------------------------------------------------

README_START = "<!-- xAPI profile tables: generated by `python -m bot.xapi.profile` -->"
README_END = "<!-- end of the generated xAPI profile tables -->"


def _short(iri: str) -> str:
    return f"`{iri}`"


def readme_tables(profile: Json) -> str:
    """The README's statement and extension tables, from the profile."""
    lines = [
        README_START,
        "",
        "| interaction | verb | object | what it records |",
        "| --- | --- | --- | --- |",
    ]
    extensions: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    for template in profile["templates"]:
        if "objectActivityType" in template:
            target = _short(template["objectActivityType"])
        elif "objectStatementRefTemplate" in template:
            target = "a `StatementRef`"
        else:
            target = "an Agent" if template["verb"] == v.LIKE.id else "a `StatementRef`"
        lines.append(
            f"| {template['prefLabel']['en']} | {_short(template['verb'])} | {target} | "
            f"{template['definition']['en']} |"
        )
        for rule in template["rules"]:
            found = re.fullmatch(r"\$\.(?:context|result)\.extensions\['(.+)'\]", rule["location"])
            if found and rule.get("presence") != "excluded":
                extensions.setdefault(found.group(1), []).append(template["verb"].rsplit("/", 1)[1])
                notes.setdefault(found.group(1), (rule.get("scopeNote") or {}).get("en", ""))
    ours = {c["id"]: c for c in profile["concepts"] if c["type"].endswith("Extension")}
    lines += ["", "| extension | on | value |", "| --- | --- | --- |"]
    for iri, verbs in extensions.items():
        meaning = ours[iri]["definition"]["en"] if iri in ours else notes[iri]
        on = "every statement but voiding" if iri == v.EXT_TEAM else ", ".join(dict.fromkeys(verbs))
        lines.append(f"| {_short(iri)} | {on} | {meaning} |")
    lines += ["", README_END]
    return "\n".join(lines)


def with_readme_tables(readme: str, profile: Json) -> str:
    before, _, rest = readme.partition(README_START)
    _, _, after = rest.partition(README_END)
    return before + readme_tables(profile) + after


def main() -> None:
    """Rewrites the profile file and the README's tables from `document()`."""
    profile = document()
    PROFILE_FILE.write_text(serialised(profile), encoding="utf-8")
    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_START not in text:
        sys.exit(f"{readme}: no {README_START!r} marker")
    readme.write_text(with_readme_tables(text, profile), encoding="utf-8")


if __name__ == "__main__":
    main()
