"""Every xAPI IRI guildbot uses, spelled once.

LRSs compare IRIs as strings, so a verb spelled two ways is two verbs. The contract behind
these choices is guildbot's xAPI Profile (`bot/xapi/profile.py`, served at `/xapi/profile`).
Skill declaration and endorsement reuse standard verbs: `add` / `remove` on a skill activity,
`like` of the endorsed person for an endorsement of their skill. A verb's display is its
registered display (a display never changes a verb's meaning).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    id: str
    display: str
    """As registered (ADL's profiles of the Activity Streams and Tin Can vocabularies)."""


AS = "http://activitystrea.ms/"
ADL = "http://adlnet.gov/expapi/verbs/"
TINCAN = "http://id.tincanapi.com/"

GIVE = Verb(AS + "give", "gave")
RECEIVE = Verb(AS + "receive", "received")
VOIDED = Verb(ADL + "voided", "voided")
ASKED = Verb(ADL + "asked", "asked")
ANSWERED = Verb(ADL + "answered", "answered")
ACCEPT = Verb(AS + "accept", "accepted")
SEARCH = Verb(AS + "search", "searched")
SCHEDULE = Verb(AS + "schedule", "scheduled")
REGISTERED = Verb(ADL + "registered", "registered")
UNREGISTERED = Verb(TINCAN + "verb/unregistered", "unregistered")
ATTENDED = Verb(ADL + "attended", "attended")
PRESENT = Verb(AS + "present", "presented")
RATED = Verb(TINCAN + "verb/rated", "rated")
CANCEL = Verb(AS + "cancel", "canceled")
ADD = Verb(AS + "add", "added")
REMOVE = Verb(AS + "remove", "removed")
LIKE = Verb(AS + "like", "liked")
# Communities and their resources (the networks capability).
JOIN = Verb(AS + "join", "joined")
LEAVE = Verb(AS + "leave", "left")
CREATE = Verb(AS + "create", "created")
SHARE = Verb(AS + "share", "shared")
COMMENTED = Verb(ADL + "commented", "commented")
"""A contribution: a message or thread reply in a community's channel."""
VIEWED = Verb(TINCAN + "verb/viewed", "viewed")
"""Opening a shared resource (the registry: "the actor has viewed the object")."""

BADGE = AS + "badge"
QUESTION = AS + "question"
CHAT_MESSAGE = TINCAN + "activitytype/chat-message"
CHAT_CHANNEL = TINCAN + "activitytype/chat-channel"
COMMUNITY_SITE = TINCAN + "activitytype/community-site"
MEETING = "http://adlnet.gov/expapi/activities/meeting"
USER_PROFILE = TINCAN + "activitytype/user-profile"
TAG = TINCAN + "activitytype/tag"
LINK = "http://adlnet.gov/expapi/activities/link"
DOCUMENT = TINCAN + "activitytype/document"
VIDEO = "https://w3id.org/xapi/video/activity-type/video"
RESOURCE_TYPES = {"link": LINK, "document": DOCUMENT, "video": VIDEO}
"""A shared resource's type by its kind (ADL's link, the registry's document, the video
profile's video)."""
COLLECTION = TINCAN + "activitytype/collection-simple"
"""The FAQ: the collection of answered questions `/faq` searches."""
XAPI_PROFILE = "http://adlnet.gov/expapi/activities/profile"
"""The type of the category activity naming guildbot's profile (an xAPI Profile)."""

PLATFORM = "Slack"
LANGUAGE = "en-US"

# guildbot's xAPI Profile, and every IRI guildbot mints outside a workspace's activities:
# one fixed base, the same in every deployment, so dashboards built on them never break.
PROFILE = "https://w3id.org/xapi/guildbot"
PROFILE_VERSION = PROFILE + "/v1.0"
"""The version statements name in `context.contextActivities.category`."""

EXT_TARGET = TINCAN + "extension/target"
"""The kudos receiver on `give` (the registry's `target`: the Agent the statement is aimed at)."""
EXT_PLANNED_START = TINCAN + "extension/planned-start-time"
EXT_PLANNED_DURATION = TINCAN + "extension/planned-duration"
EXT_VALUES = PROFILE + "/extensions/values"
EXT_TEAM = PROFILE + "/extensions/slack-team"
EXT_LEVEL = PROFILE + "/extensions/level"
