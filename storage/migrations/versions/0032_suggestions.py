"""suggestions: people to learn from and communities to join, per learner, and opt-outs

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestion",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "learner_id", "kind", "target_id"),
    )
    op.create_table(
        "suggestion_run",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_index("ix_suggestion_run_due", "suggestion_run", ["refreshed_at"])
    op.create_table(
        "suggestion_opt_out",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("opted_out_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("suggestion_opt_out")
    op.drop_index("ix_suggestion_run_due", "suggestion_run")
    op.drop_table("suggestion_run")
    op.drop_table("suggestion")
