"""Resource search (`storage.repositories.resources`) over migration 0030's index, on SQLite
(FTS5 kept by triggers) and PostgreSQL (a GIN expression index)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Database
from storage.models import Resource
from storage.repositories import resources as repo

TEAM = "T0ACME"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def share(
    db: Database, n: int, title: str, tags: str = "", team: str = TEAM, **more: object
) -> str:
    resource = Resource(
        id=f"r{n}",
        team_id=team,
        key=f"https://example.com/{team}/{n}",
        url=f"https://example.com/{n}",
        title=title,
        kind="link",
        tags=tags,
        channel_id="C0PY",
        shared_by="U0ANN",
        shared_at=more.pop("shared_at", NOW),  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )
    with db.transaction() as session:
        assert repo.add(session, resource)
    return resource.id


def titles(db: Database, typed: str, limit: int = 5, ranked: int = repo.RANKED) -> list[str]:
    with db.transaction() as session:
        return [f.title for f in repo.search(session, TEAM, typed, NOW, limit, ranked)]


def test_finds_by_title_words_and_by_skill_with_stemming(database: Database) -> None:
    share(database, 1, "Rotating database passwords", "postgresql security")
    share(database, 2, "Kubernetes in production", "kubernetes")
    share(database, 3, "Intro to machine learning", "machine-learning python")
    share(database, 4, "Other workspace's passwords", team="T0OTHER")

    assert titles(database, "password rotation") == ["Rotating database passwords"]
    assert titles(database, "security") == ["Rotating database passwords"]
    assert titles(database, "machine-learning") == ["Intro to machine learning"]
    assert titles(database, "kubernetes production") == ["Kubernetes in production"]
    assert titles(database, "kubernetes security") == []


@pytest.mark.parametrize(
    "typed", ['"', "*", "NEAR(", "OR", "-python", "'; DROP TABLE resource; --", "😀", "x" * 400]
)
def test_what_people_type_is_never_syntax(database: Database, typed: str) -> None:
    share(database, 1, "Python tips", "python")

    titles(database, typed)  # never raises

    assert titles(database, "python") == ["Python tips"]


def test_opens_reactions_and_recency_rank(database: Database) -> None:
    share(database, 1, "Tips old but opened", opens=6, shared_at=NOW - timedelta(days=60))
    share(database, 2, "Tips fresh", shared_at=NOW)
    share(database, 3, "Tips liked", reactions=2, shared_at=NOW - timedelta(days=1))
    share(database, 4, "Tips old", shared_at=NOW - timedelta(days=300))

    assert titles(database, "tips") == [
        "Tips liked",
        "Tips old but opened",
        "Tips fresh",
        "Tips old",
    ]


def test_the_index_follows_changes_and_deletions(database: Database) -> None:
    share(database, 1, "Python tips", "python")
    share(database, 2, "Go tips", "go")
    with database.transaction() as session:
        python = repo.get(session, "r1")
        assert python is not None
        python.title = "Rust tips"
        python.tags = "rust"
        session.add(python)
        session.flush()
        repo.forget_person(session, TEAM, "U0NOBODY")
        go = repo.get(session, "r2")
        session.delete(go)

    assert titles(database, "python") == []
    assert titles(database, "rust") == ["Rust tips"]
    assert titles(database, "go") == []


def test_only_the_newest_matches_are_ranked_when_many_match(database: Database) -> None:
    for n in range(1, 6):
        share(database, n, f"Tips {n}", opens=10 if n == 1 else 0)

    assert titles(database, "tips", limit=2, ranked=3) == ["Tips 5", "Tips 4"]
