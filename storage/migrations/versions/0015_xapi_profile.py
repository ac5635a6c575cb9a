"""Statements that follow guildbot's xAPI Profile: channel names, a session's gap skill, the
standing `rated` statement

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_channel",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id"),
    )
    with op.batch_alter_table("lunch_session") as batch:
        batch.add_column(sa.Column("gap_slug", sa.String(length=64), nullable=True))
    with op.batch_alter_table("rsvp") as batch:
        batch.add_column(sa.Column("rated_statement_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rsvp") as batch:
        batch.drop_column("rated_statement_id")
    with op.batch_alter_table("lunch_session") as batch:
        batch.drop_column("gap_slug")
    op.drop_table("slack_channel")
