"""Suggestions to learners: who to learn from, which communities to join, and opt-outs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import union
from sqlmodel import Session, col, delete, or_, select

from storage.models import (
    Answer,
    LunchSession,
    PersonSkill,
    Question,
    QuestionSkill,
    RoutePause,
    Rsvp,
    SessionSkill,
    Suggestion,
    SuggestionOptOut,
    SuggestionRun,
)
from storage.repositories._sql import insert_ignoring_duplicates


def learning_skills(session: Session, team_id: str, user_id: str) -> list[str]:
    """Skills the person declared at level `learning`, then those they asked questions on."""
    declared = session.exec(
        select(PersonSkill.slug).where(
            PersonSkill.team_id == team_id,
            PersonSkill.user_id == user_id,
            PersonSkill.level == "learning",
        )
    ).all()
    asked = session.exec(
        select(QuestionSkill.slug)
        .join(Question, col(Question.id) == col(QuestionSkill.question_id))
        .where(Question.team_id == team_id, Question.asker_id == user_id)
        .order_by(col(Question.created_at).desc())
    ).all()
    return list(dict.fromkeys([*sorted(declared), *asked]))


def learned_from(
    session: Session, team_id: str, slug: str, searcher_id: str, limit: int
) -> list[tuple[str, int]]:
    """Whom the people learning the skill (declared `learning`) learned it from: whose answers
    to their questions on it they accepted, whose sessions on it they attended. Each teacher
    with how many of those learners, most first; never the searcher."""
    learners = select(PersonSkill.user_id).where(
        PersonSkill.team_id == team_id, PersonSkill.slug == slug, PersonSkill.level == "learning"
    )
    answered = (
        select(Answer.author_id, Question.asker_id)
        .join(Question, col(Question.accepted_answer_id) == col(Answer.id))
        .join(QuestionSkill, col(QuestionSkill.question_id) == col(Question.id))
        .where(
            QuestionSkill.team_id == team_id,
            QuestionSkill.slug == slug,
            col(Question.asker_id).in_(learners),
        )
    )
    presented = (
        select(LunchSession.presenter_id, Rsvp.user_id)
        .join(Rsvp, col(Rsvp.session_id) == col(LunchSession.id))
        .join(SessionSkill, col(SessionSkill.session_id) == col(LunchSession.id))
        .where(
            SessionSkill.team_id == team_id,
            SessionSkill.slug == slug,
            col(Rsvp.attended_at).is_not(None),
            col(Rsvp.user_id).in_(learners),
        )
    )
    taught: dict[str, set[str]] = {}
    for query in (answered, presented):
        for teacher, learner in session.exec(query):
            if teacher and teacher != learner and teacher != searcher_id:
                taught.setdefault(teacher, set()).add(learner)
    ranked = sorted(taught.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(teacher, len(learners_)) for teacher, learners_ in ranked[:limit]]


def learners_due(session: Session, before: datetime, limit: int) -> list[tuple[str, str]]:
    """(team, person) of learners whose suggestions were never worked out, or before `before`."""
    learners = union(
        select(PersonSkill.team_id, PersonSkill.user_id).where(PersonSkill.level == "learning"),
        select(Question.team_id, Question.asker_id),
    ).subquery()
    query = (
        select(learners.c.team_id, learners.c.user_id)
        .outerjoin(
            SuggestionRun,
            (col(SuggestionRun.team_id) == learners.c.team_id)
            & (col(SuggestionRun.user_id) == learners.c.user_id),
        )
        .where(
            or_(col(SuggestionRun.refreshed_at).is_(None), col(SuggestionRun.refreshed_at) < before)
        )
        .limit(limit)
    )
    return [(team, user) for team, user in session.execute(query)]


def last_run(session: Session, team_id: str, user_id: str) -> datetime | None:
    run = session.get(SuggestionRun, (team_id, user_id))
    return run.refreshed_at if run else None


def paused(session: Session, team_id: str, user_ids: Sequence[str], now: datetime) -> set[str]:
    return set(
        session.exec(
            select(RoutePause.user_id).where(
                RoutePause.team_id == team_id,
                col(RoutePause.user_id).in_(list(user_ids)),
                col(RoutePause.paused_until) > now,
            )
        )
    )


def opted_out(session: Session, team_id: str, user_ids: Sequence[str]) -> set[str]:
    return set(
        session.exec(
            select(SuggestionOptOut.user_id).where(
                SuggestionOptOut.team_id == team_id,
                col(SuggestionOptOut.user_id).in_(list(user_ids)),
            )
        )
    )


def opt_out(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    insert_ignoring_duplicates(
        session, SuggestionOptOut, {"team_id": team_id, "user_id": user_id, "opted_out_at": now}
    )
    _delete_involving(session, team_id, user_id)


def opt_in(session: Session, team_id: str, user_id: str) -> None:
    session.execute(
        delete(SuggestionOptOut).where(
            col(SuggestionOptOut.team_id) == team_id, col(SuggestionOptOut.user_id) == user_id
        )
    )
    session.execute(
        delete(SuggestionRun).where(
            col(SuggestionRun.team_id) == team_id, col(SuggestionRun.user_id) == user_id
        )
    )


def replace(
    session: Session, team_id: str, learner_id: str, rows: Sequence[Suggestion], now: datetime
) -> None:
    session.execute(
        delete(Suggestion).where(
            col(Suggestion.team_id) == team_id, col(Suggestion.learner_id) == learner_id
        )
    )
    session.add_all(rows)
    run = session.get(SuggestionRun, (team_id, learner_id))
    if run is None:
        session.add(SuggestionRun(team_id=team_id, user_id=learner_id, refreshed_at=now))
    else:
        run.refreshed_at = now
        session.add(run)
    session.flush()


def of(session: Session, team_id: str, learner_id: str) -> list[Suggestion]:
    return list(
        session.exec(
            select(Suggestion)
            .where(Suggestion.team_id == team_id, Suggestion.learner_id == learner_id)
            .order_by(Suggestion.kind.desc(), col(Suggestion.score).desc())  # type: ignore[attr-defined]
        )
    )


def forget(session: Session, team_id: str, user_id: str) -> None:
    """Erasure: suggestions to them and of them, their opt-out and their runs."""
    _delete_involving(session, team_id, user_id)
    for model in (SuggestionOptOut, SuggestionRun):
        session.execute(
            delete(model).where(col(model.team_id) == team_id, col(model.user_id) == user_id)
        )


def _delete_involving(session: Session, team_id: str, user_id: str) -> None:
    session.execute(
        delete(Suggestion).where(
            col(Suggestion.team_id) == team_id,
            or_(col(Suggestion.learner_id) == user_id, col(Suggestion.target_id) == user_id),
        )
    )
