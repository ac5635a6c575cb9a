"""The workspace a request comes from, and the settings that are its own.

A workspace's settings are what its L&D admins stored (bot/domain/workspace_settings.py) over
the environment's, which are every workspace's defaults; resolved once per request.

Whose data a request reads and writes (`data_key`): its workspace's, or, where guildbot is
installed org-wide on Enterprise Grid, the org's: one set of people, kudos, experts, questions
and FAQ across every workspace of the org (Slack's user ids are org-wide there).
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
    "Q&A isn't set up here yet: an L&D admin needs to pick the channel where questions go "
    "(App Home → L&D settings, or QA_CHANNEL for every workspace) and invite me there."
)


@dataclass(frozen=True)
class WorkspaceSettings:
    """What a workspace's L&D admins set for it (the environment's values until they do)."""

    qa_channel: str | None
    digest_channel: str | None
    digest_cron: str
    """When the digest is due: five-field cron in the process's `TIMEZONE`."""
    lnd_admins: LndAdmins
    kudos_emoji: str
    kudos_managers: frozenset[str]
    kudos_daily_limit: int
    kudos_manager_daily_limit: int
    lunchlearn_reminders: tuple[int, ...]
    """Reminder offsets before a session starts, in minutes, largest first."""
    lunchlearn_checkin_code: bool
    skill_aliases: str = ""
    """The workspace's own skill aliases, `canonical: alias, alias` a line, added to the alias
    file's (its own line wins); empty: the file's alone."""

    def kudos_limit(self, giver_id: str) -> int:
        """How many kudos the giver may give a day."""
        if giver_id in self.kudos_managers:
            return self.kudos_manager_daily_limit
        return self.kudos_daily_limit

    def questions_channel(self) -> str:
        """The channel questions go to; refuses when Q&A is not set up."""
        if not self.qa_channel:
            raise Refused(QA_NOT_SET_UP)
        return self.qa_channel


def data_key(team_id: str | None, enterprise_id: str | None, org_wide: bool) -> str | None:
    """The key of the data a request is about (every table's `team_id`): the org's id for a
    request to an org-wide install, so the org's workspaces share their data; else the
    workspace's id (a workspace of an org that installed guildbot in it alone included)."""
    if org_wide and enterprise_id:
        return enterprise_id
    return team_id


@dataclass(frozen=True)
class Workspace:
    """The workspace of one request. Plain data, so it survives Bolt's copy of the request
    for lazy listeners; the Slack client with its token is Bolt's own, per request."""

    team_id: str
    """The key of its data (`data_key`): an org-wide install's org id, else the workspace's."""
    enterprise_id: str | None
    settings: WorkspaceSettings
    identity: XapiIdentity
