"""The outcomes database: schools, staff, pupils, invites, check-ins, answers, comments,
transcripts, safeguarding alerts, outbox, consent and audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A migration is a frozen snapshot: it repeats the vocabularies instead of importing the models.
QUESTION_SETS = ("core", "standard", "full")
WHO_WITH = ("alone", "with_support", "answered_for_me")
ALERT_SOURCES = ("screen", "intent")


def utc(nullable: bool = False) -> dict:
    return {"type_": sa.DateTime(timezone=True), "nullable": nullable}


def one_of(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}"))


def pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def index(table: str, *columns: str, name: str | None = None, **kw) -> None:
    op.create_index(name or op.f(f"ix_{table}_{columns[0]}"), table, list(columns), **kw)


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("urn", sa.String(16), nullable=True),
        sa.Column("created_at", **utc()),
        pk("schools"),
        sa.UniqueConstraint("urn", name=op.f("uq_schools_urn")),
    )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", **utc(nullable=True)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", **utc()),
        sa.Column("last_login_at", **utc(nullable=True)),
        one_of("staff_users", "role", ("admin", "senco", "dsl", "la_officer")),
        sa.CheckConstraint(
            "role IN ('admin', 'la_officer') OR school_id IS NOT NULL",
            name=op.f("ck_staff_users_school_for_school_roles"),
        ),
        fk("staff_users", "school_id", "schools"),
        pk("staff_users"),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    index("staff_users", "school_id")

    op.create_table(
        "pupils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_ref", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("year_group", sa.String(32), nullable=True),
        sa.Column("class_name", sa.String(64), nullable=True),
        sa.Column("created_at", **utc()),
        fk("pupils", "school_id", "schools"),
        pk("pupils"),
        sa.UniqueConstraint("pupil_ref", name=op.f("uq_pupils_pupil_ref")),
    )
    index("pupils", "school_id")

    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.String(64), nullable=False),
        sa.Column("perspective", sa.String(32), nullable=False),
        sa.Column("question_set", sa.String(16), nullable=False),
        sa.Column("expires_at", **utc()),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", **utc()),
        one_of("invites", "question_set", QUESTION_SETS),
        fk("invites", "created_by_id", "staff_users"),
        fk("invites", "pupil_id", "pupils"),
        fk("invites", "school_id", "schools"),
        pk("invites"),
        sa.UniqueConstraint("code", name=op.f("uq_invites_code")),
    )
    index("invites", "pupil_id")
    index("invites", "school_id")

    op.create_table(
        "survey_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.String(64), nullable=False),
        sa.Column("perspective", sa.String(32), nullable=False),
        sa.Column("question_set", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_mode", sa.String(8), nullable=True),
        sa.Column("read_aloud", sa.Boolean(), nullable=False),
        sa.Column("who_with", sa.String(24), nullable=True),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("position", sa.String(160), nullable=True),
        sa.Column("started_at", **utc()),
        sa.Column("updated_at", **utc()),
        sa.Column("finished_at", **utc(nullable=True)),
        one_of("survey_sessions", "status", ("active", "paused", "finished", "stopped")),
        one_of("survey_sessions", "question_set", QUESTION_SETS),
        one_of("survey_sessions", "input_mode", ("tap", "type")),
        one_of("survey_sessions", "who_with", WHO_WITH),
        fk("survey_sessions", "invite_id", "invites"),
        fk("survey_sessions", "pupil_id", "pupils"),
        pk("survey_sessions"),
        sa.UniqueConstraint("sender_id", name=op.f("uq_survey_sessions_sender_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_sessions_token_hash")),
    )
    index("survey_sessions", "invite_id", "status", name="ix_survey_sessions_invite_status")
    index("survey_sessions", "pupil_id")

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(120), nullable=False),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("words", sa.Text(), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("read_aloud", sa.Boolean(), nullable=False),
        sa.Column("who_answered", sa.String(24), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_at", **utc()),
        sa.Column("superseded_at", **utc(nullable=True)),
        one_of("answers", "value", ("yes", "sometimes", "no", "dont_know", "skipped")),
        one_of("answers", "method", ("tapped", "typed", "clarified")),
        one_of("answers", "who_answered", WHO_WITH),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_answers_confidence_range")
        ),
        fk("answers", "replaces_id", "answers", ondelete="SET NULL"),
        fk("answers", "session_id", "survey_sessions", ondelete="CASCADE"),
        pk("answers"),
    )
    index("answers", "session_id")
    current = sa.text("superseded_at IS NULL")
    index(
        "answers", "session_id", "statement_id", name="uq_answers_current",
        unique=True, sqlite_where=current, postgresql_where=current,
    )

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", **utc()),
        one_of("comments", "kind", ("anything_else", "what_would_help")),
        fk("comments", "session_id", "survey_sessions", ondelete="CASCADE"),
        pk("comments"),
    )
    index("comments", "session_id")

    op.create_table(
        "comment_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(120), nullable=False),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        fk("comment_mappings", "comment_id", "comments", ondelete="CASCADE"),
        pk("comment_mappings"),
        sa.UniqueConstraint(
            "comment_id", "statement_id", name=op.f("uq_comment_mappings_comment_id_statement_id")
        ),
    )

    op.create_table(
        "transcript_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("client_message_id", sa.String(64), nullable=True),
        sa.Column("delivered_at", **utc(nullable=True)),
        sa.Column("created_at", **utc()),
        one_of("transcript_messages", "direction", ("in", "out")),
        fk("transcript_messages", "session_id", "survey_sessions", ondelete="CASCADE"),
        pk("transcript_messages"),
        sa.UniqueConstraint(
            "session_id", "client_message_id",
            name=op.f("uq_transcript_messages_session_id_client_message_id"),
        ),
    )

    op.create_table(
        "safeguarding_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("seen_by_id", sa.Integer(), nullable=True),
        sa.Column("seen_at", **utc(nullable=True)),
        sa.Column("actioned_by_id", sa.Integer(), nullable=True),
        sa.Column("actioned_at", **utc(nullable=True)),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", **utc(nullable=True)),
        sa.Column("created_at", **utc()),
        sa.Column("last_message_at", **utc()),
        one_of("safeguarding_alerts", "source", ALERT_SOURCES),
        one_of("safeguarding_alerts", "status", ("open", "seen", "actioned", "closed")),
        fk("safeguarding_alerts", "session_id", "survey_sessions", ondelete="SET NULL"),
        fk("safeguarding_alerts", "pupil_id", "pupils"),
        fk("safeguarding_alerts", "school_id", "schools"),
        fk("safeguarding_alerts", "seen_by_id", "staff_users"),
        fk("safeguarding_alerts", "actioned_by_id", "staff_users"),
        fk("safeguarding_alerts", "closed_by_id", "staff_users"),
        pk("safeguarding_alerts"),
    )
    index("safeguarding_alerts", "session_id")
    index("safeguarding_alerts", "pupil_id")
    index("safeguarding_alerts", "school_id", "status", name="ix_safeguarding_alerts_school_status")

    op.create_table(
        "alert_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("created_at", **utc()),
        one_of("alert_messages", "source", ALERT_SOURCES),
        fk("alert_messages", "alert_id", "safeguarding_alerts", ondelete="CASCADE"),
        fk("alert_messages", "message_id", "transcript_messages", ondelete="SET NULL"),
        pk("alert_messages"),
    )
    index("alert_messages", "alert_id")

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", **utc()),
        sa.Column("sent_at", **utc(nullable=True)),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", **utc()),
        pk("outbox"),
    )
    index("outbox", "sent_at", "next_attempt_at", name="ix_outbox_due")

    op.create_table(
        "consent_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("decided_at", **utc()),
        fk("consent_decisions", "session_id", "survey_sessions", ondelete="CASCADE"),
        pk("consent_decisions"),
    )
    index("consent_decisions", "session_id")

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=True),
        sa.Column("pupil_id", sa.Integer(), nullable=True),  # no foreign key: outlives the pupil
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", **utc()),
        fk("audit_log", "actor_id", "staff_users"),
        pk("audit_log"),
    )
    index("audit_log", "actor_id")
    index("audit_log", "pupil_id")
    index("audit_log", "created_at")


def downgrade() -> None:
    # Children before parents; a table's indexes go with it.
    for table in (
        "audit_log", "consent_decisions", "outbox", "alert_messages", "safeguarding_alerts",
        "transcript_messages", "comment_mappings", "comments", "answers", "survey_sessions",
        "invites", "pupils", "staff_users", "schools",
    ):
        op.drop_table(table)
