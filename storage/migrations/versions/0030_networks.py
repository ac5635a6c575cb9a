"""networks: communities of practice (channels, skills, members, contributions), shared
resources with their full-text index and opens, and contributions as expert evidence

Revision ID: 0030
Revises: 0040
Create Date: 2026-12-05

The resource search index is hand-written, like the FAQ's (0005):

- SQLite: `resource_fts`, an FTS5 index over `resource` (external content, rowid `seq`,
  porter stemming), kept in step by triggers on `resource` for inserts, deletes and changes
  of `title` or `tags` (opens and reactions never touch it).
- PostgreSQL: `resource.search_document`, a generated, stored, weighted `tsvector` (title A,
  tags B, `english`) under the GIN index `ix_resource_search`: nothing to keep in step. It is
  stored rather than an expression index because a search walking the newest resources
  (`ix_resource_recent`) tests it row by row (recomputed, that took 100 ms at 100,000).

FUTURE MIGRATIONS: on SQLite a batch migration of `resource` that rebuilds the table drops
the triggers on it: wrap it in `search_triggers_suspended()` from this module (see 0005).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0030"
down_revision = "0040"
branch_labels = None
depends_on = None

DOCUMENT = (
    "(setweight(to_tsvector('english', title), 'A') "
    "|| setweight(to_tsvector('english', tags), 'B'))"
)
"""What PostgreSQL searches: `resource.search_document`, generated from this."""

_SQLITE_INDEX = """
    CREATE VIRTUAL TABLE resource_fts USING fts5(
        title, tags, content='resource', content_rowid='seq',
        tokenize='porter unicode61 remove_diacritics 2'
    )"""
_SQLITE_TRIGGERS = {
    "resource_fts_insert": """
        CREATE TRIGGER resource_fts_insert AFTER INSERT ON resource BEGIN
            INSERT INTO resource_fts (rowid, title, tags) VALUES (new.seq, new.title, new.tags);
        END""",
    "resource_fts_delete": """
        CREATE TRIGGER resource_fts_delete AFTER DELETE ON resource BEGIN
            INSERT INTO resource_fts (resource_fts, rowid, title, tags)
            VALUES ('delete', old.seq, old.title, old.tags);
        END""",
    "resource_fts_update": """
        CREATE TRIGGER resource_fts_update AFTER UPDATE OF title, tags ON resource BEGIN
            INSERT INTO resource_fts (resource_fts, rowid, title, tags)
            VALUES ('delete', old.seq, old.title, old.tags);
            INSERT INTO resource_fts (rowid, title, tags) VALUES (new.seq, new.title, new.tags);
        END""",
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_search_triggers() -> None:
    if not _postgres():
        for ddl in _SQLITE_TRIGGERS.values():
            op.execute(ddl)


def drop_search_triggers() -> None:
    if not _postgres():
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


@contextmanager
def search_triggers_suspended() -> Iterator[None]:
    """Around a batch migration of `resource` on SQLite: drops the triggers, runs the block,
    recreates them and rebuilds the index from the table."""
    drop_search_triggers()
    yield
    create_search_triggers()
    if not _postgres():
        op.execute("INSERT INTO resource_fts (resource_fts) VALUES ('rebuild')")


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name", name="uq_community_name"),
        sa.UniqueConstraint("team_id", "channel_id", name="uq_community_channel"),
    )
    op.create_table(
        "community_skill",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "slug"),
    )
    op.create_index("ix_community_skill_slug", "community_skill", ["team_id", "slug"])
    op.create_table(
        "community_member",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.Boolean(), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "user_id"),
    )
    op.create_index("ix_community_member_user", "community_member", ["team_id", "user_id"])
    op.create_table(
        "contribution",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=512), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "ts"),
    )
    op.create_index("ix_contribution_author", "contribution", ["community_id", "user_id", "at"])
    op.create_index("ix_contribution_recent", "contribution", ["community_id", "at"])
    op.create_index("ix_contribution_user", "contribution", ["team_id", "user_id"])
    op.create_table(
        "resource",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tags", sa.String(length=1024), nullable=False),
        sa.Column("community_id", sa.String(length=36), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("shared_by", sa.String(length=32), nullable=True),
        sa.Column("shared_at", UTCDateTime(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("team_id", "key", name="uq_resource_key"),
    )
    op.create_index("ix_resource_recent", "resource", ["team_id", "seq"])
    op.create_index("ix_resource_community", "resource", ["community_id", "seq"])
    op.create_index("ix_resource_message", "resource", ["team_id", "channel_id", "message_ts"])
    op.create_index("ix_resource_sharer", "resource", ["team_id", "shared_by"])
    op.create_table(
        "resource_open",
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "user_id"),
    )
    op.create_index("ix_resource_open_user", "resource_open", ["team_id", "user_id"])
    with op.batch_alter_table("skill_standing") as batch_op:
        batch_op.add_column(
            sa.Column("contributions", sa.Integer(), nullable=False, server_default="0")
        )
    if _postgres():
        op.execute(
            "ALTER TABLE resource ADD COLUMN search_document tsvector "
            f"GENERATED ALWAYS AS {DOCUMENT} STORED"
        )
        op.execute("CREATE INDEX ix_resource_search ON resource USING gin (search_document)")
    else:
        op.execute(_SQLITE_INDEX)
        create_search_triggers()


def downgrade() -> None:
    drop_search_triggers()
    if _postgres():
        op.execute("DROP INDEX IF EXISTS ix_resource_search")
    else:
        op.execute("DROP TABLE IF EXISTS resource_fts")
    with op.batch_alter_table("skill_standing") as batch_op:
        batch_op.drop_column("contributions")
    for table in (
        "resource_open",
        "resource",
        "contribution",
        "community_member",
        "community_skill",
        "community",
    ):
        op.drop_table(table)
