"""Each workspace's stored settings and the log of their changes. Values are JSON: whatever
the domain stores (ids, lists of ids, numbers, yes/no), read back as it was stored."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import WorkspaceSetting, WorkspaceSettingChange
from storage.repositories._sql import advisory_locks


def every(session: Session) -> dict[str, dict[str, Any]]:
    """Every workspace's stored settings, by team id, then by setting name."""
    stored: dict[str, dict[str, Any]] = {}
    for row in session.exec(select(WorkspaceSetting)):
        stored.setdefault(row.team_id, {})[row.name] = json.loads(row.value)
    return stored


def of(session: Session, team_id: str, lock: bool = False) -> dict[str, Any]:
    """One workspace's stored settings; `lock`: until the transaction ends, no one else
    changes them (two admins saving at once each see the other's change)."""
    if lock:
        advisory_locks(session, [f"workspace_settings:{team_id}"])
    rows = session.exec(select(WorkspaceSetting).where(col(WorkspaceSetting.team_id) == team_id))
    return {row.name: json.loads(row.value) for row in rows}


def version(session: Session) -> tuple[Any, ...]:
    """What changes whenever any workspace's stored settings do (a change saved, a person
    erased): what replicas compare to know whether their copy is stale."""
    latest = session.exec(select(func.max(WorkspaceSettingChange.id))).one()
    stored = session.exec(
        select(func.count(), func.max(WorkspaceSetting.changed_at)).select_from(WorkspaceSetting)
    ).one()
    return (latest, *stored)


def save(
    session: Session,
    team_id: str,
    changes: Sequence[tuple[str, Any, Any]],
    by: str,
    now: datetime,
) -> None:
    """Stores each `(name, old, new)` and logs it as changed by `by`."""
    for name, old, new in changes:
        value = json.dumps(new)
        row = session.get(WorkspaceSetting, (team_id, name))
        if row is None:
            row = WorkspaceSetting(
                team_id=team_id, name=name, value=value, changed_by=by, changed_at=now
            )
        else:
            row.value, row.changed_by, row.changed_at = value, by, now
        session.add(row)
        session.add(
            WorkspaceSettingChange(
                team_id=team_id,
                name=name,
                old_value=json.dumps(old),
                new_value=value,
                changed_by=by,
                changed_at=now,
            )
        )
    session.flush()


def recent_changes(
    session: Session, team_id: str, limit: int
) -> list[tuple[WorkspaceSettingChange, Any, Any]]:
    """The workspace's latest changes, newest first, each with its old and new values read."""
    rows = session.exec(
        select(WorkspaceSettingChange)
        .where(col(WorkspaceSettingChange.team_id) == team_id)
        .order_by(col(WorkspaceSettingChange.id).desc())
        .limit(limit)
    )
    return [(row, json.loads(row.old_value), json.loads(row.new_value)) for row in rows]


def forget_person(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    """Erasure: the person leaves the workspace's lists of people (a list left empty is no
    longer stored: the environment's applies again) and the log of changes, where a change
    they made is nobody's."""
    rows = session.exec(select(WorkspaceSetting).where(col(WorkspaceSetting.team_id) == team_id))
    for row in rows:
        value = json.loads(row.value)
        if row.changed_by != user_id and not (isinstance(value, list) and user_id in value):
            continue
        if isinstance(value, list) and user_id in value:
            value = [v for v in value if v != user_id]
            if not value:
                session.delete(row)
                continue
        row.value = json.dumps(value)
        row.changed_by = "" if row.changed_by == user_id else row.changed_by
        row.changed_at = now
        session.add(row)
    changes = session.exec(
        select(WorkspaceSettingChange).where(col(WorkspaceSettingChange.team_id) == team_id)
    )
    for change in changes:
        old, new = json.loads(change.old_value), json.loads(change.new_value)
        change.old_value = json.dumps(_without(old, user_id))
        change.new_value = json.dumps(_without(new, user_id))
        if change.changed_by == user_id:
            change.changed_by = ""
        session.add(change)
    session.flush()


def _without(value: Any, user_id: str) -> Any:
    return [v for v in value if v != user_id] if isinstance(value, list) else value
