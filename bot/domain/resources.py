"""Shared resources: links and files shared in a community's channel or with `/share`, found
with `/resources`, and opened with their Open button.

A resource is one per URL (or Slack file), whoever shares it again; it carries its
community's skills and the ones named when sharing. Sharing records `shared`; each press of
Open records `viewed` with who pressed it (Slack opens the link itself and tells guildbot of
the click, so there is no tracking redirect). Only titles, addresses and counts are kept:
never the message around a link.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from bot.clock import Clock, occurred
from bot.domain import text
from bot.domain.people import Profile
from bot.domain.refused import Refused
from bot.domain.skill_names import SkillNamesByTeam
from bot.xapi import vocabulary as v
from bot.xapi.statements import CommunityFacts, ResourceFacts, StatementBuilders, queued
from storage.database import Database
from storage.models import Resource
from storage.repositories import channels as channels_repo
from storage.repositories import communities as communities_repo
from storage.repositories import outbox as outbox_repo
from storage.repositories import resources as repo
from storage.repositories import skills as skills_repo

SHOWN = 5
MAX_TITLE = 200
# `<https://…>` or `<https://…|label>` in Slack's markup; anything else is not a link.
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>")
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "loom.com", "wistia.com")
_DOCUMENT_ENDINGS = (".pdf", ".doc", ".docx", ".ppt", ".pptx", ".xls", ".xlsx", ".odt", ".md")
_DOCUMENT_HOSTS = ("docs.google.com", "drive.google.com", "notion.so", "confluence")


class ResourceRefused(Refused):
    """What to tell the person (one friendly line); nothing was changed."""


@dataclass(frozen=True)
class Shared:
    """Something shared, as read from a message or a command: not stored yet."""

    key: str
    url: str
    title: str
    kind: str


@dataclass(frozen=True)
class ShareIntent:
    item: Shared
    skills: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    url: str
    kind: str
    skills: tuple[str, ...]
    shared_by: str | None
    opens: int
    reactions: int
    shared_at: datetime


def kind_of_link(url: str) -> str:
    parts = urlsplit(url)
    host, path = parts.netloc.lower(), parts.path.lower()
    if any(host == h or host.endswith("." + h) for h in _VIDEO_HOSTS):
        return "video"
    if path.endswith(_DOCUMENT_ENDINGS) or any(h in host for h in _DOCUMENT_HOSTS):
        return "document"
    return "link"


def _title_of_link(url: str, label: str | None) -> str:
    if label and label.strip() and label.strip() != url:
        return text.as_typed(label.strip())[:MAX_TITLE]
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/")[:MAX_TITLE]


def links_in(slack_text: str) -> list[Shared]:
    """The links a message or command holds, once each."""
    found: dict[str, Shared] = {}
    for match in _LINK.finditer(slack_text or ""):
        url = match.group(1)
        found.setdefault(
            url, Shared(url, url, _title_of_link(url, match.group(2)), kind_of_link(url))
        )
    return list(found.values())


def files_in(files: Sequence[Mapping[str, Any]]) -> list[Shared]:
    """Slack files attached to a message: a video, or a document (anything else)."""
    shared = []
    for file in files:
        if not file.get("id") or not file.get("permalink"):
            continue
        mimetype = str(file.get("mimetype") or "")
        title = str(file.get("title") or file.get("name") or file["id"])[:MAX_TITLE]
        kind = "video" if mimetype.startswith("video/") else "document"
        shared.append(Shared(f"file:{file['id']}", str(file["permalink"]), title, kind))
    return shared


class ResourceService:
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

    def read_share(self, team_id: str, typed: str) -> ShareIntent:
        """`<url> [title] #skill …`: the first link, the words as its title, tags as skills."""
        try:
            read = text.read(typed)
        except text.TextProblem as problem:
            raise ResourceRefused(str(problem)) from None
        links = links_in(typed)
        if not links:
            raise ResourceRefused(
                "Start with the address: `/share https://example.com/guide Title #skill`."
            )
        words = [t.raw for t in read.tokens if t.kind == "word" and not _LINK.fullmatch(t.raw)]
        title = text.as_typed(" ".join(words))[:MAX_TITLE] if words else links[0].title
        skills = tuple(
            dict.fromkeys(s for s in map(self._names.for_team(team_id).canonical, read.tags) if s)
        )
        return ShareIntent(Shared(links[0].key, links[0].url, title, links[0].kind), skills)

    def share(
        self,
        team_id: str,
        sharer: Profile,
        items: Sequence[Shared],
        where: tuple[str, str | None],
        skills: Sequence[str],
        cause: str,
        at: datetime | None = None,
    ) -> list[tuple[str, bool]]:
        """Stores what is new (by URL or file) with its `shared` statement; `where` is the
        channel and the message (None for a command). Returns (resource id, new) per item."""
        now = self._clock()
        channel_id = where[0]
        with self._database.transaction() as session:
            community = communities_repo.by_channel(session, team_id, channel_id)
            community_skills = (
                communities_repo.skills_of(session, [community.id])[community.id]
                if community
                else []
            )
            tags = list(dict.fromkeys([*community_skills, *skills]))
            skills_repo.add_to_catalogue(session, team_id, skills, now)
            return [
                self._share_one(
                    session, team_id, sharer, item, community, tags, where, cause, occurred(now, at)
                )
                for item in items
            ]

    def _share_one(
        self,
        session: Session,
        team_id: str,
        sharer: Profile,
        item: Shared,
        community: Any,
        tags: Sequence[str],
        where: tuple[str, str | None],
        cause: str,
        when: datetime,
    ) -> tuple[str, bool]:
        resource = Resource(
            id=str(uuid.uuid4()),
            team_id=team_id,
            key=item.key[:512],
            url=item.url[:2048],
            title=item.title or item.url[:MAX_TITLE],
            kind=item.kind,
            tags=" ".join(tags),
            community_id=community.id if community else None,
            channel_id=where[0],
            message_ts=where[1],
            shared_by=sharer.user_id,
            shared_at=when,
        )
        if not repo.add(session, resource):
            existing = repo.by_key(session, team_id, resource.key)
            return (existing.id if existing else resource.id), False
        facts = self._facts(session, resource)
        channel = (where[0], channels_repo.name_of(session, team_id, where[0]))
        statement = self._statements.for_team(team_id).resource_event(
            v.SHARE, sharer.learner, facts, channel, cause, when
        )
        outbox_repo.add(session, queued(team_id, [statement]), when)
        return resource.id, True

    def search(self, team_id: str, typed: str) -> list[Hit]:
        """The best resources for a topic: a skill's name or alias, or words of titles."""
        topic = typed.strip()
        canonical = self._names.for_team(team_id).canonical(topic) if " " not in topic else ""
        with self._database.reading() as session:
            found = repo.search(session, team_id, canonical or topic, self._clock(), SHOWN)
            if not found and canonical and canonical != topic:
                found = repo.search(session, team_id, topic, self._clock(), SHOWN)
        return [
            Hit(
                f.id,
                f.title,
                f.url,
                f.kind,
                tuple(f.tags.split()),
                f.shared_by,
                f.opens,
                f.reactions,
                f.shared_at,
            )
            for f in found
        ]

    def open(
        self,
        team_id: str,
        resource_id: str,
        person: Profile,
        channel_id: str | None,
        cause: str,
        at: datetime | None = None,
    ) -> bool:
        """Records a press of Open: who, when, with its `viewed` statement. False when the
        resource is gone (erased)."""
        now = self._clock()
        with self._database.transaction() as session:
            resource = repo.get(session, resource_id)
            if resource is None or resource.team_id != team_id:
                return False
            repo.record_open(session, resource, person.user_id, now)
            channel = (
                (channel_id, channels_repo.name_of(session, team_id, channel_id))
                if channel_id
                else None
            )
            statement = self._statements.for_team(team_id).resource_event(
                v.VIEWED,
                person.learner,
                self._facts(session, resource),
                channel,
                cause,
                occurred(now, at),
            )
            outbox_repo.add(session, queued(team_id, [statement]), now)
        return True

    def on_message(self, team_id: str, channel_id: str, ts: str) -> list[str]:
        with self._database.reading() as session:
            return repo.on_message(session, team_id, channel_id, ts)

    def reacted(self, resource_ids: Sequence[str], delta: int) -> None:
        with self._database.transaction() as session:
            repo.add_reactions(session, resource_ids, delta)

    def recent(self, community_ids: Sequence[str], limit: int = SHOWN) -> list[Hit]:
        with self._database.reading() as session:
            rows = repo.recent(session, community_ids, limit)
        return [
            Hit(
                r.id,
                r.title,
                r.url,
                r.kind,
                tuple(r.tags.split()),
                r.shared_by,
                r.opens,
                r.reactions,
                r.shared_at,
            )
            for r in rows
        ]

    def for_member(self, team_id: str, user_id: str, limit: int = 3) -> list[Hit]:
        """The newest resources of the communities the person is in (App Home)."""
        with self._database.reading() as session:
            mine = sorted(communities_repo.memberships(session, team_id, user_id))
        return self.recent(mine, limit) if mine else []

    def openers(self, resource_id: str) -> list[tuple[str, int]]:
        with self._database.reading() as session:
            return repo.openers(session, resource_id)

    def _facts(self, session: Session, resource: Resource) -> ResourceFacts:
        described = communities_repo.described(session, resource.community_id)
        return ResourceFacts(
            resource.id,
            resource.title,
            resource.kind,
            resource.url,
            tuple(resource.tags.split()),
            CommunityFacts(*described) if described else None,
        )
