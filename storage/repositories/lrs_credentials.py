"""HTTP Basic keys of the inbuilt LRS. The secret itself is never stored, only its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.models import LrsCredential
from storage.types import aware_utc

_CREDENTIAL = LrsCredential.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Credential:
    key: str
    name: str
    secret_hash: str
    read_only: bool
    created_at: datetime


def _credential(row: object) -> Credential:
    return Credential(
        row.key,  # type: ignore[attr-defined]
        row.name,  # type: ignore[attr-defined]
        row.secret_hash,  # type: ignore[attr-defined]
        row.read_only,  # type: ignore[attr-defined]
        aware_utc(row.created_at),  # type: ignore[attr-defined,arg-type]
    )


def add(session: Session, credential: Credential) -> bool:
    """Stores a new key; False when the name is taken."""
    taken = session.execute(
        select(_CREDENTIAL.c.key).where(_CREDENTIAL.c.name == credential.name)
    ).first()
    if taken is not None:
        return False
    session.execute(
        _CREDENTIAL.insert().values(
            key=credential.key,
            name=credential.name,
            secret_hash=credential.secret_hash,
            read_only=credential.read_only,
            created_at=credential.created_at,
        )
    )
    return True


def by_key(session: Session, key: str) -> Credential | None:
    row = session.execute(select(_CREDENTIAL).where(_CREDENTIAL.c.key == key)).first()
    return None if row is None else _credential(row)


def every(session: Session) -> list[Credential]:
    rows = session.execute(select(_CREDENTIAL).order_by(_CREDENTIAL.c.name))
    return [_credential(row) for row in rows]


def revoke(session: Session, name_or_key: str) -> Credential | None:
    """Deletes the key with this name (or key); returns it, or None when there is none."""
    row = session.execute(
        select(_CREDENTIAL).where(
            (_CREDENTIAL.c.name == name_or_key) | (_CREDENTIAL.c.key == name_or_key)
        )
    ).first()
    if row is None:
        return None
    session.execute(delete(_CREDENTIAL).where(_CREDENTIAL.c.key == row.key))
    return _credential(row)
