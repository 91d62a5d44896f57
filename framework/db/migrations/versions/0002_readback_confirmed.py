"""When the young person said the read-back was right, so a break at the consent question
resumes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_sessions") as batch:
        batch.add_column(sa.Column("readback_confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_sessions") as batch:
        batch.drop_column("readback_confirmed_at")
