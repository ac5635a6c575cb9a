"""Questions, their skills, and the answers in their threads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, desc, select, update
from sqlmodel import delete as delete_rows

from storage.models import Answer, Question, QuestionSkill
from storage.repositories._sql import insert_ignoring_duplicates


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
    query = (
        select(Question)
        .join(QuestionSkill, col(QuestionSkill.question_id) == col(Question.id))
        .where(
            Question.team_id == team_id,
            Question.status == "resolved",
            col(QuestionSkill.slug).in_(list(slugs)),
            Question.id != exclude,
        )
        .distinct()
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
