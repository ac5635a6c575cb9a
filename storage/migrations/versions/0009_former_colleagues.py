"""a session's organiser and presenter may be a former colleague (erased: NULL)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lunch_session") as batch_op:
        batch_op.alter_column("organiser_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.alter_column("presenter_id", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    # Nobody to name any more: the sessions keep a placeholder id.
    for column in ("organiser_id", "presenter_id"):
        op.execute(f"UPDATE lunch_session SET {column} = '' WHERE {column} IS NULL")
    with op.batch_alter_table("lunch_session") as batch_op:
        batch_op.alter_column("organiser_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("presenter_id", existing_type=sa.String(length=32), nullable=False)
