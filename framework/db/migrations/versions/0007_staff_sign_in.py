"""Staff sign-ins: tries counted with the invite codes' (per address and account); a session
version per account, so signing out or a new password ends every copy of a sign-in cookie; and
a password an administrator set must be changed at the next sign-in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _kinds(*kinds: str) -> None:
    listed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("access_attempts") as batch:
        batch.drop_constraint(op.f("ck_access_attempts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_access_attempts_kind"), f"kind IN ({listed})")


def upgrade() -> None:
    _kinds("invite_code", "staff_sign_in")
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("session_version")
    op.execute("DELETE FROM access_attempts WHERE kind = 'staff_sign_in'")
    _kinds("invite_code")
