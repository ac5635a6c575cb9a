"""person.display_name becomes full_name: statements name people as Slack shows them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Older than any cache age: each cached profile is fetched from Slack at its next use.
_STALE = datetime(2000, 1, 1, tzinfo=UTC)
_PERSON = sa.table("person", sa.column("refreshed_at", UTCDateTime()))


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.alter_column(
            "display_name", new_column_name="full_name", existing_type=sa.String(length=255)
        )
    # The rows hold display names; the rows stay (erasure reads their e-mail addresses).
    op.execute(_PERSON.update().values(refreshed_at=_STALE))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.alter_column(
            "full_name", new_column_name="display_name", existing_type=sa.String(length=255)
        )
