"""Tries at invite codes, counted in the database (each written before it is checked) rather
than in one web process's memory.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('invite_code')", name=op.f("ck_access_attempts_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_attempts")),
    )
    op.create_index("ix_access_attempts_kind_address_at", "access_attempts", ["kind", "address", "at"])
    op.create_index(op.f("ix_access_attempts_at"), "access_attempts", ["at"])


def downgrade() -> None:
    op.drop_table("access_attempts")
