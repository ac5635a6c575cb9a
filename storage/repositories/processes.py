"""Each running process's latest health check (`process_status`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select

from storage.models import ProcessStatus


def report(session: Session, status: ProcessStatus) -> None:
    session.merge(status)


def forget(session: Session, process_id: str) -> None:
    session.exec(delete(ProcessStatus).where(col(ProcessStatus.process_id) == process_id))


def forget_unchecked_since(session: Session, before: datetime) -> None:
    """Rows of processes gone without a clean shutdown (killed, crashed)."""
    session.exec(delete(ProcessStatus).where(col(ProcessStatus.checked_at) < before))


def every(session: Session) -> list[ProcessStatus]:
    return list(session.exec(select(ProcessStatus).order_by(col(ProcessStatus.process_id))))
