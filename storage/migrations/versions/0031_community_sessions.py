"""community sessions: the community a lunch-and-learn was scheduled from

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lunch_session") as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_lunch_session_community", ["community_id", "starts_at"])


def downgrade() -> None:
    with op.batch_alter_table("lunch_session") as batch_op:
        batch_op.drop_index("ix_lunch_session_community")
        batch_op.drop_column("community_id")
