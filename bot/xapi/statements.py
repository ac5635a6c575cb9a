"""Statement builders: tincan models in, the exact bytes for the outbox out.

The `tincan` package builds valid statements on Python 3.11, but it always adds `version`
(the LRS sets it) and writes timestamps as `+00:00` with microseconds; `_serialise` fixes both,
once, so a resend is byte-identical.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    LanguageMap,
    Result,
    Score,
    Statement,
    StatementRef,
)
from tincan import Verb as TincanVerb

from bot.views.mrkdwn import readable
from bot.xapi import vocabulary as v
from storage.repositories.outbox import NewStatement

# Fixed forever: statement ids derived from Slack events must map the same way in every release.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://guildbot/xapi/statements")


def derived_id(*parts: str) -> str:
    """A statement id that a redelivered Slack event maps to again (lowercase UUID)."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def xapi_timestamp(moment: datetime) -> str:
    """UTC, `Z`, millisecond precision: the form every LRS accepts and compares safely."""
    if moment.tzinfo is None:
        raise ValueError("statement timestamps must be time-zone aware")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Learner:
    """A person as an actor: Slack id, full name, and e-mail when the profile gives one."""

    user_id: str
    name: str = ""
    email: str | None = None


@dataclass(frozen=True)
class XapiIdentity:
    """Deployment-wide facts every statement needs."""

    team_id: str
    home_page: str
    activity_base: str
    actor_mode: str = "account"
    include_text: bool = False
    bot_user_id: str | None = None
    """The bot user's Slack id: guildbot's own agent, the actor of every voiding statement."""


@dataclass(frozen=True)
class BuiltStatement:
    id: str
    actor_id: str
    body: str
    timestamp: datetime
    voiding: bool = False


def queued(team_id: str, statements: Sequence[BuiltStatement]) -> list[NewStatement]:
    """Outbox rows for built statements, bytes unchanged."""
    return [
        NewStatement(s.id, team_id, s.actor_id, s.body, s.timestamp, s.voiding) for s in statements
    ]


@dataclass(frozen=True)
class KudosFacts:
    kudos_id: str
    giver: Learner
    receiver: Learner
    reason: str
    values: Sequence[str]
    skills: Sequence[str]
    channel_id: str
    permalink: str | None
    timestamp: datetime
    message_ts: str | None = None
    """The Slack message the kudos is for (a reaction's or the shortcut's), linked as context."""
    for_statement: str | None = None
    """When that message is an answer: its `answered` statement, referenced by `give`."""


@dataclass(frozen=True)
class QuestionFacts:
    question_id: str
    asker: Learner
    text: str
    skills: Sequence[str]
    channel_id: str
    timestamp: datetime


@dataclass(frozen=True)
class AnswerFacts:
    answer_id: str
    question_id: str
    question_permalink: str | None
    answerer: Learner
    text: str
    permalink: str | None
    skills: Sequence[str]
    channel_id: str
    timestamp: datetime


@dataclass(frozen=True)
class SessionFacts:
    session_id: str
    title: str
    skills: Sequence[str]
    channel_id: str
    permalink: str | None = None


class StatementBuilder:
    def __init__(self, identity: XapiIdentity) -> None:
        self.identity = identity
        self._base = identity.activity_base.rstrip("/")
        self.guildbot = Learner(identity.bot_user_id or "guildbot", "guildbot")
        """guildbot's own agent (an account: the bot has no e-mail address)."""

    # Identifiers -----------------------------------------------------------------------------

    def activity_id(self, *path: str) -> str:
        # Skill names may hold `#` (`f#`) or non-ASCII letters: escape them into a valid IRI.
        return "/".join([self._base, *(quote(part, safe="+.-_~") for part in path)])

    def extension(self, name: str) -> str:
        return f"{self._base}/extensions/{name}"

    def skill_activity(self, slug: str) -> Activity:
        return Activity(
            id=self.activity_id("skills", slug),
            definition=ActivityDefinition(type=v.TAG, name=_lang(f"#{slug}")),
        )

    def actor(self, learner: Learner) -> Agent:
        """`mbox` when XAPI_ACTOR=email and the profile has one; otherwise the Slack account
        (a person without a visible e-mail still gets their statements, under their account)."""
        if self.identity.actor_mode == "email" and learner.email:
            return Agent(name=learner.name or None, mbox=f"mailto:{learner.email}")
        return Agent(
            name=learner.name or None,
            account=AgentAccount(home_page=self.identity.home_page, name=learner.user_id),
        )

    # Statements ------------------------------------------------------------------------------

    def kudos_given(self, facts: KudosFacts) -> tuple[BuiltStatement, BuiltStatement]:
        """The giver's `give` and the receiver's linked `receive` for one kudos."""
        give_id = derived_id(self.identity.team_id, "kudos", facts.kudos_id, v.GIVE.id)
        receive_id = derived_id(self.identity.team_id, "kudos", facts.kudos_id, v.RECEIVE.id)
        badge = Activity(
            id=self.activity_id("kudos", facts.kudos_id),
            definition=ActivityDefinition(
                type=v.BADGE,
                name=_lang("Kudos"),
                more_info=facts.permalink,
            ),
        )
        result = Result(response=self._typed(facts.reason, facts.giver, facts.receiver))
        extensions: dict[str, Any] = {self.extension(v.EXT_TEAM): self.identity.team_id}
        if facts.values:
            extensions[self.extension(v.EXT_VALUES)] = list(facts.values)
        give_extensions = {
            **extensions,
            self.extension(v.EXT_RECEIVER): self._agent_json(facts.receiver),
        }
        give_context = self._context(
            facts.channel_id, facts.skills, give_extensions, facts.message_ts, facts.permalink
        )
        if facts.for_statement:
            give_context.statement = StatementRef(id=facts.for_statement)
        give = Statement(
            id=give_id,
            actor=self.actor(facts.giver),
            verb=_verb(v.GIVE),
            object=badge,
            result=result,
            context=give_context,
        )
        receive_context = self._context(
            facts.channel_id, facts.skills, extensions, facts.message_ts, facts.permalink
        )
        receive_context.statement = StatementRef(id=give_id)
        receive = Statement(
            id=receive_id,
            actor=self.actor(facts.receiver),
            verb=_verb(v.RECEIVE),
            object=badge,
            result=result,
            context=receive_context,
        )
        return (
            self._built(give, facts.giver.user_id, facts.timestamp),
            self._built(receive, facts.receiver.user_id, facts.timestamp),
        )

    def skill_changed(
        self, person: Learner, slug: str, level: str | None, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`add` (declared, or a new level: `level` set) or `remove` (`level` None) of a skill."""
        verb = v.ADD if level else v.REMOVE
        extensions = {self.extension(v.EXT_TEAM): self.identity.team_id}
        statement = Statement(
            id=derived_id(self.identity.team_id, "skill", cause, slug, verb.id),
            actor=self.actor(person),
            verb=_verb(verb),
            object=self.skill_activity(slug),
            result=Result(extensions=Extensions({self.extension(v.EXT_LEVEL): level}))
            if level
            else None,
            context=self._context(None, (), extensions),
        )
        return self._built(statement, person.user_id, timestamp)

    def endorsed(
        self, endorser: Learner, person: Learner, slug: str, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`like` of a skill, with the endorsed person's profile as a context activity."""
        profile = Activity(
            id=self.activity_id("people", person.user_id),
            definition=ActivityDefinition(type=v.USER_PROFILE),
        )
        context = self._context(
            None,
            (),
            {
                self.extension(v.EXT_TEAM): self.identity.team_id,
                self.extension(v.EXT_ENDORSED): self._agent_json(person),
            },
        )
        context.context_activities.other = [profile]
        statement = Statement(
            id=derived_id(self.identity.team_id, "endorse", cause, person.user_id, slug),
            actor=self.actor(endorser),
            verb=_verb(v.LIKE),
            object=self.skill_activity(slug),
            context=context,
        )
        return self._built(statement, endorser.user_id, timestamp)

    def searched(
        self, searcher: Learner, slug: str | None, query: str, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`search` of a skill (`/expert`), or of the FAQ (`slug` None, `/faq`); the query
        text only with `XAPI_INCLUDE_TEXT`."""
        searched = (
            self.skill_activity(slug)
            if slug
            else Activity(
                id=self.activity_id("faq"), definition=ActivityDefinition(name=_lang("FAQ"))
            )
        )
        statement = Statement(
            id=derived_id(self.identity.team_id, "search", cause),
            actor=self.actor(searcher),
            verb=_verb(v.SEARCH),
            object=searched,
            result=Result(response=self._typed(query, searcher)),
            context=self._context(None, (), {self.extension(v.EXT_TEAM): self.identity.team_id}),
        )
        return self._built(statement, searcher.user_id, timestamp)

    def question_activity(self, question_id: str, permalink: str | None) -> Activity:
        return Activity(
            id=self.activity_id("questions", question_id),
            definition=ActivityDefinition(
                type=v.QUESTION, name=_lang("Question"), more_info=permalink
            ),
        )

    def asked(self, facts: QuestionFacts) -> BuiltStatement:
        """`asked` the question; its text only with `XAPI_INCLUDE_TEXT`, tags as skills."""
        statement = Statement(
            id=derived_id(self.identity.team_id, "asked", facts.question_id),
            actor=self.actor(facts.asker),
            verb=_verb(v.ASKED),
            object=self.question_activity(facts.question_id, None),
            result=Result(response=self._typed(facts.text, facts.asker)),
            context=self._context(facts.channel_id, facts.skills, self._team_extension()),
        )
        return self._built(statement, facts.asker.user_id, facts.timestamp)

    def answered(self, facts: AnswerFacts) -> BuiltStatement:
        """`answered` the question; the answer's permalink in `result.response` (its text
        instead only with `XAPI_INCLUDE_TEXT`)."""
        response = (
            self._typed(facts.text, facts.answerer)
            if self.identity.include_text
            else facts.permalink
        )
        statement = Statement(
            id=derived_id(self.identity.team_id, "answered", facts.answer_id),
            actor=self.actor(facts.answerer),
            verb=_verb(v.ANSWERED),
            object=self.question_activity(facts.question_id, facts.question_permalink),
            result=Result(response=response) if response else None,
            context=self._context(facts.channel_id, facts.skills, self._team_extension()),
        )
        return self._built(statement, facts.answerer.user_id, facts.timestamp)

    def accepted(
        self, asker: Learner, facts: AnswerFacts, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`accept` of the answer (a `solution`), linked to its `answered` statement."""
        answered_id = derived_id(self.identity.team_id, "answered", facts.answer_id)
        context = self._context(facts.channel_id, facts.skills, self._team_extension())
        context.statement = StatementRef(id=answered_id)
        statement = Statement(
            id=derived_id(self.identity.team_id, "accept", facts.answer_id, cause),
            actor=self.actor(asker),
            verb=_verb(v.ACCEPT),
            object=Activity(
                id=self.activity_id("answers", facts.answer_id),
                definition=ActivityDefinition(
                    type=v.SOLUTION, name=_lang("Answer"), more_info=facts.permalink
                ),
            ),
            context=context,
        )
        return self._built(statement, asker.user_id, timestamp)

    def session_event(
        self,
        verb: v.Verb,
        actor: Learner,
        facts: SessionFacts,
        cause: str,
        timestamp: datetime,
        rating: int | None = None,
        comment: str | None = None,
    ) -> BuiltStatement:
        """One lunch-and-learn statement: the session as object, its id as the registration
        (so scheduled, registered, attended, presented and rated group together), its tags
        that name skills as context. A rating is a 1–5 score; the comment only with
        `XAPI_INCLUDE_TEXT`, as is (a form sends it as typed, and it is kept so)."""
        context = self._context(facts.channel_id, facts.skills, self._team_extension())
        context.registration = facts.session_id
        result = None
        if rating is not None:
            result = Result(
                score=Score(raw=rating, min=1, max=5, scaled=(rating - 1) / 4),
                response=comment if comment and self.identity.include_text else None,
            )
        statement = Statement(
            id=derived_id(
                self.identity.team_id, "session", facts.session_id, verb.id, actor.user_id, cause
            ),
            actor=self.actor(actor),
            verb=_verb(verb),
            object=Activity(
                id=self.activity_id("sessions", facts.session_id),
                definition=ActivityDefinition(
                    type=v.MEETING, name=_lang(facts.title), more_info=facts.permalink
                ),
            ),
            result=result,
            context=context,
        )
        return self._built(statement, actor.user_id, timestamp)

    def _team_extension(self) -> dict[str, Any]:
        return {self.extension(v.EXT_TEAM): self.identity.team_id}

    def voiding(self, target_statement_id: str, timestamp: datetime, cause: str) -> BuiltStatement:
        """Voids a statement; `cause` (e.g. the event id) makes a redelivery map to the same id.

        The actor is guildbot's own agent, whoever asked: a voiding statement can never be
        voided itself, so one naming a person would outlive their erasure."""
        statement = Statement(
            id=derived_id(self.identity.team_id, "void", target_statement_id, cause),
            actor=self.actor(self.guildbot),
            verb=_verb(v.VOIDED),
            object=StatementRef(id=target_statement_id),
        )
        return self._built(statement, self.guildbot.user_id, timestamp, voiding=True)

    # Helpers ---------------------------------------------------------------------------------

    def _typed(self, slack_text: str, *people: Learner) -> str | None:
        """What a person typed, for `result.response`, only with `XAPI_INCLUDE_TEXT`: stored
        in Slack's shape (`&amp;`, `<@U…>`, `<url|label>`), sent as the words a person reads,
        naming the statement's people by name."""
        if not self.identity.include_text:
            return None
        return readable(slack_text, {p.user_id: p.name for p in people if p.name})

    def _context(
        self,
        channel_id: str | None,
        skills: Sequence[str],
        extensions: dict[str, Any],
        message_ts: str | None = None,
        permalink: str | None = None,
    ) -> Context:
        parent = []
        if channel_id and message_ts:
            parent.append(
                Activity(
                    id=self.activity_id("messages", channel_id, message_ts),
                    definition=ActivityDefinition(type=v.CHAT_MESSAGE, more_info=permalink),
                )
            )
        if channel_id:
            parent.append(
                Activity(
                    id=self.activity_id("channels", channel_id),
                    definition=ActivityDefinition(type=v.CHAT_CHANNEL),
                )
            )
        workspace = Activity(
            id=self.identity.home_page,
            definition=ActivityDefinition(type=v.COMMUNITY_SITE),
        )
        activities = ContextActivities(
            parent=parent or None,
            grouping=[workspace],
            other=[self.skill_activity(slug) for slug in skills] or None,
        )
        return Context(
            platform=v.PLATFORM,
            language=v.LANGUAGE,
            context_activities=activities,
            extensions=Extensions(extensions),
        )

    def _agent_json(self, learner: Learner) -> dict[str, Any]:
        return json.loads(self.actor(learner).to_json())

    def _built(
        self, statement: Statement, actor_id: str, timestamp: datetime, voiding: bool = False
    ) -> BuiltStatement:
        return BuiltStatement(
            id=str(statement.id),
            actor_id=actor_id,
            body=_serialise(statement, timestamp),
            timestamp=timestamp,
            voiding=voiding,
        )


def _serialise(statement: Statement, timestamp: datetime) -> str:
    document = _without_empty(json.loads(statement.to_json()))
    document.pop("version", None)
    document["timestamp"] = xapi_timestamp(timestamp)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _without_empty(value: Any) -> Any:
    """Drops empty strings, objects and lists at any depth (a reaction kudos has no reason to
    send): strict LRSs reject `"response": ""` and the like, and an absent value says the same."""
    if isinstance(value, dict):
        pruned = {key: _without_empty(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if not _empty(item)}
    if isinstance(value, list):
        return [item for item in map(_without_empty, value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, dict, list)) and not value)


def _lang(text: str) -> LanguageMap:
    return LanguageMap({v.LANGUAGE: text})


def _verb(verb: v.Verb) -> TincanVerb:
    return TincanVerb(id=verb.id, display=_lang(verb.display))
