"""Where guildbot is installed, when distributed with OAuth: the workspaces with a bot in
slack_sdk's bots table (the installation store itself is `bot.installations`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from storage.models import slack_bots


@dataclass(frozen=True)
class InstalledTeam:
    team_id: str
    enterprise_id: str | None
    org_wide: bool
    """Served by its Enterprise Grid org's install (the bot row has no team)."""


def installed(session: Session, client_id: str) -> list[InstalledTeam]:
    """Each workspace this app (`client_id`) has a bot in, installed in one by one, and each
    org installed org-wide, whose data is keyed by the org's id (bot.domain.workspace.data_key)."""
    c = slack_bots.c
    rows = session.connection().execute(
        select(c.enterprise_id, c.team_id)
        .where(c.client_id == client_id, c.bot_token.is_not(None))
        .distinct()
    )
    teams = {
        InstalledTeam(row.team_id, row.enterprise_id, org_wide=False)
        if row.team_id
        else InstalledTeam(row.enterprise_id, row.enterprise_id, org_wide=True)
        for row in rows
        if row.team_id or row.enterprise_id
    }
    return sorted(teams, key=lambda team: team.team_id)
