"""skills: the catalogue, declarations, endorsements, kudos that name a skill

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "skill",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "slug"),
    )
    op.create_table(
        "person_skill",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "slug"),
    )
    with op.batch_alter_table("person_skill", schema=None) as batch_op:
        batch_op.create_index("ix_person_skill_slug", ["team_id", "slug"], unique=False)
    op.create_table(
        "endorsement",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("endorser_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "endorser_id", "user_id", "slug"),
    )
    with op.batch_alter_table("endorsement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_endorsement_subject", ["team_id", "slug", "user_id"], unique=False
        )
        batch_op.create_index("ix_endorsement_endorser", ["team_id", "endorser_id"], unique=False)
    op.create_table(
        "kudos_skill",
        sa.Column("kudos_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("receiver_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kudos_id", "slug"),
    )
    with op.batch_alter_table("kudos_skill", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kudos_skill_receiver", ["team_id", "slug", "receiver_id"], unique=False
        )
    op.create_table(
        "skill_standing",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("endorsements", sa.Integer(), nullable=False),
        sa.Column("kudos", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("rescore_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "slug", "user_id"),
    )
    with op.batch_alter_table("skill_standing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_skill_standing_rank",
            ["team_id", "slug", "score", "pieces", "user_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_skill_standing_rescore", ["team_id", "slug", "rescore_at"], unique=False
        )
        batch_op.create_index("ix_skill_standing_due", ["rescore_at"], unique=False)
    op.create_table(
        "skill_opt_out",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_table(
        "skill_statement",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("statement_id", "user_id"),
    )
    with op.batch_alter_table("skill_statement", schema=None) as batch_op:
        batch_op.create_index("ix_skill_statement_person", ["team_id", "user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("skill_standing")
    op.drop_table("skill_statement")
    op.drop_table("skill_opt_out")
    op.drop_table("kudos_skill")
    op.drop_table("endorsement")
    op.drop_table("person_skill")
    op.drop_table("skill")
