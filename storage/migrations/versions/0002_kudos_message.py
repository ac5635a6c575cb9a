"""kudos remember the message they are for, and are found by their recognition post

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_ts", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_kudos_message", ["team_id", "channel_id", "message_ts"], unique=False
        )
        batch_op.create_index("ix_kudos_post", ["team_id", "channel_id", "post_ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_post")
        batch_op.drop_index("ix_kudos_message")
        batch_op.drop_column("message_ts")
