"""The workspace record: its xAPI home page is fixed at first start."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import Workspace
from storage.repositories._sql import insert_ignoring_duplicates


def get(session: Session, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def first(session: Session) -> Workspace | None:
    """The workspace this deployment serves (one per deployment for now)."""
    return session.exec(select(Workspace).order_by(Workspace.created_at)).first()


def remember(
    session: Session,
    team_id: str,
    home_page: str,
    enterprise_id: str | None,
    bot_user_id: str | None,
    now: datetime,
) -> Workspace:
    """Stores the workspace on first sight; an existing row keeps its home page for good,
    so a renamed workspace never splits a person into two xAPI actors."""
    insert_ignoring_duplicates(
        session,
        Workspace,
        {
            "team_id": team_id,
            "home_page": home_page,
            "enterprise_id": enterprise_id,
            "bot_user_id": bot_user_id,
            "created_at": now,
        },
    )
    workspace = session.get(Workspace, team_id, populate_existing=True)
    assert workspace is not None
    if bot_user_id and workspace.bot_user_id != bot_user_id:
        workspace.bot_user_id = bot_user_id
        session.add(workspace)
    return workspace


def every(session: Session) -> list[Workspace]:
    return list(session.exec(select(Workspace)))
