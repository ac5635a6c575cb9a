"""The workspace a request comes from, and the settings that are its own.

Today every workspace's settings are the process's (the environment); the type is the seam
where a workspace's stored settings and its installation plug in, resolved once per request.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.refused import Refused
from bot.xapi.statements import XapiIdentity


@dataclass(frozen=True)
class LndAdmins:
    """The L&D admins: the one place that says whether someone is one."""

    user_ids: frozenset[str] = frozenset()

    def __contains__(self, user_id: object) -> bool:
        return user_id in self.user_ids

    def check(self, user_id: str, refusal: str) -> None:
        """Raises `Refused` for anyone else, with `refusal`'s `{who}` naming the admins."""
        if user_id not in self.user_ids:
            raise Refused(refusal.format(who=self.who))

    @property
    def who(self) -> str:
        """Whom to ask, as mentions (or the team's name when none is configured)."""
        return ", ".join(f"<@{uid}>" for uid in sorted(self.user_ids)) or "your L&D team"


QA_NOT_SET_UP = (
    "Q&A isn't set up here yet: an admin needs to set QA_CHANNEL to the channel where "
    "questions go (and invite me there)."
)


@dataclass(frozen=True)
class WorkspaceSettings:
    """What an L&D admin could set for their workspace (today: the environment's values)."""

    qa_channel: str | None
    digest_channel: str | None
    lnd_admins: LndAdmins
    kudos_emoji: str

    def questions_channel(self) -> str:
        """The channel questions go to; refuses when Q&A is not set up."""
        if not self.qa_channel:
            raise Refused(QA_NOT_SET_UP)
        return self.qa_channel


@dataclass(frozen=True)
class Workspace:
    """The workspace of one request. Plain data, so it survives Bolt's copy of the request
    for lazy listeners; the Slack client with its token is Bolt's own, per request."""

    team_id: str
    enterprise_id: str | None
    settings: WorkspaceSettings
    identity: XapiIdentity


NO_ADMINS = LndAdmins()
