"""Communities of practice: a Slack channel with a name, a description, topic skills, owners
and members, and what people contribute to it.

Membership is one row per member now; joining or leaving, by button or in Slack directly
(`member_joined_channel`, `member_left_channel`), changes it once and records `join` or
`leave`, so a redelivered event or a button pressed twice records nothing new.

Contributions (messages and thread replies in the channel) are kept as counts and
permalinks, never text. Each is recorded as a `commented` statement up to `DAILY_STATEMENTS`
per person, community and UTC day; the rest are only counted, so a busy channel cannot flood
the LRS. A person's first contribution of a day in a community is light evidence for its
skills in `/expert` (see `bot.domain.standing`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from bot.clock import Clock, occurred
from bot.domain import standing, text
from bot.domain.effects import Effect, owe
from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.domain.skill_names import SkillNamesByTeam
from bot.domain.workspace import WorkspaceSettings
from bot.xapi import vocabulary as v
from bot.xapi.statements import BuiltStatement, CommunityFacts, StatementBuilders, queued
from storage.database import Database
from storage.models import Community, CommunityMember, Contribution
from storage.repositories import channels as channels_repo
from storage.repositories import communities as repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import skills as skills_repo

DAILY_STATEMENTS = 3
"""Contribution statements per person, community and UTC day; later ones are counted only."""
MAX_SKILLS = 10
TOP_CONTRIBUTORS = 5
TOP_WINDOW = timedelta(days=90)
UPCOMING = 5

# Effects owed to Slack (performed by handlers/communities.py).
CREATE_CHANNEL = "community.create_channel"
INVITE = "community.invite"
REMOVE = "community.remove"
JOIN_CHANNEL = "community.join_channel"

_CHANNEL_NAME = re.compile(r"[^a-z0-9_-]+")


class CommunityRefused(Refused):
    """What to tell the person (one friendly line); nothing was changed."""


@dataclass(frozen=True)
class Intent:
    """`/community create <name> #skill … [description]` or `link #channel #skill …`, read."""

    name: str
    skills: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Card:
    """A community as `/community` lists it."""

    id: str
    name: str
    channel_id: str
    skills: tuple[str, ...]
    members: int
    active_this_month: int
    member: bool


@dataclass(frozen=True)
class Page:
    """A community as `/community <name>` shows it (resources and sessions are added by their
    capabilities)."""

    card: Card
    description: str
    owners: tuple[str, ...]
    top_contributors: tuple[tuple[str, int], ...]
    sessions: tuple[tuple[str, datetime], ...] = ()
    """Upcoming lunch-and-learns scheduled from it: (title, start)."""


@dataclass(frozen=True)
class Changed:
    """The outcome of a create, link, join or leave: whether it changed anything, and the
    Slack effects it owes."""

    community_id: str
    name: str
    channel_id: str | None
    new: bool
    effects: tuple[str, ...] = ()


def channel_name(typed: str) -> str:
    """A community's name as Slack allows a channel's: lower case, hyphens, at most 80."""
    name = _CHANNEL_NAME.sub("-", text.as_typed(typed).strip().lower().replace(" ", "-"))
    return name.strip("-_")[:80]


def month_start(now: datetime) -> datetime:
    return datetime.combine(now.date().replace(day=1), time.min, tzinfo=UTC)


def utc_day(moment: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def permalink(home_page: str, channel_id: str, ts: str, thread_ts: str | None) -> str:
    """Slack's permalink for a message, built without a Web API call (events need none)."""
    link = f"{home_page.rstrip('/')}/archives/{channel_id}/p{ts.replace('.', '')}"
    return f"{link}?thread_ts={thread_ts}&cid={channel_id}" if thread_ts else link


class CommunityService:
    def __init__(
        self,
        database: Database,
        statements: StatementBuilders,
        clock: Clock,
        names: SkillNamesByTeam,
    ) -> None:
        self._database = database
        self._statements = statements
        self._clock = clock
        self._names = names

    # Reading what was typed -----------------------------------------------------------------

    def read(self, team_id: str, typed: str) -> Intent:
        """`<name> #skill … [description]`: the name before the first tag, the rest after."""
        try:
            read = text.read(typed)
        except text.TextProblem as problem:
            raise CommunityRefused(str(problem)) from None
        before, after, seen_tag = [], [], False
        for token in read.tokens:
            if token.kind == "tag":
                seen_tag = True
            elif seen_tag:
                after.append(token.raw)
            else:
                before.append(token.raw)
        skills = tuple(
            dict.fromkeys(s for s in map(self._names.for_team(team_id).canonical, read.tags) if s)
        )
        if len(skills) > MAX_SKILLS:
            raise CommunityRefused(f"A community has up to {MAX_SKILLS} topic skills.")
        return Intent(channel_name(" ".join(before)), skills, " ".join(after)[:500])

    # Creating and linking -------------------------------------------------------------------

    def create(
        self,
        team_id: str,
        creator: Profile,
        intent: Intent,
        cause: str,
        response_url: str | None = None,
        in_workspace: str | None = None,
    ) -> Changed:
        """Stores the community (its channel comes after the ack), its creator as owner, and
        owes the channel's creation (`response_url`: where to tell the creator how it went;
        `in_workspace`: which workspace of an org-wide install the channel goes in)."""
        if not intent.name or not intent.skills:
            raise CommunityRefused(
                "Give the community a name and at least one topic skill, for example "
                "`/community create data-science #python #statistics`."
            )
        now = self._clock()
        community = Community(
            id=str(uuid.uuid4()),
            team_id=team_id,
            name=intent.name,
            description=intent.description,
            created_by=creator.user_id,
            created_at=now,
        )
        with self._database.transaction() as session:
            if not repo.add(session, community, intent.skills):
                raise CommunityRefused(f"There is already a community called `{intent.name}`.")
            skills_repo.add_to_catalogue(session, team_id, intent.skills, now)
            repo.add_member(session, _member(community, creator.user_id, now, owner=True))
            payload = {"community": community.id, "creator": creator.user_id, "cause": cause}
            if response_url:
                payload["response_url"] = response_url
            if in_workspace:
                payload["workspace"] = in_workspace
            effect = Effect(CREATE_CHANNEL, f"{CREATE_CHANNEL}:{community.id}", team_id, payload)
            owed = owe(session, [effect], now)
        return Changed(community.id, community.name, None, True, tuple(owed))

    def channel_created(
        self, community_id: str, channel_id: str, creator: Profile, cause: str
    ) -> Changed | None:
        """The bot made the channel: the community is created (and its creator joined), with
        their statements; owes inviting the creator. None when it is gone meanwhile."""
        now = self._clock()
        with self._database.transaction() as session:
            community = repo.get(session, community_id)
            if community is None:
                return None
            repo.set_channel(session, community_id, channel_id)
            community.channel_id = channel_id
            channels_repo.remember(session, community.team_id, channel_id, community.name, now)
            facts = self._facts(session, community)
            statements = self._statements.for_team(community.team_id)
            self._record(
                session,
                community.team_id,
                [
                    statements.community_event(v.CREATE, creator.learner, facts, cause, now),
                    statements.community_event(v.JOIN, creator.learner, facts, cause, now),
                ],
                now,
            )
            owed = owe(session, [self._invite(community, creator.user_id, cause)], now)
        return Changed(community_id, community.name, channel_id, True, tuple(owed))

    def pending(self, community_id: str) -> str | None:
        """The name of a community whose channel is still to be created, else None."""
        with self._database.reading() as session:
            community = repo.get(session, community_id)
            return community.name if community and community.channel_id is None else None

    def creation_failed(self, community_id: str) -> None:
        """Slack would not make the channel (its name is taken): the community goes."""
        with self._database.transaction() as session:
            repo.delete_community(session, community_id)

    def link(
        self,
        team_id: str,
        admin: Profile,
        settings: WorkspaceSettings,
        channel: tuple[str, str],
        intent: Intent,
        cause: str,
    ) -> Changed:
        """An L&D admin (of the workspace's `settings`) makes an existing channel a community
        (its name the channel's)."""
        if admin.user_id not in settings.lnd_admins:
            raise CommunityRefused("Only L&D admins can link an existing channel.")
        if not intent.skills:
            raise CommunityRefused(
                "Name at least one topic skill: `/community link #channel #python`."
            )
        channel_id, name = channel
        now = self._clock()
        community = Community(
            id=str(uuid.uuid4()),
            team_id=team_id,
            name=channel_name(name),
            description=intent.description,
            channel_id=channel_id,
            created_by=admin.user_id,
            created_at=now,
        )
        with self._database.transaction() as session:
            if not repo.add(session, community, intent.skills):
                raise CommunityRefused(f"`#{name}` is a community already.")
            skills_repo.add_to_catalogue(session, team_id, intent.skills, now)
            channels_repo.remember(session, team_id, channel_id, name, now)
            repo.add_member(session, _member(community, admin.user_id, now, owner=True))
            facts = self._facts(session, community)
            statements = self._statements.for_team(team_id)
            self._record(
                session,
                team_id,
                [
                    statements.community_event(v.CREATE, admin.learner, facts, cause, now),
                    statements.community_event(v.JOIN, admin.learner, facts, cause, now),
                ],
                now,
            )
            bot_joins = Effect(
                JOIN_CHANNEL, f"{JOIN_CHANNEL}:{community.id}", team_id, {"channel": channel_id}
            )
            owed = owe(session, [bot_joins, self._invite(community, admin.user_id, cause)], now)
        return Changed(community.id, community.name, channel_id, True, tuple(owed))

    # Joining and leaving --------------------------------------------------------------------

    def join(
        self,
        team_id: str,
        person: Profile,
        community_id: str,
        cause: str,
        at: datetime | None = None,
        invite: bool = True,
    ) -> Changed:
        """Joins the person (a button: `invite` owes inviting them to the channel; joining
        the channel in Slack: nothing to owe)."""
        now = self._clock()
        with self._database.transaction() as session:
            community = self._existing(session, team_id, community_id)
            new = repo.add_member(session, _member(community, person.user_id, now))
            owed: list[str] = []
            if new:
                self._membership(session, v.JOIN, community, person, cause, now, at)
            if invite:
                owed = owe(session, [self._invite(community, person.user_id, cause)], now)
        return Changed(community.id, community.name, community.channel_id, new, tuple(owed))

    def leave(
        self,
        team_id: str,
        person: Profile,
        community_id: str,
        cause: str,
        at: datetime | None = None,
        remove: bool = True,
    ) -> Changed:
        """Leaves the community (a button: `remove` owes taking them out of the channel)."""
        now = self._clock()
        with self._database.transaction() as session:
            community = self._existing(session, team_id, community_id)
            gone = repo.remove_member(session, community.id, person.user_id)
            owed: list[str] = []
            if gone:
                self._membership(session, v.LEAVE, community, person, cause, now, at)
                if remove:
                    payload = {"channel": community.channel_id, "user": person.user_id}
                    key = f"{REMOVE}:{team_id}:{cause}:{person.user_id}"
                    owed = owe(session, [Effect(REMOVE, key, team_id, payload)], now)
        return Changed(community.id, community.name, community.channel_id, gone, tuple(owed))

    def _membership(
        self,
        session: Session,
        verb: v.Verb,
        community: Community,
        person: Profile,
        cause: str,
        now: datetime,
        at: datetime | None,
    ) -> None:
        """Records a join or a leave, with the community and its skills as context."""
        facts = self._facts(session, community)
        statement = self._statements.for_team(community.team_id).community_event(
            verb, person.learner, facts, cause, occurred(now, at)
        )
        self._record(session, community.team_id, [statement], now)

    def of_channel(self, team_id: str, channel_id: str) -> str | None:
        """The community whose channel this is, if any."""
        with self._database.reading() as session:
            community = repo.by_channel(session, team_id, channel_id)
            return community.id if community else None

    # Contributions --------------------------------------------------------------------------

    def contribute(
        self,
        team_id: str,
        community_id: str,
        author: Profile,
        ts: str,
        thread_ts: str | None,
        at: datetime | None = None,
    ) -> bool:
        """Counts a message in the community's channel (once per message), recorded as a
        statement within the daily cap; True when it was new."""
        now = self._clock()
        when = occurred(now, at)
        with self._database.transaction() as session:
            community = self._existing(session, team_id, community_id)
            statements = self._statements.for_team(team_id)
            link = permalink(
                statements.identity.home_page, community.channel_id or "", ts, thread_ts
            )
            row = Contribution(
                team_id=team_id,
                channel_id=community.channel_id or "",
                ts=ts,
                community_id=community.id,
                user_id=author.user_id,
                thread_ts=thread_ts,
                permalink=link,
                at=when,
            )
            if not repo.add_contribution(session, row):
                return False
            start, end = utc_day(when)
            today, recorded = repo.contributions_between(
                session, community.id, author.user_id, start, end
            )
            facts = self._facts(session, community)
            if recorded < DAILY_STATEMENTS:
                statement = statements.contributed(author.learner, facts, ts, thread_ts, link, when)
                self._record(session, team_id, [statement], now)
                repo.set_statement(session, row, statement.id)
            if today == 1:
                # A new day of contributing: new evidence for the community's skills.
                pairs = [(slug, author.user_id) for slug in facts.skills]
                standing.refresh(session, team_id, pairs, now)
        return True

    # Reading --------------------------------------------------------------------------------

    def directory(self, team_id: str, viewer_id: str) -> list[Card]:
        with self._database.reading() as session:
            return self._cards(session, team_id, repo.all_of(session, team_id), viewer_id)

    def page(self, team_id: str, name: str, viewer_id: str) -> Page | None:
        now = self._clock()
        with self._database.reading() as session:
            community = repo.by_name(session, team_id, channel_name(name))
            if community is None or community.channel_id is None:
                return None
            [card] = self._cards(session, team_id, [community], viewer_id)
            return Page(
                card,
                community.description,
                tuple(repo.owners(session, community.id)),
                tuple(
                    repo.top_contributors(session, community.id, now - TOP_WINDOW, TOP_CONTRIBUTORS)
                ),
                tuple(
                    (lunch.title, lunch.starts_at)
                    for lunch in repo.upcoming_sessions(session, community.id, now, UPCOMING)
                ),
            )

    def schedulable(self, team_id: str, community_id: str) -> tuple[tuple[str, ...], str] | None:
        """A community's skills and channel, to schedule a session from it."""
        with self._database.reading() as session:
            described = repo.described(session, community_id)
            community = repo.get(session, community_id)
        if described is None or community is None or community.team_id != team_id:
            return None
        return described[2], described[3]

    # Helpers --------------------------------------------------------------------------------

    def _cards(
        self, session: Session, team_id: str, communities: Sequence[Community], viewer_id: str
    ) -> list[Card]:
        ids = [c.id for c in communities]
        skills = repo.skills_of(session, ids)
        members = repo.member_counts(session, ids)
        active = repo.activity_since(session, ids, month_start(self._clock()))
        mine = repo.memberships(session, team_id, viewer_id)
        return [
            Card(
                c.id,
                c.name,
                c.channel_id or "",
                tuple(skills[c.id]),
                members.get(c.id, 0),
                active.get(c.id, 0),
                c.id in mine,
            )
            for c in communities
        ]

    def _existing(self, session: Session, team_id: str, community_id: str) -> Community:
        community = repo.get(session, community_id)
        if community is None or community.team_id != team_id or community.channel_id is None:
            raise CommunityRefused("That community doesn't exist (any more).")
        return community

    def _facts(self, session: Session, community: Community) -> CommunityFacts:
        described = repo.described(session, community.id)
        assert described is not None, community.id  # only communities with a channel
        return CommunityFacts(*described)

    @staticmethod
    def _invite(community: Community, user_id: str, cause: str) -> Effect:
        payload = {"channel": community.channel_id, "user": user_id}
        return Effect(
            INVITE, f"{INVITE}:{community.team_id}:{cause}:{user_id}", community.team_id, payload
        )

    @staticmethod
    def _record(
        session: Session, team_id: str, statements: Sequence[BuiltStatement], now: datetime
    ) -> None:
        outbox_repo.add(session, queued(team_id, statements), now)


def _member(
    community: Community, user_id: str, now: datetime, owner: bool = False
) -> CommunityMember:
    return CommunityMember(
        community_id=community.id,
        user_id=user_id,
        team_id=community.team_id,
        owner=owner,
        joined_at=now,
    )
