"""Where guildbot is installed, when distributed with OAuth: the workspaces with a bot in
slack_sdk's bots table (the installation store itself is `bot.installations`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from storage.models import Workspace, slack_bots


@dataclass(frozen=True)
class InstalledTeam:
    team_id: str
    enterprise_id: str | None
    org_wide: bool
    """Served by its Enterprise Grid org's install (the bot row has no team)."""


def installed(session: Session, client_id: str) -> list[InstalledTeam]:
    """Each workspace this app (`client_id`) has a bot in: those it was installed in one by
    one, and for an org-wide install each workspace of the org guildbot has seen."""
    c = slack_bots.c
    rows = session.connection().execute(
        select(c.enterprise_id, c.team_id)
        .where(c.client_id == client_id, c.bot_token.is_not(None))
        .distinct()
    )
    teams: set[InstalledTeam] = set()
    orgs: set[str] = set()
    for row in rows:
        if row.team_id:
            teams.add(InstalledTeam(row.team_id, row.enterprise_id, org_wide=False))
        elif row.enterprise_id:
            orgs.add(row.enterprise_id)
    if orgs:
        seen = session.exec(
            select(Workspace.team_id, Workspace.enterprise_id).where(
                col(Workspace.enterprise_id).in_(orgs)
            )
        )
        teams |= {InstalledTeam(team_id, org, org_wide=True) for team_id, org in seen}
    return sorted(teams, key=lambda team: team.team_id)
