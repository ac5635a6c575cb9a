"""routed questions remember their DM (to update it once the question is answered) and the
routing step that chose them (so a retried step routes no one new)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question_route", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column("dm_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dm_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question_route", schema=None) as batch_op:
        batch_op.drop_column("dm_ts")
        batch_op.drop_column("dm_channel")
        batch_op.drop_column("cause")
