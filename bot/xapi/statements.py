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
from datetime import UTC, datetime, timedelta
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
    # isoformat, not strftime: a third of the time, on every statement an ack records.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


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
    workspace_name: str | None = None
    """The workspace's name (`auth.test`), for the workspace activity's name."""


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
    channel_name: str | None = None


@dataclass(frozen=True)
class QuestionFacts:
    question_id: str
    """A UUID: also the registration grouping the question's asked, answered and accept."""
    asker: Learner
    text: str
    skills: Sequence[str]
    channel_id: str
    timestamp: datetime
    channel_name: str | None = None


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
    channel_name: str | None = None


@dataclass(frozen=True)
class SessionFacts:
    session_id: str
    title: str
    skills: Sequence[str]
    """Its topics that name skills, and the knowledge gap it was scheduled from."""
    channel_id: str
    permalink: str | None = None
    presenter: Learner | None = None
    """None: a former colleague (erased), nobody to name."""
    starts_at: datetime | None = None
    duration_minutes: int | None = None
    channel_name: str | None = None
    community: CommunityFacts | None = None
    """The community it was scheduled from, in `contextActivities.grouping`."""

    @property
    def ends_at(self) -> datetime | None:
        if self.starts_at is None or self.duration_minutes is None:
            return None
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class CommunityFacts:
    """A community of practice: its own id, name, topic skills and Slack channel."""

    community_id: str
    name: str
    skills: Sequence[str]
    channel_id: str
    channel_name: str | None = None


@dataclass(frozen=True)
class ResourceFacts:
    """A shared resource: a link or a Slack file, named by its title."""

    resource_id: str
    title: str
    kind: str
    """`link`, `document` or `video` (`vocabulary.RESOURCE_TYPES`)."""
    url: str
    skills: Sequence[str]
    community: CommunityFacts | None = None


class StatementBuilder:
    def __init__(self, identity: XapiIdentity) -> None:
        self.identity = identity
        self._base = identity.activity_base.rstrip("/")
        self.guildbot = Learner(identity.bot_user_id or "guildbot", "guildbot")
        """guildbot's own agent (an account: the bot has no e-mail address)."""
        name = identity.workspace_name
        self._workspace_json = _activity_json(identity.home_page, v.COMMUNITY_SITE, name or None)

    # Identifiers -----------------------------------------------------------------------------

    def activity_id(self, *path: str) -> str:
        # Skill names may hold `#` (`f#`) or non-ASCII letters: escape them into a valid IRI.
        return "/".join([self._base, *(quote(part, safe="+.-_~") for part in path)])

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
        """The giver's `give` and the receiver's linked `receive` for one kudos.

        Built as plain JSON, not through tincan's object model: this runs before every kudos'
        ack, and the JSON is the same (the tests compare them)."""
        give_id = derived_id(self.identity.team_id, "kudos", facts.kudos_id, v.GIVE.id)
        receive_id = derived_id(self.identity.team_id, "kudos", facts.kudos_id, v.RECEIVE.id)
        badge = _activity_json(
            self.activity_id("kudos", facts.kudos_id),
            v.BADGE,
            kudos_name(facts.giver, facts.receiver, facts.values),
            facts.permalink,
        )
        result = {"response": self._typed(facts.reason, facts.giver, facts.receiver)}
        extensions: dict[str, Any] = self._team_extension()
        if facts.values:
            extensions[v.EXT_VALUES] = list(facts.values)
        give_extensions = {**extensions, v.EXT_TARGET: self._agent_json(facts.receiver)}
        where = _Where(facts.channel_id, facts.channel_name, facts.message_ts, facts.permalink)
        activities = self._context_activities_json(where, facts.skills)
        for_statement = (
            {"objectType": "StatementRef", "id": facts.for_statement}
            if facts.for_statement
            else None
        )
        give = {
            "id": give_id,
            "result": result,
            "actor": self._agent_json(facts.giver),
            "verb": _VERBS[v.GIVE],
            "object": badge,
            "context": _context_json(activities, for_statement, give_extensions),
        }
        receive = {
            "id": receive_id,
            "result": result,
            "actor": self._agent_json(facts.receiver),
            "verb": _VERBS[v.RECEIVE],
            "object": badge,
            "context": _context_json(
                activities, {"objectType": "StatementRef", "id": give_id}, extensions
            ),
        }
        return (
            _built_json(give, facts.giver.user_id, facts.timestamp),
            _built_json(receive, facts.receiver.user_id, facts.timestamp),
        )

    def _context_activities_json(
        self, where: _Where, skills: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """`_context`'s activities, as JSON."""
        parent = []
        if where.message_ts:
            parent.append(
                _activity_json(
                    self.activity_id("messages", where.channel_id, where.message_ts),
                    v.CHAT_MESSAGE,
                    f"Message in #{where.channel_name}" if where.channel_name else None,
                    where.permalink,
                )
            )
        parent.append(
            _activity_json(
                self.activity_id("channels", where.channel_id),
                v.CHAT_CHANNEL,
                f"#{where.channel_name}" if where.channel_name else None,
            )
        )
        return {
            "category": [_PROFILE_JSON],
            "parent": parent,
            "grouping": [self._workspace_json],
            "other": [
                _activity_json(self.activity_id("skills", slug), v.TAG, f"#{slug}")
                for slug in skills
            ],
        }

    def skill_changed(
        self, person: Learner, slug: str, level: str | None, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`add` (declared, or a new level: `level` set) or `remove` (`level` None) of a skill."""
        verb = v.ADD if level else v.REMOVE
        statement = Statement(
            id=derived_id(self.identity.team_id, "skill", cause, slug, verb.id),
            actor=self.actor(person),
            verb=_verb(verb),
            object=self.skill_activity(slug),
            result=Result(extensions=Extensions({v.EXT_LEVEL: level})) if level else None,
            context=self._context(None, (), self._team_extension()),
        )
        return self._built(statement, person.user_id, timestamp)

    def endorsed(
        self, endorser: Learner, person: Learner, slug: str, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`like` of the endorsed person (the object, where agent filters look), for the skill
        and their profile as context activities (where activity filters look)."""
        context = self._context(None, (slug,), self._team_extension())
        context.context_activities.other.append(self.profile_activity(person))
        context.platform = None  # `platform` is for statements whose object is an Activity
        statement = Statement(
            id=derived_id(self.identity.team_id, "endorse", cause, person.user_id, slug),
            actor=self.actor(endorser),
            verb=_verb(v.LIKE),
            object=self.actor(person),
            context=context,
        )
        return self._built(statement, endorser.user_id, timestamp)

    def profile_activity(self, person: Learner) -> Activity:
        return Activity(
            id=self.activity_id("people", person.user_id),
            definition=ActivityDefinition(
                type=v.USER_PROFILE, name=_lang(person.name) if person.name else None
            ),
        )

    def searched(
        self, searcher: Learner, slug: str | None, query: str, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`search` of a skill (`/expert`), or of the FAQ (`slug` None, `/faq`); the query
        text only with `XAPI_INCLUDE_TEXT`."""
        searched = (
            self.skill_activity(slug)
            if slug
            else Activity(
                id=self.activity_id("faq"),
                definition=ActivityDefinition(type=v.COLLECTION, name=_lang("FAQ")),
            )
        )
        statement = Statement(
            id=derived_id(self.identity.team_id, "search", cause),
            actor=self.actor(searcher),
            verb=_verb(v.SEARCH),
            object=searched,
            result=Result(response=self._typed(query, searcher)),
            context=self._context(None, (), self._team_extension()),
        )
        return self._built(statement, searcher.user_id, timestamp)

    def question_activity(
        self,
        question_id: str,
        skills: Sequence[str],
        channel_name: str | None,
        permalink: str | None,
    ) -> Activity:
        return Activity(
            id=self.activity_id("questions", question_id),
            definition=ActivityDefinition(
                type=v.QUESTION,
                name=_lang(question_name(skills, channel_name)),
                more_info=permalink,
            ),
        )

    def asked(self, facts: QuestionFacts) -> BuiltStatement:
        """`asked` the question; its text only with `XAPI_INCLUDE_TEXT`, tags as skills."""
        context = self._context(
            _Where(facts.channel_id, facts.channel_name), facts.skills, self._team_extension()
        )
        context.registration = facts.question_id
        statement = Statement(
            id=derived_id(self.identity.team_id, "asked", facts.question_id),
            actor=self.actor(facts.asker),
            verb=_verb(v.ASKED),
            object=self.question_activity(
                facts.question_id, facts.skills, facts.channel_name, None
            ),
            result=Result(response=self._typed(facts.text, facts.asker)),
            context=context,
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
            id=self.answered_id(facts.answer_id),
            actor=self.actor(facts.answerer),
            verb=_verb(v.ANSWERED),
            object=self._question_of(facts),
            result=Result(response=response) if response else None,
            context=self._question_context(facts),
        )
        return self._built(statement, facts.answerer.user_id, facts.timestamp)

    def answered_id(self, answer_id: str) -> str:
        return derived_id(self.identity.team_id, "answered", answer_id)

    def accepted(
        self, asker: Learner, facts: AnswerFacts, cause: str, timestamp: datetime
    ) -> BuiltStatement:
        """`accept` of the `answered` statement (so filters by the answerer and by the
        question find it, through the reference), the question as its parent."""
        context = self._question_context(facts)
        context.context_activities.parent.insert(0, self._question_of(facts))
        # `platform` is for statements whose object is an Activity.
        context.platform = None
        statement = Statement(
            id=derived_id(self.identity.team_id, "accept", facts.answer_id, cause),
            actor=self.actor(asker),
            verb=_verb(v.ACCEPT),
            object=StatementRef(id=self.answered_id(facts.answer_id)),
            context=context,
        )
        return self._built(statement, asker.user_id, timestamp)

    def _question_of(self, facts: AnswerFacts) -> Activity:
        return self.question_activity(
            facts.question_id, facts.skills, facts.channel_name, facts.question_permalink
        )

    def _question_context(self, facts: AnswerFacts) -> Context:
        context = self._context(
            _Where(facts.channel_id, facts.channel_name), facts.skills, self._team_extension()
        )
        context.registration = facts.question_id
        return context

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
        (so scheduled, registered, attended, presented and rated group together), its
        presenter as instructor, its tags that name skills as context. Scheduling, going and
        attending say when it was planned to happen; attending says for how long, from the
        check-in (`timestamp`) to the end. A rating is a 1–5 score; the comment only with
        `XAPI_INCLUDE_TEXT`, as is (a form sends it as typed, and it is kept so)."""
        extensions = self._team_extension()
        if verb in (v.SCHEDULE, v.REGISTERED, v.ATTENDED):
            extensions.update(planned(facts))
        context = self._context(
            _Where(facts.channel_id, facts.channel_name), facts.skills, extensions
        )
        context.registration = facts.session_id
        if facts.community is not None:
            context.context_activities.grouping.append(self.community_activity(facts.community))
        if facts.presenter is not None:
            context.instructor = self.actor(facts.presenter)
        result = None
        if rating is not None:
            result = Result(
                score=Score(raw=rating, min=1, max=5, scaled=(rating - 1) / 4),
                response=comment if comment and self.identity.include_text else None,
            )
        statement = Statement(
            id=self.session_statement_id(verb, facts.session_id, actor.user_id, cause),
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
        attended_for = attended_duration(facts, timestamp) if verb == v.ATTENDED else None
        return self._built(statement, actor.user_id, timestamp, duration=attended_for)

    def session_statement_id(self, verb: v.Verb, session_id: str, user_id: str, cause: str) -> str:
        return derived_id(self.identity.team_id, "session", session_id, verb.id, user_id, cause)

    # Communities and resources ---------------------------------------------------------------

    def community_activity(self, community: CommunityFacts) -> Activity:
        return Activity(
            id=self.activity_id("communities", community.community_id),
            definition=ActivityDefinition(type=v.COMMUNITY_SITE, name=_lang(community.name)),
        )

    def community_event(
        self,
        verb: v.Verb,
        person: Learner,
        community: CommunityFacts,
        cause: str,
        timestamp: datetime,
    ) -> BuiltStatement:
        """`create`, `join` or `leave` of the community, the object; `cause` tells one
        membership from the next (a join after a leave is a new statement)."""
        statement = Statement(
            id=derived_id(
                self.identity.team_id, "community", community.community_id, verb.id, cause
            ),
            actor=self.actor(person),
            verb=_verb(verb),
            object=self.community_activity(community),
            context=self._community_context(community),
        )
        return self._built(statement, person.user_id, timestamp)

    def contributed(
        self,
        author: Learner,
        community: CommunityFacts,
        ts: str,
        thread_ts: str | None,
        permalink: str,
        timestamp: datetime,
    ) -> BuiltStatement:
        """`commented` on the community: a message (or, with `thread_ts`, a thread reply, its
        thread as a parent) in its channel; the permalink in `result.response`, never text."""
        context = self._community_context(community)
        if thread_ts:
            thread = Activity(
                id=self.activity_id("messages", community.channel_id, thread_ts),
                definition=ActivityDefinition(
                    type=v.CHAT_MESSAGE, name=_lang(f"Thread in #{community.channel_name}")
                )
                if community.channel_name
                else ActivityDefinition(type=v.CHAT_MESSAGE),
            )
            context.context_activities.parent.insert(0, thread)
        statement = Statement(
            id=self.contribution_id(community.channel_id, ts),
            actor=self.actor(author),
            verb=_verb(v.COMMENTED),
            object=self.community_activity(community),
            result=Result(response=permalink),
            context=context,
        )
        return self._built(statement, author.user_id, timestamp)

    def contribution_id(self, channel_id: str, ts: str) -> str:
        return derived_id(self.identity.team_id, "contributed", channel_id, ts)

    def resource_event(
        self,
        verb: v.Verb,
        person: Learner,
        resource: ResourceFacts,
        channel: tuple[str, str | None] | None,
        cause: str,
        timestamp: datetime,
    ) -> BuiltStatement:
        """`share` or `viewed` (opened) of the resource, typed link, document or video, with
        its skills and its community as context; `channel` is where it happened."""
        where = _Where(*channel) if channel else None
        context = self._context(where, resource.skills, self._team_extension())
        if resource.community is not None:
            context.context_activities.grouping.append(self.community_activity(resource.community))
        statement = Statement(
            id=derived_id(self.identity.team_id, "resource", resource.resource_id, verb.id, cause),
            actor=self.actor(person),
            verb=_verb(verb),
            object=Activity(
                id=self.activity_id("resources", resource.resource_id),
                definition=ActivityDefinition(
                    type=v.RESOURCE_TYPES[resource.kind],
                    name=_lang(resource.title),
                    more_info=resource.url,
                ),
            ),
            context=context,
        )
        return self._built(statement, person.user_id, timestamp)

    def _community_context(self, community: CommunityFacts) -> Context:
        """Its channel as parent, its skills as other, and the community itself in grouping
        (beside the workspace), so one query by the community returns its whole life."""
        context = self._context(
            _Where(community.channel_id, community.channel_name),
            community.skills,
            self._team_extension(),
        )
        context.context_activities.grouping.append(self.community_activity(community))
        return context

    def _team_extension(self) -> dict[str, Any]:
        return {v.EXT_TEAM: self.identity.team_id}

    def voiding(self, target_statement_id: str, timestamp: datetime, cause: str) -> BuiltStatement:
        """Voids a statement; `cause` (e.g. the event id) makes a redelivery map to the same id.

        The actor is guildbot's own agent, whoever asked: a voiding statement can never be
        voided itself, so one naming a person would outlive their erasure."""
        statement = Statement(
            id=derived_id(self.identity.team_id, "void", target_statement_id, cause),
            actor=self.actor(self.guildbot),
            verb=_verb(v.VOIDED),
            object=StatementRef(id=target_statement_id),
            context=Context(context_activities=ContextActivities(category=[_PROFILE])),
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
        self, where: _Where | None, skills: Sequence[str], extensions: dict[str, Any]
    ) -> Context:
        """Every statement's context: the platform, guildbot's profile as category, the
        workspace as grouping, the channel (and message) as parent, the skills as other."""
        parent = []
        if where is not None and where.message_ts:
            parent.append(
                Activity(
                    id=self.activity_id("messages", where.channel_id, where.message_ts),
                    definition=ActivityDefinition(
                        type=v.CHAT_MESSAGE,
                        name=_lang(f"Message in #{where.channel_name}")
                        if where.channel_name
                        else None,
                        more_info=where.permalink,
                    ),
                )
            )
        if where is not None:
            parent.append(
                Activity(
                    id=self.activity_id("channels", where.channel_id),
                    definition=ActivityDefinition(
                        type=v.CHAT_CHANNEL,
                        name=_lang(f"#{where.channel_name}") if where.channel_name else None,
                    ),
                )
            )
        name = self.identity.workspace_name
        workspace = Activity(
            id=self.identity.home_page,
            definition=ActivityDefinition(
                type=v.COMMUNITY_SITE, name=_lang(name) if name else None
            ),
        )
        activities = ContextActivities(
            parent=parent,
            grouping=[workspace],
            category=[_PROFILE],
            other=[self.skill_activity(slug) for slug in skills],
        )
        return Context(
            platform=v.PLATFORM,
            language=v.LANGUAGE,
            context_activities=activities,
            extensions=Extensions(extensions),
        )

    def _agent_json(self, learner: Learner) -> dict[str, Any]:
        """`actor(learner)` as JSON (written directly: it is in every statement)."""
        agent: dict[str, Any] = {"objectType": "Agent"}
        if learner.name:
            agent["name"] = learner.name
        if self.identity.actor_mode == "email" and learner.email:
            agent["mbox"] = f"mailto:{learner.email}"
        else:
            agent["account"] = {"name": learner.user_id, "homePage": self.identity.home_page}
        return agent

    def _built(
        self,
        statement: Statement,
        actor_id: str,
        timestamp: datetime,
        voiding: bool = False,
        duration: str | None = None,
    ) -> BuiltStatement:
        return BuiltStatement(
            id=str(statement.id),
            actor_id=actor_id,
            body=_serialise(statement, timestamp, duration),
            timestamp=timestamp,
            voiding=voiding,
        )


class StatementBuilders:
    """Each workspace's statement builder, made once from its xAPI identity (as stored when
    guildbot first saw it: start-up's auth.test, or its install) and kept for every request;
    a workspace with none stored gets the process's own (single-token mode: its one workspace)."""

    def __init__(self, default: XapiIdentity) -> None:
        self.default = StatementBuilder(default)
        self._by_team: dict[str, StatementBuilder] = {}

    def for_team(self, team_id: str) -> StatementBuilder:
        return self._by_team.get(team_id, self.default)

    def remember(self, identity: XapiIdentity) -> None:
        """Known from now on; a changed identity (a reinstall) replaces the builder."""
        known = self._by_team.get(identity.team_id)
        if known is None or known.identity != identity:
            self._by_team[identity.team_id] = StatementBuilder(identity)


@dataclass(frozen=True)
class _Where:
    """The channel a statement happened in, and the message it is about, if any."""

    channel_id: str
    channel_name: str | None = None
    message_ts: str | None = None
    permalink: str | None = None


_PROFILE = Activity(id=v.PROFILE_VERSION, definition=ActivityDefinition(type=v.XAPI_PROFILE))
_PROFILE_JSON = {
    "id": v.PROFILE_VERSION,
    "objectType": "Activity",
    "definition": {"type": v.XAPI_PROFILE},
}
_VERBS = {
    verb: {"id": verb.id, "display": {v.LANGUAGE: verb.display}} for verb in (v.GIVE, v.RECEIVE)
}


def _activity_json(
    activity_id: str, kind: str, name: str | None, more_info: str | None = None
) -> dict[str, Any]:
    """An Activity as tincan writes it (empty parts are dropped when serialised)."""
    definition: dict[str, Any] = {"name": {v.LANGUAGE: name} if name else None, "type": kind}
    if more_info:
        definition["moreInfo"] = more_info
    return {"id": activity_id, "objectType": "Activity", "definition": definition}


def _context_json(
    activities: dict[str, Any], statement: dict[str, str] | None, extensions: dict[str, Any]
) -> dict[str, Any]:
    """`_context`'s Context as JSON, in tincan's order."""
    return {
        "contextActivities": activities,
        "platform": v.PLATFORM,
        "language": v.LANGUAGE,
        "statement": statement,
        "extensions": extensions,
    }


def _built_json(document: dict[str, Any], actor_id: str, timestamp: datetime) -> BuiltStatement:
    """`_built` for a statement written as JSON."""
    document = _without_empty(document)
    document["timestamp"] = xapi_timestamp(timestamp)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return BuiltStatement(id=document["id"], actor_id=actor_id, body=body, timestamp=timestamp)


# Rules -------------------------------------------------------------------------------------------


def kudos_name(giver: Learner, receiver: Learner, values: Sequence[str]) -> str:
    """ "Kudos from Ada Lovelace to Ben Ng (#teamwork, #python)": tells kudos apart in an LRS."""
    name = f"Kudos from {giver.name or giver.user_id} to {receiver.name or receiver.user_id}"
    tags = ", ".join(f"#{value}" for value in values)
    return f"{name} ({tags})" if tags else name


def question_name(skills: Sequence[str], channel_name: str | None) -> str:
    """ "Question on #python, #asyncio in #questions", without anything the asker typed."""
    name = "Question"
    if skills:
        name += " on " + ", ".join(f"#{slug}" for slug in skills)
    if channel_name:
        name += f" in #{channel_name}"
    return name


def planned(facts: SessionFacts) -> dict[str, str]:
    """The registry's planned-start-time and planned-duration extensions, when known."""
    if facts.starts_at is None or facts.duration_minutes is None:
        return {}
    return {
        v.EXT_PLANNED_START: xapi_timestamp(facts.starts_at),
        v.EXT_PLANNED_DURATION: iso_duration(timedelta(minutes=facts.duration_minutes)),
    }


def attended_duration(facts: SessionFacts, checked_in: datetime) -> str | None:
    """How long someone attended: from their check-in (or the start, if they came early) to
    the planned end; None when unknown or when they checked in after the end."""
    ends = facts.ends_at
    if ends is None or facts.starts_at is None:
        return None
    attended = ends - max(checked_in, facts.starts_at)
    return iso_duration(attended) if attended >= timedelta(seconds=1) else None


def iso_duration(length: timedelta) -> str:
    """ISO 8601 in whole seconds: `PT1H30M`, `PT45M10S`."""
    hours, rest = divmod(int(length.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else ""]
    parts.append(f"{seconds}S" if seconds or not (hours or minutes) else "")
    return "PT" + "".join(parts)


def _serialise(statement: Statement, timestamp: datetime, duration: str | None = None) -> str:
    document = _without_empty(json.loads(statement.to_json()))
    document.pop("version", None)
    document["timestamp"] = xapi_timestamp(timestamp)
    if duration:
        # Set here: tincan would rewrite it as `PT00H45M00S`.
        document["result"] = {**document.get("result", {}), "duration": duration}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _without_empty(value: Any) -> Any:
    """Drops empty strings, objects and lists at any depth (a reaction kudos has no reason to
    send): strict LRSs reject `"response": ""` and the like, and an absent value says the same.
    Every statement an ack records passes through here, so leaves are judged in place rather
    than by a call each."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                item = _without_empty(item)
            if item is not None and (item or not isinstance(item, (str, dict, list))):
                kept[key] = item
        return kept
    if isinstance(value, list):
        return [
            item
            for item in (_without_empty(i) if isinstance(i, (dict, list)) else i for i in value)
            if item is not None and (item or not isinstance(item, (str, dict, list)))
        ]
    return value


def _lang(text: str) -> LanguageMap:
    return LanguageMap({v.LANGUAGE: text})


def _verb(verb: v.Verb) -> TincanVerb:
    return TincanVerb(id=verb.id, display=_lang(verb.display))
