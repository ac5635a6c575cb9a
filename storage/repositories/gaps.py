"""What knowledge gaps are computed from: questions per skill and who can answer them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Answer, Question, QuestionSkill, SkillStanding
from storage.types import aware_utc


@dataclass(frozen=True)
class AskedQuestion:
    question_id: str
    asked_at: datetime
    first_answer_at: datetime | None


def questions_by_skill(
    session: Session, team_id: str, since: datetime
) -> dict[str, list[AskedQuestion]]:
    """Posted questions asked since `since`, per skill, with when each was first answered."""
    first_answer = (
        select(Answer.question_id, func.min(Answer.created_at).label("first_at"))
        .where(Answer.team_id == team_id, col(Answer.deleted_at).is_(None))
        .group_by(Answer.question_id)
        .subquery()
    )
    query = (
        select(QuestionSkill.slug, Question.id, Question.created_at, first_answer.c.first_at)
        .join(Question, col(Question.id) == col(QuestionSkill.question_id))
        .outerjoin(first_answer, first_answer.c.question_id == Question.id)
        .where(
            QuestionSkill.team_id == team_id,
            Question.created_at >= since,
            col(Question.ts).is_not(None),
        )
    )
    found: dict[str, list[AskedQuestion]] = {}
    for slug, question_id, asked_at, first_at in session.exec(query):
        found.setdefault(slug, []).append(
            AskedQuestion(question_id, aware_utc(asked_at), aware_utc(first_at))
        )
    return found


def evidenced_experts(session: Session, team_id: str, slugs: Sequence[str]) -> dict[str, int]:
    """People per skill with evidence beyond a bare declaration."""
    if not slugs:
        return {}
    evidence = (
        SkillStanding.endorsements
        + SkillStanding.kudos
        + SkillStanding.answers
        + SkillStanding.sessions
    )
    query = (
        select(SkillStanding.slug, func.count())
        .where(
            SkillStanding.team_id == team_id,
            col(SkillStanding.slug).in_(list(slugs)),
            evidence > 0,
        )
        .group_by(SkillStanding.slug)
    )
    return {slug: count for slug, count in session.exec(query)}


def top_answerers(
    session: Session, team_id: str, slugs: Sequence[str], per_skill: int
) -> dict[str, list[str]]:
    """Who answered questions on each skill most (any answer, accepted or not)."""
    if not slugs:
        return {}
    answers = func.count().label("answers")
    query = (
        select(QuestionSkill.slug, Answer.author_id, answers)
        .join(Answer, col(Answer.question_id) == col(QuestionSkill.question_id))
        .where(
            QuestionSkill.team_id == team_id,
            col(QuestionSkill.slug).in_(list(slugs)),
            col(Answer.deleted_at).is_(None),
        )
        .group_by(QuestionSkill.slug, Answer.author_id)
        .order_by(QuestionSkill.slug, answers.desc(), Answer.author_id)
    )
    found: dict[str, list[str]] = {}
    for slug, author_id, _ in session.exec(query):
        if len(found.setdefault(slug, [])) < per_skill:
            found[slug].append(author_id)
    return found
