"""faq search: full-text index over resolved questions and their accepted answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Hand-written: autogenerate knows nothing of these objects (`storage/migrations/env.py` and the
schema test leave out the tables `storage.repositories.faq.hand_written` names).

One row per resolved question whose accepted answer still stands lives in `faq_entry`: the
question's text and tags and the answer's text, copied by triggers on `question` and `answer`
whenever what is resolved, or what the accepted answer says, changes (accept, un-accept,
replaced acceptance, answer edited, deleted or erased, question withdrawn or erased).

- SQLite: `faq_fts` is an FTS5 index over `faq_entry` (external content, porter stemming);
  triggers on `faq_entry` keep it in step. `faq_entry.id` (the FTS5 rowid) follows resolution
  order.
- PostgreSQL: `faq_entry.document` is a generated, weighted `tsvector` (question A, tags and
  answer B, `english`) under a GIN index; `seq` follows resolution order
  (`ix_faq_entry_recent`). The triggers call the functions `faq_question_changed()` and
  `faq_answer_changed()`, which call `faq_refresh(question_id)`.

FUTURE MIGRATIONS, READ THIS. On SQLite, `op.batch_alter_table("question")` (or "answer") that
has to rebuild the table (drop or alter a column, change a constraint…) drops the old table and
renames a copy into place. Dropping it silently drops the triggers *on* it, and the triggers on
the other table, which read it, make the rename fail ("error in trigger faq_answer_…: no such
table: main.question"), which rolls the migration back. So such a migration must suspend the
search triggers around it (do it for any batch operation on these tables: whether Alembic
rebuilds the table or uses a plain ALTER depends on the operation and its version):

    import importlib

    faq_search = importlib.import_module("storage.migrations.versions.0005_faq_search")

    def upgrade() -> None:
        with faq_search.search_triggers_suspended():
            with op.batch_alter_table("question") as batch_op:
                ...

which drops the triggers, runs the block, recreates them and rebuilds the index from the
tables (so changes made meanwhile are not lost). It works on PostgreSQL too, where it is not
needed for plain ALTERs but harmless. If your migration changes a column the triggers read
(`question.text`, `tags`, `status`, `accepted_answer_id`, `team_id`; `answer.text`,
`deleted_at`, `question_id`), copy the trigger SQL below into your migration and adapt it there
instead: this file must keep describing revision 0005. `tests/storage/test_faq_search.py`
checks that search still works after a batch migration of `question`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# What makes a question searchable: resolved, and its accepted answer neither deleted nor gone.
_SOURCE = """
    FROM question q JOIN answer a ON a.id = q.accepted_answer_id
    WHERE q.status = 'resolved' AND a.deleted_at IS NULL"""
_COLUMNS = "question_id, answer_id, team_id, question, tags, answer"
_UPSERT = """
    ON CONFLICT (question_id) DO UPDATE SET
        answer_id = excluded.answer_id, team_id = excluded.team_id,
        question = excluded.question, tags = excluded.tags, answer = excluded.answer"""

# SQLite -----------------------------------------------------------------------------------------

_SQLITE_TAGS = "COALESCE((SELECT group_concat(value, ' ') FROM json_each(q.tags)), '')"
_SQLITE_TABLES = [
    """
    CREATE TABLE faq_entry (
        id INTEGER PRIMARY KEY,
        question_id VARCHAR(36) NOT NULL UNIQUE,
        answer_id VARCHAR(36) NOT NULL,
        team_id VARCHAR(32) NOT NULL,
        question TEXT NOT NULL,
        tags TEXT NOT NULL,
        answer TEXT NOT NULL
    )""",
    "CREATE INDEX ix_faq_entry_answer ON faq_entry (answer_id)",
    """
    CREATE VIRTUAL TABLE faq_fts USING fts5(
        question, tags, answer,
        content='faq_entry', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    # The index follows its content table (the documented external-content triggers).
    """
    CREATE TRIGGER faq_entry_insert AFTER INSERT ON faq_entry BEGIN
        INSERT INTO faq_fts (rowid, question, tags, answer)
        VALUES (new.id, new.question, new.tags, new.answer);
    END""",
    """
    CREATE TRIGGER faq_entry_delete AFTER DELETE ON faq_entry BEGIN
        INSERT INTO faq_fts (faq_fts, rowid, question, tags, answer)
        VALUES ('delete', old.id, old.question, old.tags, old.answer);
    END""",
    """
    CREATE TRIGGER faq_entry_update AFTER UPDATE ON faq_entry BEGIN
        INSERT INTO faq_fts (faq_fts, rowid, question, tags, answer)
        VALUES ('delete', old.id, old.question, old.tags, old.answer);
        INSERT INTO faq_fts (rowid, question, tags, answer)
        VALUES (new.id, new.question, new.tags, new.answer);
    END""",
]


def _sqlite_refresh(target: str) -> str:
    """Trigger statements that make `faq_entry` right for the question `target`."""
    return f"""
        DELETE FROM faq_entry WHERE question_id = {target}
            AND NOT EXISTS (SELECT 1 {_SOURCE} AND q.id = {target});
        INSERT INTO faq_entry ({_COLUMNS})
            SELECT q.id, a.id, q.team_id, q.text, {_SQLITE_TAGS}, a.text {_SOURCE}
            AND q.id = {target}
        {_UPSERT}
            WHERE faq_entry.answer_id IS NOT excluded.answer_id
                OR faq_entry.team_id IS NOT excluded.team_id
                OR faq_entry.question IS NOT excluded.question
                OR faq_entry.tags IS NOT excluded.tags
                OR faq_entry.answer IS NOT excluded.answer;"""


_SQLITE_TRIGGERS = {
    "faq_question_insert": f"""
        CREATE TRIGGER faq_question_insert AFTER INSERT ON question
        WHEN new.status = 'resolved'
        BEGIN {_sqlite_refresh("new.id")} END""",
    "faq_question_update": f"""
        CREATE TRIGGER faq_question_update AFTER UPDATE ON question
        WHEN old.status IS NOT new.status
            OR old.accepted_answer_id IS NOT new.accepted_answer_id
            OR old.text IS NOT new.text
            OR old.tags IS NOT new.tags
            OR old.team_id IS NOT new.team_id
        BEGIN {_sqlite_refresh("new.id")} END""",
    "faq_question_delete": """
        CREATE TRIGGER faq_question_delete AFTER DELETE ON question
        BEGIN DELETE FROM faq_entry WHERE question_id = old.id; END""",
    # An answer stored after its question was resolved with it (imports, the bench's seeding).
    "faq_answer_insert": f"""
        CREATE TRIGGER faq_answer_insert AFTER INSERT ON answer
        WHEN EXISTS (
            SELECT 1 FROM question WHERE id = new.question_id AND accepted_answer_id = new.id
        )
        BEGIN {_sqlite_refresh("new.question_id")} END""",
    "faq_answer_update": f"""
        CREATE TRIGGER faq_answer_update AFTER UPDATE ON answer
        WHEN old.text IS NOT new.text OR old.deleted_at IS NOT new.deleted_at
        BEGIN {_sqlite_refresh("new.question_id")} END""",
    # Erasure (`guildbot forget`) deletes answer rows outright.
    "faq_answer_delete": f"""
        CREATE TRIGGER faq_answer_delete AFTER DELETE ON answer
        WHEN EXISTS (SELECT 1 FROM faq_entry WHERE answer_id = old.id)
        BEGIN {_sqlite_refresh("old.question_id")} END""",
}

# PostgreSQL -------------------------------------------------------------------------------------

_POSTGRES_TAGS = (
    "COALESCE((SELECT string_agg(t.value, ' ') FROM json_array_elements_text(q.tags) AS t), '')"
)
_POSTGRES_TABLES = [
    """
    CREATE TABLE faq_entry (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        question_id VARCHAR(36) PRIMARY KEY,
        answer_id VARCHAR(36) NOT NULL,
        team_id VARCHAR(32) NOT NULL,
        question TEXT NOT NULL,
        tags TEXT NOT NULL,
        answer TEXT NOT NULL,
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', question), 'A')
            || setweight(to_tsvector('english', tags), 'B')
            || setweight(to_tsvector('english', answer), 'B')
        ) STORED
    )""",
    "CREATE INDEX ix_faq_entry_answer ON faq_entry (answer_id)",
    "CREATE INDEX ix_faq_entry_document ON faq_entry USING gin (document)",
    # Newest entries first, for words so common that only the newest matches are ranked.
    "CREATE INDEX ix_faq_entry_recent ON faq_entry (team_id, seq)",
    f"""
    CREATE FUNCTION faq_refresh(target varchar) RETURNS void LANGUAGE sql AS $$
        DELETE FROM faq_entry WHERE question_id = target
            AND NOT EXISTS (SELECT 1 {_SOURCE} AND q.id = target);
        INSERT INTO faq_entry ({_COLUMNS})
            SELECT q.id, a.id, q.team_id, q.text, {_POSTGRES_TAGS}, a.text {_SOURCE}
            AND q.id = target
        {_UPSERT}
            WHERE (faq_entry.answer_id, faq_entry.team_id, faq_entry.question, faq_entry.tags,
                   faq_entry.answer)
                IS DISTINCT FROM (excluded.answer_id, excluded.team_id, excluded.question,
                                  excluded.tags, excluded.answer);
    $$""",
    """
    CREATE FUNCTION faq_question_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM faq_entry WHERE question_id = OLD.id;
        ELSE
            PERFORM faq_refresh(NEW.id);
        END IF;
        RETURN NULL;
    END
    $$""",
    """
    CREATE FUNCTION faq_answer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM faq_entry WHERE answer_id = OLD.id) THEN
                PERFORM faq_refresh(OLD.question_id);
            END IF;
        ELSIF EXISTS (
            SELECT 1 FROM question WHERE id = NEW.question_id AND accepted_answer_id = NEW.id
        ) OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM faq_entry WHERE answer_id = OLD.id))
        THEN
            PERFORM faq_refresh(NEW.question_id);
        END IF;
        RETURN NULL;
    END
    $$""",
]
_POSTGRES_TRIGGERS = {
    "faq_question_insert": """
        CREATE TRIGGER faq_question_insert AFTER INSERT ON question
        FOR EACH ROW WHEN (NEW.status = 'resolved') EXECUTE FUNCTION faq_question_changed()""",
    "faq_question_update": """
        CREATE TRIGGER faq_question_update AFTER UPDATE ON question
        FOR EACH ROW WHEN (
            OLD.status IS DISTINCT FROM NEW.status
            OR OLD.accepted_answer_id IS DISTINCT FROM NEW.accepted_answer_id
            OR OLD.text IS DISTINCT FROM NEW.text
            OR OLD.tags::text IS DISTINCT FROM NEW.tags::text
            OR OLD.team_id IS DISTINCT FROM NEW.team_id
        ) EXECUTE FUNCTION faq_question_changed()""",
    "faq_question_delete": """
        CREATE TRIGGER faq_question_delete AFTER DELETE ON question
        FOR EACH ROW EXECUTE FUNCTION faq_question_changed()""",
    "faq_answer_insert": """
        CREATE TRIGGER faq_answer_insert AFTER INSERT ON answer
        FOR EACH ROW EXECUTE FUNCTION faq_answer_changed()""",
    "faq_answer_update": """
        CREATE TRIGGER faq_answer_update AFTER UPDATE ON answer
        FOR EACH ROW WHEN (
            OLD.text IS DISTINCT FROM NEW.text OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
        ) EXECUTE FUNCTION faq_answer_changed()""",
    "faq_answer_delete": """
        CREATE TRIGGER faq_answer_delete AFTER DELETE ON answer
        FOR EACH ROW EXECUTE FUNCTION faq_answer_changed()""",
}
_TRIGGER_TABLES = {
    "faq_question_insert": "question",
    "faq_question_update": "question",
    "faq_question_delete": "question",
    "faq_answer_insert": "answer",
    "faq_answer_update": "answer",
    "faq_answer_delete": "answer",
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _tags() -> str:
    return _POSTGRES_TAGS if _postgres() else _SQLITE_TAGS


# Helpers for this and later migrations ---------------------------------------------------------


def drop_search_triggers() -> None:
    """Drops the triggers on `question` and `answer` (not the index's own)."""
    for name, table in _TRIGGER_TABLES.items():
        op.execute(
            f"DROP TRIGGER IF EXISTS {name} ON {table}"
            if _postgres()
            else f"DROP TRIGGER IF EXISTS {name}"
        )


def create_search_triggers() -> None:
    """(Re)creates the triggers on `question` and `answer` as of revision 0005."""
    drop_search_triggers()
    for ddl in (_POSTGRES_TRIGGERS if _postgres() else _SQLITE_TRIGGERS).values():
        op.execute(ddl)


def rebuild_search_index() -> None:
    """Refills `faq_entry` (and so the index) from `question` and `answer`."""
    op.execute("DELETE FROM faq_entry")
    op.execute(
        f"INSERT INTO faq_entry ({_COLUMNS}) "
        f"SELECT q.id, a.id, q.team_id, q.text, {_tags()}, a.text {_SOURCE} "
        # Oldest first: entry ids (SQLite) and `seq` (PostgreSQL) follow resolution order.
        "ORDER BY q.resolved_at, q.id"
    )
    if not _postgres():
        # Merge the index segments the bulk insert left behind.
        op.execute("INSERT INTO faq_fts (faq_fts) VALUES ('optimize')")


@contextmanager
def search_triggers_suspended() -> Iterator[None]:
    """Around a batch migration of `question` or `answer`: see the module docstring."""
    drop_search_triggers()
    yield
    create_search_triggers()
    rebuild_search_index()


# Revision 0005 ----------------------------------------------------------------------------------


def upgrade() -> None:
    for ddl in _POSTGRES_TABLES if _postgres() else _SQLITE_TABLES:
        op.execute(ddl)
    create_search_triggers()
    rebuild_search_index()  # the questions resolved before this revision


def downgrade() -> None:
    drop_search_triggers()
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS faq_answer_changed()")
        op.execute("DROP FUNCTION IF EXISTS faq_question_changed()")
        op.execute("DROP FUNCTION IF EXISTS faq_refresh(varchar)")
    else:
        op.execute("DROP TABLE IF EXISTS faq_fts")
    op.execute("DROP TABLE IF EXISTS faq_entry")
