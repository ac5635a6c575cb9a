"""the inbuilt LRS: statements with their filter keys and attachments, activity definitions,
documents (state, activity and agent profiles) and HTTP Basic credentials

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lrs_statement",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authority", sa.Text(), nullable=True),
        sa.Column("target_id", sa.String(length=36), nullable=True),
        sa.Column("voiding", sa.Boolean(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("fills", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("statement_id"),
    )
    op.create_index("ix_lrs_statement_target", "lrs_statement", ["target_id"])
    op.create_index("ix_lrs_statement_stored", "lrs_statement", ["stored"])
    op.create_table(
        "lrs_statement_key",
        sa.Column("key", sa.String(length=33), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["lrs_statement.seq"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "seq"),
    )
    op.create_index("ix_lrs_statement_key_seq", "lrs_statement_key", ["seq"])
    op.create_table(
        "lrs_attachment",
        sa.Column("sha2", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha2"),
    )
    op.create_table(
        "lrs_statement_attachment",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sha2", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["lrs_statement.seq"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq", "sha2"),
    )
    op.create_index("ix_lrs_statement_attachment_sha2", "lrs_statement_attachment", ["sha2"])
    op.create_table(
        "lrs_activity_definition",
        sa.Column("activity_key", sa.String(length=32), nullable=False),
        sa.Column("definition_hash", sa.String(length=32), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("activity_key", "definition_hash"),
    )
    op.create_table(
        "lrs_document",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agent_key", sa.String(length=32), nullable=True),
        sa.Column("registration", sa.String(length=36), nullable=True),
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("etag", sa.String(length=40), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_lrs_document_scope", "lrs_document", ["scope", "updated"])
    op.create_index("ix_lrs_document_agent", "lrs_document", ["agent_key"])
    op.create_table(
        "lrs_credential",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("lrs_credential")
    op.drop_index("ix_lrs_document_agent", table_name="lrs_document")
    op.drop_index("ix_lrs_document_scope", table_name="lrs_document")
    op.drop_table("lrs_document")
    op.drop_table("lrs_activity_definition")
    op.drop_index("ix_lrs_statement_attachment_sha2", table_name="lrs_statement_attachment")
    op.drop_table("lrs_statement_attachment")
    op.drop_table("lrs_attachment")
    op.drop_index("ix_lrs_statement_key_seq", table_name="lrs_statement_key")
    op.drop_table("lrs_statement_key")
    op.drop_index("ix_lrs_statement_stored", table_name="lrs_statement")
    op.drop_index("ix_lrs_statement_target", table_name="lrs_statement")
    op.drop_table("lrs_statement")
