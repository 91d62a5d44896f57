"""A SENCO can move a comment Heard filed under the wrong outcome: the area it was moved to,
who moved it and when. The mapper's own matches are kept as they were.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("moved_to_area_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("moved_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_comments_moved_by_id_staff_users"), "staff_users", ["moved_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_constraint(op.f("fk_comments_moved_by_id_staff_users"), type_="foreignkey")
        batch.drop_column("moved_at")
        batch.drop_column("moved_by_id")
        batch.drop_column("moved_to_area_id")
