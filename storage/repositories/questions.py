"""Questions, their skills, and the answers in their threads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, desc, select, update
from sqlmodel import delete as delete_rows

from storage.models import (
    Answer,
    Question,
    QuestionRoute,
    QuestionSkill,
    RouteDecline,
    RoutePause,
)
from storage.repositories._sql import advisory_locks, insert_ignoring_duplicates


def add(session: Session, question: Question) -> bool:
    """True when new; a redelivered `/ask` finds its question already there."""
    return insert_ignoring_duplicates(session, Question, question.model_dump())


def get(session: Session, question_id: str) -> Question | None:
    return session.get(Question, question_id)


def by_message(session: Session, team_id: str, channel_id: str, ts: str) -> Question | None:
    query = select(Question).where(
        Question.team_id == team_id, Question.channel_id == channel_id, Question.ts == ts
    )
    return session.exec(query).first()


def set_message(session: Session, question_id: str, ts: str, permalink: str | None) -> None:
    session.exec(
        update(Question).where(col(Question.id) == question_id).values(ts=ts, permalink=permalink)
    )


def delete(session: Session, question: Question) -> None:
    session.exec(delete_rows(QuestionSkill).where(col(QuestionSkill.question_id) == question.id))
    session.exec(delete_rows(QuestionRoute).where(col(QuestionRoute.question_id) == question.id))
    session.delete(question)


def add_skills(session: Session, team_id: str, question_id: str, slugs: Iterable[str]) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session, QuestionSkill, {"question_id": question_id, "slug": slug, "team_id": team_id}
        )


def skills_of(session: Session, question_id: str) -> list[str]:
    query = select(QuestionSkill.slug).where(QuestionSkill.question_id == question_id)
    return list(session.exec(query))


def resolved_with_skills(
    session: Session, team_id: str, slugs: Sequence[str], exclude: str, limit: int
) -> list[Question]:
    """Resolved questions sharing a skill, newest first."""
    if not slugs:
        return []
    sharing = select(QuestionSkill.question_id).where(
        QuestionSkill.team_id == team_id, col(QuestionSkill.slug).in_(list(slugs))
    )
    query = (
        select(Question)
        .where(
            Question.team_id == team_id,
            Question.status == "resolved",
            col(Question.id).in_(sharing),
            Question.id != exclude,
        )
        .order_by(desc(Question.resolved_at))
        .limit(limit)
    )
    return list(session.exec(query))


# Answers ----------------------------------------------------------------------------------------


def add_answer(session: Session, answer: Answer) -> bool:
    """True when new; Slack's redelivery of the same message stores nothing."""
    return insert_ignoring_duplicates(session, Answer, answer.model_dump())


def answer_by_message(session: Session, team_id: str, channel_id: str, ts: str) -> Answer | None:
    query = select(Answer).where(
        Answer.team_id == team_id, Answer.channel_id == channel_id, Answer.ts == ts
    )
    return session.exec(query).first()


def get_answer(session: Session, answer_id: str) -> Answer | None:
    return session.get(Answer, answer_id)


def answers_to(session: Session, question_id: str) -> list[Answer]:
    query = select(Answer).where(
        Answer.question_id == question_id, col(Answer.deleted_at).is_(None)
    )
    return list(session.exec(query))


def asked_by(session: Session, team_id: str, user_id: str) -> list[Question]:
    query = select(Question).where(Question.team_id == team_id, Question.asker_id == user_id)
    return list(session.exec(query))


def answers_by(session: Session, team_id: str, user_id: str) -> list[Answer]:
    query = select(Answer).where(Answer.team_id == team_id, Answer.author_id == user_id)
    return list(session.exec(query))


def answers_to_any(session: Session, question_ids: Sequence[str]) -> list[Answer]:
    if not question_ids:
        return []
    query = select(Answer).where(col(Answer.question_id).in_(list(question_ids)))
    return list(session.exec(query))


def delete_answers(session: Session, answer_ids: Sequence[str]) -> None:
    if answer_ids:
        session.exec(delete_rows(Answer).where(col(Answer.id).in_(list(answer_ids))))


def save(session: Session, row: Question | Answer) -> None:
    session.add(row)


def mark_answer_edited(session: Session, answer: Answer, text: str, now: datetime) -> None:
    answer.text = text
    answer.edited_at = now
    session.add(answer)


# Routing and nudges -------------------------------------------------------------------------------


def lock_people(session: Session, team_id: str, user_ids: Sequence[str]) -> None:
    """Serialises routing decisions per person (the daily cap holds across replicas)."""
    advisory_locks(session, [f"routing:{team_id}:{u}" for u in user_ids])


def routed_to(session: Session, question_id: str) -> set[str]:
    query = select(QuestionRoute.user_id).where(QuestionRoute.question_id == question_id)
    return set(session.exec(query))


def add_route(session: Session, route: QuestionRoute) -> bool:
    return insert_ignoring_duplicates(session, QuestionRoute, route.model_dump())


def route(session: Session, question_id: str, user_id: str) -> QuestionRoute | None:
    return session.get(QuestionRoute, (question_id, user_id))


def routes_by_cause(session: Session, question_id: str, cause: str) -> list[QuestionRoute]:
    """The people one routing step chose for the question."""
    query = select(QuestionRoute).where(
        QuestionRoute.question_id == question_id, QuestionRoute.cause == cause
    )
    return list(session.exec(query))


def set_dm(session: Session, question_id: str, user_id: str, channel: str, ts: str) -> None:
    session.exec(
        update(QuestionRoute)
        .where(col(QuestionRoute.question_id) == question_id, col(QuestionRoute.user_id) == user_id)
        .values(dm_channel=channel, dm_ts=ts)
    )


def sent_dms(session: Session, question_id: str) -> list[QuestionRoute]:
    """Routes whose DM went out and still stands (a declined one was answered in place)."""
    query = select(QuestionRoute).where(
        QuestionRoute.question_id == question_id,
        col(QuestionRoute.dm_ts).is_not(None),
        col(QuestionRoute.declined_at).is_(None),
    )
    return list(session.exec(query))


def routed_since(
    session: Session, team_id: str, user_ids: Sequence[str], since: datetime
) -> dict[str, int]:
    """How many questions each person was sent since `since` (for the daily cap)."""
    if not user_ids:
        return {}
    query = (
        select(QuestionRoute.user_id, func.count())
        .where(
            QuestionRoute.team_id == team_id,
            col(QuestionRoute.user_id).in_(list(user_ids)),
            QuestionRoute.routed_at > since,
        )
        .group_by(QuestionRoute.user_id)
    )
    return {user_id: count for user_id, count in session.exec(query)}


def paused(session: Session, team_id: str, user_ids: Sequence[str], now: datetime) -> set[str]:
    if not user_ids:
        return set()
    query = select(RoutePause.user_id).where(
        RoutePause.team_id == team_id,
        col(RoutePause.user_id).in_(list(user_ids)),
        RoutePause.paused_until > now,
    )
    return set(session.exec(query))


def pause(session: Session, team_id: str, user_id: str, until: datetime) -> None:
    session.merge(RoutePause(team_id=team_id, user_id=user_id, paused_until=until))


def declined(
    session: Session, team_id: str, user_ids: Sequence[str], slugs: Sequence[str]
) -> set[tuple[str, str]]:
    """(person, skill) pairs the people said are not their area."""
    if not user_ids or not slugs:
        return set()
    query = select(RouteDecline.user_id, RouteDecline.slug).where(
        RouteDecline.team_id == team_id,
        col(RouteDecline.user_id).in_(list(user_ids)),
        col(RouteDecline.slug).in_(list(slugs)),
    )
    return {(user_id, slug) for user_id, slug in session.exec(query)}


def decline(
    session: Session, team_id: str, user_id: str, slugs: Iterable[str], now: datetime
) -> None:
    for slug in slugs:
        insert_ignoring_duplicates(
            session,
            RouteDecline,
            {"team_id": team_id, "user_id": user_id, "slug": slug, "declined_at": now},
        )


def claim_due_nudges(session: Session, team_id: str, now: datetime, limit: int) -> list[Question]:
    """The workspace's open questions whose nudge is due, each claimed by exactly one process:
    the nudge time is cleared in the same statement (PostgreSQL skips rows another process
    holds)."""
    due = (
        select(Question.id)
        .where(
            Question.team_id == team_id, col(Question.nudge_at) <= now, Question.status == "open"
        )
        .order_by(Question.nudge_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.exec(
        update(Question)
        .where(col(Question.id).in_(due.scalar_subquery()), col(Question.nudge_at).is_not(None))
        .values(nudge_at=None)
        .returning(Question.id)
    )
    ids = [row[0] for row in claimed]
    if not ids:
        return []
    return list(session.exec(select(Question).where(col(Question.id).in_(ids))))


def open_asked_by(session: Session, team_id: str, user_id: str, limit: int) -> list[Question]:
    query = (
        select(Question)
        .where(
            Question.team_id == team_id,
            Question.asker_id == user_id,
            Question.status == "open",
            col(Question.ts).is_not(None),
        )
        .order_by(desc(Question.created_at))
        .limit(limit)
    )
    return list(session.exec(query))


def waiting_for(session: Session, team_id: str, user_id: str, limit: int) -> list[Question]:
    """Open questions routed to the person that they neither declined nor answered."""
    answered = select(Answer.question_id).where(
        Answer.team_id == team_id, Answer.author_id == user_id
    )
    query = (
        select(Question)
        .join(QuestionRoute, col(QuestionRoute.question_id) == col(Question.id))
        .where(
            QuestionRoute.team_id == team_id,
            QuestionRoute.user_id == user_id,
            col(QuestionRoute.declined_at).is_(None),
            Question.status == "open",
            col(Question.id).not_in(answered),
        )
        .order_by(desc(Question.created_at))
        .limit(limit)
    )
    return list(session.exec(query))


def paused_until(session: Session, team_id: str, user_id: str) -> datetime | None:
    row = session.get(RoutePause, (team_id, user_id))
    return row.paused_until if row else None


def unpause(session: Session, team_id: str, user_id: str) -> None:
    session.exec(
        delete_rows(RoutePause).where(
            col(RoutePause.team_id) == team_id, col(RoutePause.user_id) == user_id
        )
    )


def count_asked(session: Session, team_id: str, since: datetime) -> int:
    query = select(func.count()).where(Question.team_id == team_id, Question.created_at >= since)
    return session.exec(query).one()
