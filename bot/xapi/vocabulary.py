"""Every xAPI IRI guildbot uses, spelled once.

LRSs compare IRIs as strings, so a verb spelled two ways is two verbs. The table behind these
choices is in README.md ("xAPI vocabulary"). Skill declaration and endorsement reuse standard
verbs: `add` / `remove` on a skill activity, `like` for an endorsement of someone's skill.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    id: str
    display: str


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
CANCEL = Verb(AS + "cancel", "cancelled")
ADD = Verb(AS + "add", "added")
REMOVE = Verb(AS + "remove", "removed")
LIKE = Verb(AS + "like", "endorsed")

BADGE = AS + "badge"
QUESTION = AS + "question"
FORUM_REPLY = TINCAN + "activitytype/forum-reply"
SOLUTION = TINCAN + "activitytype/solution"
CHAT_MESSAGE = TINCAN + "activitytype/chat-message"
CHAT_CHANNEL = TINCAN + "activitytype/chat-channel"
COMMUNITY_SITE = TINCAN + "activitytype/community-site"
MEETING = "http://adlnet.gov/expapi/activities/meeting"
USER_PROFILE = TINCAN + "activitytype/user-profile"
TAG = TINCAN + "activitytype/tag"

PLATFORM = "Slack"
LANGUAGE = "en-US"

# Extension names, appended to `<activity base>/extensions/`.
EXT_RECEIVER = "receiver"
EXT_VALUES = "values"
EXT_TEAM = "slack-team"
EXT_LEVEL = "level"
EXT_ENDORSED = "endorsed"
