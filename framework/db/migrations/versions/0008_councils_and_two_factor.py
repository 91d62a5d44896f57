"""Councils: each school and each local authority officer belongs to one, and an officer sees
only their council's schools. Two-factor sign-in for staff: a TOTP secret per account, when it
was confirmed, and the last code's time step (no code works twice).

Existing schools and officers get no council: officers see no figures until an administrator
says which council each school and officer belongs to (safer than every school for everyone).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "councils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_councils")),
        sa.UniqueConstraint("name", name=op.f("uq_councils_name")),
    )
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("council_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_schools_council_id_councils"), "councils", ["council_id"], ["id"])
        batch.create_index(op.f("ix_schools_council_id"), ["council_id"])
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("council_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_staff_users_council_id_councils"), "councils", ["council_id"], ["id"])
        batch.create_index(op.f("ix_staff_users_council_id"), ["council_id"])
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret")
        batch.drop_index(op.f("ix_staff_users_council_id"))
        batch.drop_constraint(op.f("fk_staff_users_council_id_councils"), type_="foreignkey")
        batch.drop_column("council_id")
    with op.batch_alter_table("schools") as batch:
        batch.drop_index(op.f("ix_schools_council_id"))
        batch.drop_constraint(op.f("fk_schools_council_id_councils"), type_="foreignkey")
        batch.drop_column("council_id")
    op.drop_table("councils")
