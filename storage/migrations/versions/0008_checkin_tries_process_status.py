"""RSVPs count wrong check-in codes, so the limit holds across replicas; each process's
latest health check, for `guildbot status`

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checkin_failures", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "process_status",
        sa.Column("process_id", sa.String(length=64), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarder_state", sa.String(length=16), nullable=False),
        sa.Column("forwarder_detail", sa.Text(), nullable=True),
        sa.Column("last_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("process_id"),
    )


def downgrade() -> None:
    op.drop_table("process_status")
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.drop_column("checkin_failures")
