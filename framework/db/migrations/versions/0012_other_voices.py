"""Every voice the framework names: a parent carer's invite is for a pupil, as a pupil's is;
a partner's invite (and check-in) has no pupil or school, only the kind of service they work
in; and an alert says whose words it holds, so a safeguarding lead knows who said them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PERSPECTIVES = "'children_young_people', 'parent_carers', 'partners'"
PARTNER_INVITE_SHAPE = (
    "(perspective = 'partners' AND pupil_id IS NULL AND school_id IS NULL AND partner_role IS NOT NULL)"
    " OR (perspective <> 'partners' AND pupil_id IS NOT NULL AND school_id IS NOT NULL AND partner_role IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("partner_role", sa.String(16), nullable=True))
        batch.alter_column("pupil_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("school_id", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(op.f("ck_invites_perspective"), f"perspective IN ({PERSPECTIVES})")
        batch.create_check_constraint(op.f("ck_invites_partner_role"),
                                      "partner_role IN ('health', 'social_care', 'education')")
        batch.create_check_constraint(op.f("ck_invites_partner_or_pupil"), PARTNER_INVITE_SHAPE)
    with op.batch_alter_table("survey_sessions") as batch:
        batch.alter_column("pupil_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("safeguarding_alerts") as batch:
        batch.alter_column("pupil_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("school_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("perspective", sa.String(32), nullable=False,
                                   server_default="children_young_people"))
        batch.create_check_constraint(op.f("ck_safeguarding_alerts_perspective"), f"perspective IN ({PERSPECTIVES})")


def downgrade() -> None:
    # Partners' check-ins have no pupil, so they cannot stay once pupil_id is required again;
    # their alerts are kept (alerts are never deleted), so going down fails while one exists.
    partner_sessions = "SELECT id FROM survey_sessions WHERE pupil_id IS NULL"
    for table in ("answers", "comments", "consent_decisions"):
        op.execute(f"DELETE FROM {table} WHERE session_id IN ({partner_sessions})")
    op.execute("DELETE FROM comment_mappings WHERE comment_id NOT IN (SELECT id FROM comments)")
    op.execute(f"UPDATE alert_messages SET message_id = NULL WHERE message_id IN "
               f"(SELECT id FROM transcript_messages WHERE session_id IN ({partner_sessions}))")
    op.execute(f"DELETE FROM transcript_messages WHERE session_id IN ({partner_sessions})")
    op.execute("DELETE FROM survey_sessions WHERE pupil_id IS NULL")
    op.execute("DELETE FROM invites WHERE pupil_id IS NULL")
    with op.batch_alter_table("safeguarding_alerts") as batch:
        batch.drop_constraint(op.f("ck_safeguarding_alerts_perspective"), type_="check")
        batch.drop_column("perspective")
        batch.alter_column("school_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("pupil_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("survey_sessions") as batch:
        batch.alter_column("pupil_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint(op.f("ck_invites_partner_or_pupil"), type_="check")
        batch.drop_constraint(op.f("ck_invites_partner_role"), type_="check")
        batch.drop_constraint(op.f("ck_invites_perspective"), type_="check")
        batch.alter_column("school_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("pupil_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("partner_role")
