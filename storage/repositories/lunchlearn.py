"""Lunch-and-learn sessions, RSVPs and the sessions' time-based jobs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, tuple_
from sqlmodel import Session, col, delete, select, update

from storage.models import LunchSession, Rsvp, SessionJob, SessionSkill
from storage.repositories._sql import advisory_locks, insert_ignoring_duplicates


def add(session: Session, lunch: LunchSession) -> None:
    session.add(lunch)


def save(session: Session, lunch: LunchSession) -> None:
    session.add(lunch)


def get(session: Session, session_id: str) -> LunchSession | None:
    return session.get(LunchSession, session_id)


def by_short_id(session: Session, team_id: str, short_id: str) -> LunchSession | None:
    query = select(LunchSession).where(
        LunchSession.team_id == team_id, LunchSession.short_id == short_id
    )
    return session.exec(query).first()


def set_message(session: Session, session_id: str, ts: str) -> None:
    session.exec(
        update(LunchSession).where(col(LunchSession.id) == session_id).values(message_ts=ts)
    )


def lock_session(session: Session, session_id: str) -> None:
    """Serialises RSVP changes per session, so the capacity holds across replicas."""
    advisory_locks(session, [f"lunch-session:{session_id}"])


def add_skills(session: Session, team_id: str, session_id: str, slugs: Iterable[str]) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session, SessionSkill, {"session_id": session_id, "slug": slug, "team_id": team_id}
        )


def skills_of(session: Session, session_id: str) -> list[str]:
    return list(
        session.exec(select(SessionSkill.slug).where(SessionSkill.session_id == session_id))
    )


def upcoming(session: Session, team_id: str, now: datetime) -> list[LunchSession]:
    """Scheduled sessions that have not ended, soonest first."""
    rows = session.exec(
        select(LunchSession)
        .where(LunchSession.team_id == team_id, LunchSession.status == "scheduled")
        .order_by(LunchSession.starts_at)
    )
    return [s for s in rows if s.starts_at + timedelta(minutes=s.duration_minutes) > now]


# RSVPs ------------------------------------------------------------------------------------------


def rsvp(session: Session, session_id: str, user_id: str) -> Rsvp | None:
    return session.get(Rsvp, (session_id, user_id))


def save_rsvp(session: Session, row: Rsvp) -> None:
    session.merge(row)
    session.flush()


def counts(session: Session, session_id: str) -> dict[str, int]:
    query = (
        select(Rsvp.status, func.count()).where(Rsvp.session_id == session_id).group_by(Rsvp.status)
    )
    return {status: n for status, n in session.exec(query)}


def first_waitlisted(session: Session, session_id: str) -> Rsvp | None:
    query = (
        select(Rsvp)
        .where(Rsvp.session_id == session_id, Rsvp.status == "waitlist")
        .order_by(Rsvp.since, Rsvp.user_id)
    )
    return session.exec(query).first()


def rsvps_of(session: Session, user_id: str, session_ids: Sequence[str]) -> dict[str, str]:
    if not session_ids:
        return {}
    query = select(Rsvp.session_id, Rsvp.status).where(
        Rsvp.user_id == user_id, col(Rsvp.session_id).in_(list(session_ids))
    )
    return {session_id: status for session_id, status in session.exec(query)}


def people_with(session: Session, session_id: str, statuses: Sequence[str]) -> list[str]:
    query = (
        select(Rsvp.user_id)
        .where(Rsvp.session_id == session_id, col(Rsvp.status).in_(list(statuses)))
        .order_by(Rsvp.since)
    )
    return list(session.exec(query))


def calendar_holders(session: Session, session_id: str) -> list[str]:
    query = select(Rsvp.user_id).where(
        Rsvp.session_id == session_id, col(Rsvp.calendar_sequence).is_not(None)
    )
    return list(session.exec(query))


def attendees(session: Session, session_id: str) -> list[str]:
    query = select(Rsvp.user_id).where(
        Rsvp.session_id == session_id, col(Rsvp.attended_at).is_not(None)
    )
    return list(session.exec(query))


# Jobs -------------------------------------------------------------------------------------------


def add_job(session: Session, job: SessionJob) -> None:
    insert_ignoring_duplicates(session, SessionJob, job.model_dump())


def drop_jobs(session: Session, session_id: str) -> None:
    session.exec(
        delete(SessionJob).where(
            col(SessionJob.session_id) == session_id, col(SessionJob.done_at).is_(None)
        )
    )


def claim_due_jobs(session: Session, team_id: str, now: datetime, limit: int) -> list[SessionJob]:
    """The workspace's due jobs, each claimed by exactly one process: marked done in the same
    statement (PostgreSQL skips rows another process holds)."""
    due = (
        select(SessionJob.session_id, SessionJob.kind)
        .where(
            SessionJob.team_id == team_id,
            col(SessionJob.done_at).is_(None),
            SessionJob.due_at <= now,
        )
        .order_by(SessionJob.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.exec(
        update(SessionJob)
        .where(
            col(SessionJob.done_at).is_(None),
            tuple_(SessionJob.session_id, SessionJob.kind).in_(due),
        )
        .values(done_at=now)
        .returning(SessionJob.session_id, SessionJob.kind)
    )
    keys = [(row[0], row[1]) for row in claimed]
    return [
        job
        for session_id, kind in keys
        if (job := session.get(SessionJob, (session_id, kind))) is not None
    ]
