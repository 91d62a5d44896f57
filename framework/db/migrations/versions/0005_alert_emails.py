"""Which alert an email is about, and when admins were told it had not gone, so an alert
email that keeps failing reaches a person another way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("alert_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_outbox_alert_id_safeguarding_alerts", "safeguarding_alerts", ["alert_id"], ["id"])
        batch.create_index("ix_outbox_alert_id", ["alert_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_alert_id")
        batch.drop_constraint("fk_outbox_alert_id_safeguarding_alerts", type_="foreignkey")
        batch.drop_column("escalated_at")
        batch.drop_column("alert_id")
