"""Rows erasure (`guildbot forget`) changes across capabilities: a person's routing
preferences and RSVPs, the sessions they organised or presented, other people's text that
mentions them, the search index's leftovers, and (`forget --team`) a whole workspace."""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy import Table, and_, text, update
from sqlmodel import Session, SQLModel, col, delete, or_, select

from storage.models import (
    Answer,
    Community,
    Kudos,
    LunchSession,
    Question,
    QuestionRoute,
    Resource,
    RouteDecline,
    RoutePause,
    Rsvp,
)

# Free text people type, per table: where someone else may have mentioned the person.
_TEXT_COLUMNS: dict[type[SQLModel], tuple[str, ...]] = {
    Kudos: ("reason",),
    Question: ("text",),
    Answer: ("text",),
    LunchSession: ("title", "description", "place"),
    Rsvp: ("comment",),
    Community: ("description",),
    Resource: ("title",),
}


def delete_routing(session: Session, team_id: str, user_id: str) -> None:
    """Questions routed to the person, their pause and the skills they declined."""
    for model in (QuestionRoute, RoutePause, RouteDecline):
        session.exec(
            delete(model).where(
                col(model.team_id) == team_id,  # type: ignore[attr-defined]
                col(model.user_id) == user_id,  # type: ignore[attr-defined]
            )
        )


def unaddress_questions(session: Session, team_id: str, user_id: str) -> None:
    """Questions someone addressed to the person stay, addressed to nobody in particular."""
    session.execute(
        update(Question)
        .where(col(Question.team_id) == team_id, col(Question.addressed_to) == user_id)
        .values(addressed_to=None)
    )


def anonymise_sessions(session: Session, team_id: str, user_id: str) -> None:
    """Sessions the person organised or presented stay, by a former colleague (None)."""
    for column in ("organiser_id", "presenter_id"):
        session.execute(
            update(LunchSession)
            .where(
                col(LunchSession.team_id) == team_id,
                col(getattr(LunchSession, column)) == user_id,
            )
            .values({column: None})
        )


def delete_rsvps(session: Session, team_id: str, user_id: str) -> int:
    """The person's answers to sessions: RSVP, check-in, rating and comment."""
    result = session.exec(
        delete(Rsvp).where(col(Rsvp.team_id) == team_id, col(Rsvp.user_id) == user_id)
    )
    return result.rowcount or 0


def rewrite_texts(
    session: Session, team_id: str, containing: str, rewrite: Callable[[str], str]
) -> int:
    """Applies `rewrite` to every piece of typed text that contains `containing`; returns how
    many rows changed."""
    changed = 0
    for model, columns in _TEXT_COLUMNS.items():
        fields = [col(getattr(model, name)) for name in columns]
        query = select(model).where(
            col(model.team_id) == team_id,  # type: ignore[attr-defined]
            or_(*(field.contains(containing, autoescape=True) for field in fields)),
        )
        for row in session.exec(query):
            before = {name: getattr(row, name) for name in columns}
            for name, value in before.items():
                if value:
                    setattr(row, name, rewrite(value))
            if any(getattr(row, name) != value for name, value in before.items()):
                session.add(row)
                changed += 1
    session.flush()
    return changed


def drop_deleted_search_terms(session: Session) -> None:
    """SQLite's FTS5 keeps a deleted entry's words in its index until segments merge: merge
    them all now. (PostgreSQL's tsvector lives in the row, which is gone.)"""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO faq_fts (faq_fts) VALUES ('optimize')"))
        session.execute(text("INSERT INTO resource_fts (resource_fts) VALUES ('optimize')"))


def workspace_tables(keep: Collection[str] = ()) -> list[Table]:
    """Every table that holds a workspace's rows (it has a `team_id`), children first.
    Read from the models, so a capability's new table is covered without being listed."""
    return [
        table
        for table in reversed(SQLModel.metadata.sorted_tables)
        if "team_id" in table.c and table.name not in keep
    ]


def delete_workspace(session: Session, team_id: str, keep: Collection[str] = ()) -> int:
    """Deletes every row of the workspace in every table but `keep`; returns how many went.
    Search index entries follow their questions and answers (triggers)."""
    deleted = 0
    for table in workspace_tables(keep):
        rows = table.c.team_id == team_id
        if "is_enterprise_install" in table.c:
            # An org-wide install's (slack_sdk's tables): the org's id, and no workspace.
            org_wide = and_(table.c.enterprise_id == team_id, table.c.is_enterprise_install)
            rows = or_(rows, org_wide)
        result = session.execute(table.delete().where(rows))
        deleted += result.rowcount or 0
    return deleted
