"""The inbuilt LRS's documents: state, activity profiles and agent profiles.

A document is found by its key (what identifies it, digested); lists and deletes without an id
cover a scope (a kind with its activity and/or agent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.models import LrsDocument

_DOCUMENT = LrsDocument.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DocumentAddress:
    """Where a document lives: `key` names it, `scope` groups it with its siblings."""

    key: str
    scope: str
    kind: str
    document_id: str
    agent_key: str | None = None
    registration: str | None = None


@dataclass(frozen=True)
class Document:
    document_id: str
    content: bytes
    content_type: str
    etag: str
    updated: datetime


def get(session: Session, key: str) -> Document | None:
    row = session.execute(select(_DOCUMENT).where(_DOCUMENT.c.key == key)).first()
    if row is None:
        return None
    return Document(
        row.document_id, bytes(row.content), row.content_type, row.etag, _aware(row.updated)
    )


def put(
    session: Session,
    address: DocumentAddress,
    content: bytes,
    content_type: str,
    etag: str,
    now: datetime,
) -> None:
    """Creates or replaces the document."""
    session.execute(delete(_DOCUMENT).where(_DOCUMENT.c.key == address.key))
    session.execute(
        _DOCUMENT.insert().values(
            key=address.key,
            scope=address.scope,
            kind=address.kind,
            agent_key=address.agent_key,
            registration=address.registration,
            document_id=address.document_id,
            content=content,
            content_type=content_type,
            etag=etag,
            updated=now,
        )
    )


def delete_one(session: Session, key: str) -> None:
    session.execute(delete(_DOCUMENT).where(_DOCUMENT.c.key == key))


def ids(
    session: Session, scope: str, since: datetime | None, registration: str | None = None
) -> list[str]:
    """The ids of the documents in a scope (updated after `since`), oldest first."""
    query = select(_DOCUMENT.c.document_id).where(_DOCUMENT.c.scope == scope)
    if since is not None:
        query = query.where(_DOCUMENT.c.updated > since)
    if registration is not None:
        query = query.where(_DOCUMENT.c.registration == registration)
    return list(session.execute(query.order_by(_DOCUMENT.c.updated)).scalars())


def delete_scope(session: Session, scope: str, registration: str | None = None) -> None:
    query = delete(_DOCUMENT).where(_DOCUMENT.c.scope == scope)
    if registration is not None:
        query = query.where(_DOCUMENT.c.registration == registration)
    session.execute(query)


def delete_about_agents(session: Session, agent_keys: Sequence[str]) -> int:
    """Deletes the state and agent profiles of these agents (erasure)."""
    if not agent_keys:
        return 0
    result = session.execute(delete(_DOCUMENT).where(_DOCUMENT.c.agent_key.in_(list(agent_keys))))
    return result.rowcount or 0


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
