""""You said, we did": what a school will do about one answer or comment of a check-in, told
to the young person at their next check-in, and whether they said it helped.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("who", sa.String(120), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("child_words", sa.String(200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("told_session_id", sa.Integer(), nullable=True),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("helped", sa.String(16), nullable=True),
        sa.Column("helped_method", sa.String(16), nullable=True),
        sa.Column("helped_words", sa.Text(), nullable=True),
        sa.Column("helped_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("helped IN ('yes', 'a_bit', 'no', 'skipped')", name=op.f("ck_school_actions_helped")),
        sa.CheckConstraint("helped_method IN ('tapped', 'typed', 'clarified')",
                           name=op.f("ck_school_actions_helped_method")),
        sa.CheckConstraint("(answer_id IS NULL) <> (comment_id IS NULL)", name=op.f("ck_school_actions_one_source")),
        sa.ForeignKeyConstraint(["session_id"], ["survey_sessions.id"], ondelete="CASCADE",
                                name=op.f("fk_school_actions_session_id_survey_sessions")),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"], name=op.f("fk_school_actions_pupil_id_pupils")),
        sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE",
                                name=op.f("fk_school_actions_answer_id_answers")),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE",
                                name=op.f("fk_school_actions_comment_id_comments")),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"],
                                name=op.f("fk_school_actions_created_by_id_staff_users")),
        sa.ForeignKeyConstraint(["done_by_id"], ["staff_users.id"],
                                name=op.f("fk_school_actions_done_by_id_staff_users")),
        sa.ForeignKeyConstraint(["told_session_id"], ["survey_sessions.id"], ondelete="SET NULL",
                                name=op.f("fk_school_actions_told_session_id_survey_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_actions")),
    )
    op.create_index(op.f("ix_school_actions_session_id"), "school_actions", ["session_id"])
    op.create_index(op.f("ix_school_actions_pupil_id"), "school_actions", ["pupil_id"])
    op.create_index(op.f("ix_school_actions_told_session_id"), "school_actions", ["told_session_id"])


def downgrade() -> None:
    op.drop_table("school_actions")
