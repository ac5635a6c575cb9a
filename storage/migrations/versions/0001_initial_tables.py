"""initial tables

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kudos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("giver_id", sa.String(length=32), nullable=False),
        sa.Column("receiver_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=128), nullable=False),
        sa.Column("post_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=512), nullable=True),
        sa.Column("give_statement_id", sa.String(length=36), nullable=False),
        sa.Column("receive_statement_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "source_key", "receiver_id", name="uq_kudos_source"),
    )
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kudos_giver_created", ["team_id", "giver_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_kudos_receiver_created", ["team_id", "receiver_id", "created_at"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("voiding", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("statement_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("statement_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_actor", ["team_id", "actor_id"], unique=False)
        batch_op.create_index("ix_outbox_status_seq", ["status", "seq"], unique=False)
        batch_op.create_index("ix_outbox_timestamp", ["statement_timestamp"], unique=False)

    op.create_table(
        "person",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_table(
        "processed_event",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "event_id"),
    )
    op.create_table(
        "workspace",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("home_page", sa.String(length=255), nullable=False),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )


def downgrade() -> None:
    op.drop_table("workspace")
    op.drop_table("processed_event")
    op.drop_table("person")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_timestamp")
        batch_op.drop_index("ix_outbox_status_seq")
        batch_op.drop_index("ix_outbox_actor")

    op.drop_table("outbox")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_receiver_created")
        batch_op.drop_index("ix_kudos_giver_created")

    op.drop_table("kudos")
