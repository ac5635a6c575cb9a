"""FAQ search (`storage.repositories.faq`) over the index migration 0005 keeps with triggers,
on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from storage.database import Database
from storage.migrate import upgrade
from storage.models import Answer, Question
from storage.repositories import faq
from storage.repositories import questions as questions_repo
from tests.support.databases import DIALECTS, dialect_of, empty_database

TEAM = "T0ACME"
OTHER_TEAM = "T0OTHER"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOSTILE = [
    '"',
    '""',
    '"unbalanced quote',
    "*",
    "vault*",
    "NEAR(",
    "NEAR(vault rotate, 2)",
    "OR",
    "vault OR",
    "AND NOT",
    "-",
    "-vault",
    "vault -",
    "^vault",
    "question:vault",
    "{question answer}: vault",
    "(vault",
    "vault)",
    "'; DROP TABLE question; --",
    "\\",
    "%_",
    "!!! ??? ...",
    "a & b | c <-> d",
    "vault:*",
    "😀 vault",
    "x" * 500,
    "vault " * 50,
]

faq_search_migration = importlib.import_module("storage.migrations.versions.0005_faq_search")


# Helpers: the same row changes QuestionService makes ---------------------------------------------


def ask(
    database: Database,
    question_id: str,
    text: str,
    team: str = TEAM,
    tags: tuple[str, ...] = (),
) -> None:
    with database.transaction() as session:
        questions_repo.add(
            session,
            Question(
                id=question_id,
                team_id=team,
                asker_id="U0ANN",
                text=text,
                tags=list(tags),
                channel_id="C0QA",
                ts=f"{question_id}.ts",
                permalink=f"https://acme.slack.com/archives/C0QA/p{question_id}",
                asked_statement_id=f"{question_id}-asked",
                created_at=NOW,
            ),
        )


def reply(
    database: Database, answer_id: str, question_id: str, text: str, team: str = TEAM
) -> None:
    with database.transaction() as session:
        questions_repo.add_answer(
            session,
            Answer(
                id=answer_id,
                team_id=team,
                question_id=question_id,
                author_id="U0BOB",
                channel_id="C0QA",
                ts=f"{answer_id}.ts",
                permalink=f"https://acme.slack.com/archives/C0QA/p{answer_id}",
                text=text,
                answered_statement_id=f"{answer_id}-answered",
                created_at=NOW,
            ),
        )


def accept(database: Database, question_id: str, answer_id: str) -> None:
    with database.transaction() as session:
        question = questions_repo.get(session, question_id)
        answer = questions_repo.get_answer(session, answer_id)
        assert question is not None and answer is not None
        answer.accepted_at = NOW
        question.status = "resolved"
        question.resolved_at = NOW
        question.accepted_answer_id = answer_id
        questions_repo.save(session, answer)
        questions_repo.save(session, question)


def reopen(database: Database, question_id: str) -> None:
    with database.transaction() as session:
        question = questions_repo.get(session, question_id)
        assert question is not None
        question.status = "open"
        question.resolved_at = None
        question.accepted_answer_id = None
        questions_repo.save(session, question)


def edit(database: Database, answer_id: str, text: str) -> None:
    with database.transaction() as session:
        answer = questions_repo.get_answer(session, answer_id)
        assert answer is not None
        questions_repo.mark_answer_edited(session, answer, text, NOW + timedelta(minutes=5))


def mark_deleted(database: Database, answer_id: str) -> None:
    with database.transaction() as session:
        answer = questions_repo.get_answer(session, answer_id)
        assert answer is not None
        answer.deleted_at = NOW + timedelta(minutes=10)
        questions_repo.save(session, answer)


def resolved(
    database: Database,
    question_id: str,
    question: str,
    answer: str,
    team: str = TEAM,
    tags: tuple[str, ...] = (),
) -> None:
    ask(database, question_id, question, team, tags)
    reply(database, f"{question_id}-a", question_id, answer, team)
    accept(database, question_id, f"{question_id}-a")


def search(database: Database, typed: str, team: str = TEAM) -> list[faq.FaqRow]:
    with database.reading() as session:
        return faq.search(session, team, typed, 5)


def found(database: Database, typed: str, team: str = TEAM) -> list[str]:
    return [row.question_id for row in search(database, typed, team)]


def marked(word: str) -> str:
    return f"{faq.MARK_OPEN}{word}{faq.MARK_CLOSE}"


# What is found -----------------------------------------------------------------------------------


def test_a_resolved_question_is_found_by_words_of_the_question_answer_or_tags(
    database: Database,
) -> None:
    resolved(
        database,
        "q1",
        "How do I rotate the staging database password?",
        "Run the vault CLI, then restart the pods.",
        tags=("postgresql",),
    )

    assert found(database, "staging password") == ["q1"]
    assert found(database, "vault pods") == ["q1"]
    assert found(database, "postgresql") == ["q1"]
    # Words from the question and from the answer together, in other forms (stemming), any case.
    assert found(database, "Rotating VAULT passwords") == ["q1"]
    # Every word must match somewhere.
    assert found(database, "vault kubernetes") == []
    [row] = search(database, "vault")
    assert (row.answer_id, row.answerer_id) == ("q1-a", "U0BOB")
    assert row.question_link == "https://acme.slack.com/archives/C0QA/pq1"
    assert row.answer_link == "https://acme.slack.com/archives/C0QA/pq1-a"
    assert row.resolved_at == NOW


def test_open_questions_and_answers_that_were_not_accepted_are_not_found(
    database: Database,
) -> None:
    ask(database, "q1", "How do I rotate the staging database password?")
    reply(database, "q1-a", "q1", "Run the vault CLI.")
    ask(database, "q2", "Where do the office plants get watered?")
    reply(database, "q2-a", "q2", "Facilities waters them on Fridays.")
    reply(database, "q2-b", "q2", "Nobody knows, try the kitchen hose.")
    accept(database, "q2", "q2-a")

    assert found(database, "vault") == []
    assert found(database, "staging password") == []
    assert found(database, "plants") == ["q2"]
    assert found(database, "facilities fridays") == ["q2"]
    assert found(database, "kitchen hose") == []


def test_taking_the_acceptance_back_or_accepting_another_answer_changes_what_is_found(
    database: Database,
) -> None:
    ask(database, "q1", "Which VPN profile works from the Lisbon office?")
    reply(database, "q1-a", "q1", "The corporate profile with split tunnelling.")
    reply(database, "q1-b", "q1", "Use the guest wifi and the zero trust client.")
    accept(database, "q1", "q1-a")
    assert found(database, "tunnelling") == ["q1"]

    reopen(database, "q1")
    assert found(database, "tunnelling") == []
    assert found(database, "lisbon") == []

    accept(database, "q1", "q1-b")
    assert found(database, "tunnelling") == []
    assert found(database, "zero trust") == ["q1"]
    assert found(database, "lisbon") == ["q1"]


def test_edits_of_the_accepted_answer_are_reflected_and_other_edits_change_nothing(
    database: Database,
) -> None:
    ask(database, "q1", "How do I get access to the billing dashboard?")
    reply(database, "q1-a", "q1", "Ask finance for a looker seat.")
    reply(database, "q1-b", "q1", "No idea, sorry.")
    accept(database, "q1", "q1-a")

    edit(database, "q1-a", "File an access request in the service desk portal.")
    edit(database, "q1-b", "Actually, try the grafana mirror.")

    assert found(database, "looker") == []
    assert found(database, "service desk portal") == ["q1"]
    assert found(database, "grafana") == []
    [row] = search(database, "portal")
    assert marked("portal") in row.answer_snippet


def test_a_deleted_or_erased_accepted_answer_and_an_erased_question_are_not_found(
    database: Database,
) -> None:
    resolved(database, "q1", "Who approves travel to conferences?", "Your manager, then HR.")
    resolved(database, "q2", "Who approves hardware purchases?", "The IT lead approves them.")
    resolved(database, "q3", "Who approves expense reports?", "Finance approves expenses.")
    assert sorted(found(database, "approves")) == ["q1", "q2", "q3"]

    mark_deleted(database, "q1-a")  # the answer's message was deleted in Slack
    with database.transaction() as session:  # `guildbot forget` deletes rows outright
        questions_repo.delete_answers(session, ["q2-a"])
        question = questions_repo.get(session, "q3")
        assert question is not None
        questions_repo.delete(session, question)

    assert found(database, "approves") == []
    with database.reading() as session:
        assert faq.indexed(session, TEAM) == 0


def test_other_workspaces_never_leak(database: Database) -> None:
    resolved(database, "q1", "Where is the parking garage?", "Level minus two.", team=TEAM)
    resolved(database, "q2", "Where is the parking garage?", "Behind the station.", team=OTHER_TEAM)

    assert found(database, "parking garage") == ["q1"]
    assert found(database, "parking garage", team=OTHER_TEAM) == ["q2"]
    assert found(database, "station") == []
    assert found(database, "parking", team="T0NOBODY") == []


# Ranking and snippets ----------------------------------------------------------------------------


def test_the_best_matches_come_first_and_only_five(database: Database) -> None:
    resolved(
        database,
        "q-lunch",
        "Where is the lunch menu for this week?",
        "On the intranet, next to the kubernetes runbook, the parking map, the holiday "
        "calendar and many other pages about office life that nobody reads.",
    )
    resolved(
        database,
        "q-k8s",
        "How do I restart a kubernetes deployment?",
        "kubectl rollout restart deployment/app restarts every kubernetes pod in turn.",
    )
    for n in range(6):
        resolved(
            database,
            f"q-{n}",
            f"Which room is booked for the sprint {n} demo?",
            f"The kubernetes guild books room {n}.",
        )

    hits = found(database, "kubernetes")

    assert len(hits) == 5
    assert hits[0] == "q-k8s"  # in the question and twice in the answer
    assert "q-lunch" not in hits  # once, in a long answer
    assert found(database, "kubernetes restart") == ["q-k8s"]


def test_snippets_mark_the_matched_words(database: Database) -> None:
    resolved(
        database,
        "q1",
        "How do I rotate the staging database password?",
        "First open the vault UI and find the secret called staging-db. "
        + "Then follow the runbook step by step. " * 20
        + "Finally restart the payments pods so they pick up the new password.",
    )

    [row] = search(database, "rotating payments")

    assert marked("rotate") in row.question_snippet
    assert marked("payments") in row.answer_snippet
    assert len(row.answer_snippet) < 400  # a passage, not the whole answer
    [row] = search(database, "staging password")
    assert marked("staging") in row.question_snippet
    assert marked("password") in row.question_snippet


def test_only_the_newest_candidates_are_ranked_when_there_are_very_many(
    database: Database,
) -> None:
    for n in range(6):
        resolved(database, f"q{n}", f"Which badge opens floor {n}?", f"The blue badge {n}.")
    # Resolved last, so among the newest: found although the older ones rank higher.
    resolved(database, "q-staging", "Is the staging badge blue?", "Staging staff: blue badge.")

    with database.reading() as session:
        newest = faq.search(session, TEAM, "blue badge", 5, ranked=3)
        everything = faq.search(session, TEAM, "blue badge", 5, ranked=100)
        phrase = faq.search(session, TEAM, '"blue badge" staging', 5, ranked=3)

    assert sorted(row.question_id for row in newest) == ["q-staging", "q4", "q5"]
    assert len(everything) == 5
    assert [row.question_id for row in phrase] == ["q-staging"]


def test_ticket_ids_and_host_names_are_found_as_typed(database: Database) -> None:
    resolved(
        database,
        "q1",
        "Why does the nightly export fail on db-staging-07?",
        "It's a known issue (INC-49489); the workaround is to rerun it.",
    )

    assert found(database, "INC-49489") == ["q1"]
    assert found(database, "inc-49489 workaround") == ["q1"]
    assert found(database, "db-staging-07") == ["q1"]
    assert found(database, "INC-49488") == []


def test_quoted_words_must_come_together(database: Database) -> None:
    resolved(database, "q1", "Where is the staging database?", "On the db-stage-1 host.")

    assert found(database, '"staging database"') == ["q1"]
    assert found(database, '"database staging"') == []


@pytest.mark.parametrize("typed", HOSTILE)
def test_search_syntax_typed_by_people_never_raises(database: Database, typed: str) -> None:
    resolved(database, "q1", "How do I rotate the vault token?", "Use the vault CLI.")

    rows = search(database, typed)

    assert all(row.question_id == "q1" for row in rows)
    assert found(database, "vault") == ["q1"]  # and the session is still fine


def test_input_is_cut_into_words_and_phrases_only() -> None:
    terms = faq.terms('NEAR(vault OR -cli* "staging database" how do I token "rotate')
    assert terms.words == ("near", "vault", "cli", "token", "rotate")
    assert terms.phrases == (("staging", "database"),)
    assert terms.fts5() == '"near" "vault" "cli" "token" "rotate" "staging database"'
    assert terms.websearch() == 'near vault cli token rotate "staging database"'
    assert terms.websearch(any_of=True) == (
        'near or vault or cli or token or rotate or "staging database"'
    )
    assert terms.loose.words == ("near", "vault", "cli", "token", "rotate", "staging", "database")
    assert not faq.terms('"" * - OR the how')
    assert faq.terms("INC-4948 -db-stage- x_y").fts5() == '"inc-4948" "db-stage" "x" "y"'


# The index follows migrations --------------------------------------------------------------------


@pytest.fixture(params=DIALECTS)
def at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with empty_database(dialect_of(request), tmp_path) as database:
        upgrade(database, "0004")
        yield database


def test_questions_resolved_before_the_migration_are_found_after_it(at_0004: Database) -> None:
    resolved(at_0004, "q1", "Where is the design system documented?", "In the storybook site.")
    ask(at_0004, "q2", "Where is the brand font licence stored?")

    upgrade(at_0004)

    assert found(at_0004, "storybook") == ["q1"]
    assert found(at_0004, "brand font") == []
    resolved(at_0004, "q3", "Who owns the storybook deploys?", "The web platform team.")
    assert sorted(found(at_0004, "storybook")) == ["q1", "q3"]


@contextmanager
def migrating(database: Database) -> Iterator[None]:
    """Runs `op.…` as a migration would, in one transaction."""
    with database.engine.connect() as connection, connection.begin():
        context = MigrationContext.configure(connection)
        with Operations.context(context):
            yield


def rebuild_question_table() -> None:
    """A throwaway migration that makes SQLite rebuild `question` (batch mode), twice."""
    with op.batch_alter_table("question", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("scratch", sa.Integer(), nullable=True))
    with op.batch_alter_table("question") as batch_op:
        batch_op.drop_column("scratch")


def test_search_still_works_after_a_batch_migration_of_question(database: Database) -> None:
    resolved(database, "q1", "How do I book a desk in Berlin?", "Use the Robin app.")
    ask(database, "q2", "Can I bring my dog to the Berlin office?")
    reply(database, "q2-a", "q2", "Yes, on Fridays, with a badge for the dog.")

    with migrating(database), faq_search_migration.search_triggers_suspended():
        rebuild_question_table()

    assert "scratch" not in {c["name"] for c in inspect(database.engine).get_columns("question")}
    assert found(database, "robin") == ["q1"]
    # The triggers are back: later changes still reach the index.
    accept(database, "q2", "q2-a")
    edit(database, "q1-a", "Use the new Deskbird app.")
    assert found(database, "berlin dog") == ["q2"]
    assert found(database, "deskbird") == ["q1"]
    assert found(database, "robin") == []


def test_on_sqlite_a_batch_migration_without_suspending_the_triggers_fails_whole(
    tmp_path: Path,
) -> None:
    """Rather than silently dropping the triggers on `question`: the triggers on `answer` read
    `question`, so SQLite refuses the rename that completes the rebuild."""
    with empty_database("sqlite", tmp_path) as database:
        upgrade(database)
        resolved(database, "q1", "How do I book a desk in Berlin?", "Use the Robin app.")

        with pytest.raises(OperationalError, match="faq_"), migrating(database):
            rebuild_question_table()

        assert found(database, "robin") == ["q1"]
        ask(database, "q2", "Can I bring my dog to the Berlin office?")
        reply(database, "q2-a", "q2", "Yes, on Fridays.")
        accept(database, "q2", "q2-a")
        assert sorted(found(database, "berlin")) == ["q1", "q2"]
