"""The outcomes database: every table, as SQLAlchemy 2 models.

The chat side (survey sessions, answers, transcript) knows a pupil only by `pupil_ref`;
names live in `pupils` for staff. All times are UTC and timezone-aware, on SQLite too.
Fixed vocabularies are CHECK constraints so a bad value fails in the database, not later.
The schema is created by the Alembic migrations in ./migrations, never by create_all.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from framework.safeguarding import safeguarding_categories
from framework.schema import QUESTION_SETS
from framework.survey import COMMENT_KINDS

ROLES = ("admin", "senco", "dsl", "la_officer")
ROLES_WITHOUT_SCHOOL = ("admin", "la_officer")
DEFAULT_PERSPECTIVE = "children_young_people"
PARENT_CARERS = "parent_carers"  # answer about a pupil, beside the pupil's own answers
PARTNERS = "partners"  # answer about their service: no pupil, no school; the council invites them
PERSPECTIVES = (DEFAULT_PERSPECTIVE, PARENT_CARERS, PARTNERS)  # framework.schema.Perspective
PARTNER_ROLES = ("health", "social_care", "education")  # the kind of service a partner works in
SESSION_STATUSES = ("active", "paused", "finished", "stopped")
UNFINISHED_STATUSES = ("active", "paused")
INPUT_MODES = ("tap", "type")
WHO_WITH = ("alone", "with_support", "answered_for_me")
ATTEMPT_KINDS = ("invite_code", "staff_sign_in")
ANSWER_VALUES = ("yes", "sometimes", "no", "dont_know", "skipped")  # framework/answer_scale.yml
ANSWER_METHODS = ("tapped", "typed", "clarified")
DIRECTIONS = ("in", "out")
ALERT_SOURCES = ("screen", "intent")
ALERT_STATUSES = ("open", "seen", "actioned", "closed")  # in the order an alert moves through them
HELPED_VALUES = ("yes", "a_bit", "no", "skipped")  # replies to "Did that help?" (framework/we_did.yml)

# Fixed constraint names, so migrations (and SQLite batch rebuilds) can find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_pupil_ref() -> str:
    return secrets.token_hex(12)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores no zone, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database: use an aware UTC time")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """CHECK that `column` holds one of `values` (NULL passes; nullability is the column's job)."""
    return CheckConstraint(f"{column} IN ({sql_list(values)})", name=column)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class Council(Base):
    """A local authority: its officers see the figures of its schools, and of no others."""

    __tablename__ = "councils"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    urn: Mapped[str | None] = mapped_column(String(16), unique=True)  # DfE Unique Reference Number
    # None: in no council's figures until an administrator says whose it is.
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    council: Mapped[Council | None] = relationship()


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        one_of("role", ROLES),
        CheckConstraint(
            f"role IN ({sql_list(ROLES_WITHOUT_SCHOOL)}) OR school_id IS NOT NULL",
            name="school_for_school_roles",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower case
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2
    role: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    # A local authority officer's council (None: they see no figures until an administrator sets it).
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(default=0)  # in a row, from anywhere
    locked_until: Mapped[datetime | None]  # no tries before this from an address they never signed in from
    # In each sign-in cookie; raised on signing out and on a new password, which ends every copy.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # An administrator set the password (and so knows it): the person must choose their own first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret (base32), when its first code was
    # accepted (None: not set up yet), and the time step of the last code accepted, so no code
    # works twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    school: Mapped[School | None] = relationship()
    council: Mapped[Council | None] = relationship()


class Pupil(Base):
    __tablename__ = "pupils"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_pupil_ref)
    # Staff side only: the chat side never needs these.
    display_name: Mapped[str] = mapped_column(String(200))
    year_group: Mapped[str | None] = mapped_column(String(32))
    class_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()


# A partner's invite names the kind of service and no pupil or school; every other invite a pupil
# and their school, and no service.
PARTNER_INVITE_SHAPE = (
    f"(perspective = '{PARTNERS}' AND pupil_id IS NULL AND school_id IS NULL AND partner_role IS NOT NULL)"
    f" OR (perspective <> '{PARTNERS}' AND pupil_id IS NOT NULL AND school_id IS NOT NULL AND partner_role IS NULL)"
)


class Invite(Base):
    __tablename__ = "invites"
    __table_args__ = (
        one_of("question_set", QUESTION_SETS),
        one_of("perspective", PERSPECTIVES),
        one_of("partner_role", PARTNER_ROLES),
        CheckConstraint(PARTNER_INVITE_SHAPE, name="partner_or_pupil"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # bare form, see codes.py
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    perspective: Mapped[str] = mapped_column(String(32), default=DEFAULT_PERSPECTIVE)
    partner_role: Mapped[str | None] = mapped_column(String(16))
    question_set: Mapped[str] = mapped_column(String(16), default="standard")
    expires_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pupil: Mapped[Pupil | None] = relationship()
    school: Mapped[School | None] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at


class SurveySession(Base):
    """One check-in. Preferences are columns: staff are shown how the views were gathered."""

    __tablename__ = "survey_sessions"
    __table_args__ = (
        one_of("status", SESSION_STATUSES),
        one_of("question_set", QUESTION_SETS),
        one_of("input_mode", INPUT_MODES),
        one_of("who_with", WHO_WITH),
        Index("ix_survey_sessions_invite_status", "invite_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("invites.id"))
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"), index=True)  # None: a partner's
    framework_id: Mapped[str] = mapped_column(String(64))
    perspective: Mapped[str] = mapped_column(String(32))
    question_set: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    input_mode: Mapped[str | None] = mapped_column(String(8))
    read_aloud: Mapped[bool] = mapped_column(default=False)
    who_with: Mapped[str | None] = mapped_column(String(24))
    # Rasa's conversation id: made by the server, never by the client.
    sender_id: Mapped[str] = mapped_column(String(64), unique=True)
    # sha256 of the bearer token the widget holds; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The step to resume at (framework.survey.Step.key, e.g. "question:york.safe.1").
    position: Mapped[str | None] = mapped_column(String(160))
    # When the young person said the read-back was right: a break after it resumes at consent.
    readback_confirmed_at: Mapped[datetime | None]
    # When the young person asked to stop with answers given: who may see them is asked before
    # the check-in ends (framework.checkin.stop), and a return resumes at that question.
    stop_asked_at: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]

    invite: Mapped[Invite] = relationship()
    pupil: Mapped[Pupil | None] = relationship()


class Answer(Base):
    """One answer to one statement. A change makes a new row and marks the old one superseded."""

    __tablename__ = "answers"
    __table_args__ = (
        one_of("value", ANSWER_VALUES),
        one_of("method", ANSWER_METHODS),
        one_of("who_answered", WHO_WITH),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
        # At most one current answer per statement in a session.
        Index(
            "uq_answers_current",
            "session_id",
            "statement_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(16))
    words: Mapped[str | None] = mapped_column(Text)  # exactly as typed
    method: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    read_aloud: Mapped[bool]
    who_answered: Mapped[str | None] = mapped_column(String(24))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]

    @hybrid_property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @is_current.inplace.expression
    @classmethod
    def _is_current_expression(cls):
        return cls.superseded_at.is_(None)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (one_of("kind", COMMENT_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)  # exactly as given
    # The words of the comment cards the young person chose (text joins them); None when typed.
    cards: Mapped[list | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A SENCO moved it to this outcome area (the mapper's matches stay as they were): who and
    # when. None: it is where Heard filed it. Each move is also in the audit log.
    moved_to_area_id: Mapped[str | None] = mapped_column(String(64))
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    moved_at: Mapped[datetime | None]

    moved_by: Mapped[StaffUser | None] = relationship()

    mappings: Mapped[list[CommentMapping]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", passive_deletes=True,
        order_by="desc(CommentMapping.score)",
    )


class CommentMapping(Base):
    """An outcome statement a comment speaks to, as scored by the mapper."""

    __tablename__ = "comment_mappings"
    __table_args__ = (UniqueConstraint("comment_id", "statement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    statement_id: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)

    comment: Mapped[Comment] = relationship(back_populates="mappings")


class TranscriptMessage(Base):
    """Every message in and out, word for word. `delivered_at` is set once Rasa has an incoming one;
    `handled_at` once the action server has stored what it said (in the same transaction), so a
    message Rasa is sent again is recognised and never stored twice."""

    __tablename__ = "transcript_messages"
    __table_args__ = (
        one_of("direction", DIRECTIONS),
        # A double-submitted message is stored once (NULL ids never clash).
        UniqueConstraint("session_id", "client_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict | None]
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SafeguardingAlert(Base):
    """A possible disclosure. Never deleted: not by retention, not by "delete my data".

    A flood of worrying messages from one session is one alert; each message is an AlertMessage.
    `words` are the exact words of its most serious message (by category severity; the earliest
    among equals): the headline the safeguarding lead reads first. `categories` and `evidence`
    gather all messages'.
    """

    __tablename__ = "safeguarding_alerts"
    __table_args__ = (
        one_of("source", ALERT_SOURCES),
        one_of("status", ALERT_STATUSES),
        one_of("perspective", PERSPECTIVES),
        Index("ix_safeguarding_alerts_school_status", "school_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL: the alert outlives the session when a pupil's data is deleted.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_sessions.id", ondelete="SET NULL"), index=True
    )
    # The pupil the check-in is about and their school; None for a partner's check-in (no pupil).
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    # Whose words they are: the pupil's, their parent carer's, or a partner's (kept if the session goes).
    perspective: Mapped[str] = mapped_column(String(32), default=DEFAULT_PERSPECTIVE,
                                             server_default=DEFAULT_PERSPECTIVE)
    words: Mapped[str] = mapped_column(Text)
    context: Mapped[list]  # the messages just before: [{"direction", "text", "at"}, ...]
    categories: Mapped[list]
    evidence: Mapped[list]
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="open")
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    seen_at: Mapped[datetime | None]
    actioned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actioned_at: Mapped[datetime | None]
    action_taken: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    pupil: Mapped[Pupil | None] = relationship()
    messages: Mapped[list[AlertMessage]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="AlertMessage.id"
    )


    @property
    def messages_most_serious_first(self) -> list[AlertMessage]:
        """The messages by severity of their categories, most serious first; equals in order."""
        severity = safeguarding_categories().severity
        return sorted(self.messages, key=lambda m: severity(m.categories))


@event.listens_for(SafeguardingAlert, "before_delete")
def _never_delete_alerts(_mapper, _connection, alert: SafeguardingAlert) -> None:
    raise PermissionError(f"safeguarding alert {alert.id} cannot be deleted: alerts are kept for good")


class AlertMessage(Base):
    """One worrying message in an alert. The words are copied so they outlive the transcript."""

    __tablename__ = "alert_messages"
    __table_args__ = (one_of("source", ALERT_SOURCES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_alerts.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("transcript_messages.id", ondelete="SET NULL"))
    words: Mapped[str] = mapped_column(Text)
    categories: Mapped[list]
    evidence: Mapped[list]
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alert: Mapped[SafeguardingAlert] = relationship(back_populates="messages")


class OutboxEmail(Base):
    """An email waiting to go, retried with backoff until sent. An alert's email names the alert:
    if it has not gone after a while, admins are told (`escalated_at`) and staff pages say so."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("safeguarding_alerts.id"), index=True)
    escalated_at: Mapped[datetime | None]


class SchoolAction(Base):
    """"You said, we did": what a school will do about one answer or comment of a check-in (what,
    who, by when), with the sentence the young person will hear ("Now you can …"), written by a
    SENCO. Once done, it is told at the young person's next check-in (`told_session_id`), and
    they say whether it helped."""

    __tablename__ = "school_actions"
    __table_args__ = (
        one_of("helped", HELPED_VALUES),
        one_of("helped_method", ANSWER_METHODS),
        CheckConstraint("(answer_id IS NULL) <> (comment_id IS NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    area_id: Mapped[str] = mapped_column(String(64))  # the area the answer's question or comment's prompt was in
    what: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(120))
    due_on: Mapped[date]
    child_words: Mapped[str] = mapped_column(String(200))  # the school's part of "Now …", checked as plain
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    told_session_id: Mapped[int | None] = mapped_column(ForeignKey("survey_sessions.id", ondelete="SET NULL"),
                                                        index=True)
    told_at: Mapped[datetime | None]
    helped: Mapped[str | None] = mapped_column(String(16))
    helped_method: Mapped[str | None] = mapped_column(String(16))
    helped_words: Mapped[str | None] = mapped_column(Text)  # exactly as typed
    helped_at: Mapped[datetime | None]

    session: Mapped[SurveySession] = relationship(foreign_keys=[session_id])
    answer: Mapped[Answer | None] = relationship()
    comment: Mapped[Comment | None] = relationship()


class ConsentDecision(Base):
    """Who the young person said may see their answers. The latest decision counts."""

    __tablename__ = "consent_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("survey_sessions.id", ondelete="CASCADE"), index=True)
    audiences: Mapped[list]
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what to which record. Every read of a child's answers writes one."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)  # None: the system
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # Deliberately no foreign key: the trail keeps the id after the pupil's data is deleted.
    pupil_id: Mapped[int | None] = mapped_column(index=True)
    detail: Mapped[dict | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AccessAttempt(Base):
    """One try at a guessable secret (an invite code, a staff password), written before it is
    checked, so tries made at once, or through several web workers, all count. Kept a few
    weeks, then deleted."""

    __tablename__ = "access_attempts"
    __table_args__ = (one_of("kind", ATTEMPT_KINDS), Index("ix_access_attempts_kind_address_at", "kind", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))  # a keyed hash of the network address (and account)
    succeeded: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
