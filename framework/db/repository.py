"""Every read and write of the outcomes database that bot/ and actions/ share.

Plain functions taking a SQLAlchemy Session. They flush, so new rows have ids, but never
commit: the caller owns the transaction. `now` defaults to the current UTC time; tests pass it.

Safeguarding alerts are never deleted. There is no function that deletes one, the models
refuse an ORM delete, and delete_pupil_data() keeps every alert (and the pupil's record
while an alert names them) and reports how many it kept.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Select, delete, distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from framework.db.codes import generate_code, normalise_code
from framework.db.models import (
    ALERT_SOURCES,
    ALERT_STATUSES,
    ANSWER_METHODS,
    ANSWER_VALUES,
    DEFAULT_PERSPECTIVE,
    DIRECTIONS,
    INPUT_MODES,
    PARTNER_ROLES,
    PARTNERS,
    PERSPECTIVES,
    ROLES,
    SESSION_STATUSES,
    UNFINISHED_STATUSES,
    WHO_WITH,
    AccessAttempt,
    AlertMessage,
    Answer,
    AuditEntry,
    Comment,
    CommentMapping,
    ConsentDecision,
    Council,
    Invite,
    OutboxEmail,
    Pupil,
    SafeguardingAlert,
    School,
    SchoolAction,
    StaffUser,
    SurveySession,
    TranscriptMessage,
    utcnow,
)
from framework.schema import QUESTION_SETS
from framework.survey import COMMENT_KINDS

INVITE_LIFETIME = timedelta(days=28)
ALERT_GROUPING_WINDOW = timedelta(minutes=10)  # worrying messages this close together make one alert
ALERT_CONTEXT_MESSAGES = 6
RETRY_FIRST_DELAY = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=1)
RESUMED = "checkin_resumed"  # the audit action: a paused check-in was picked up again with its code


def _require(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


# ---- schools, staff, pupils -------------------------------------------------------------


def create_council(db: Session, name: str) -> Council:
    council = Council(name=name)
    db.add(council)
    db.flush()
    return council


def find_council_by_name(db: Session, name: str) -> Council | None:
    return db.scalar(select(Council).where(func.lower(Council.name) == name.lower()))


def list_councils(db: Session) -> list[Council]:
    return list(db.scalars(select(Council).order_by(Council.name, Council.id)))


def _count_by(db: Session, key, *where) -> dict[int | None, int]:
    """How many rows there are for each value of `key` (e.g. Pupil.school_id), of those `where` allows."""
    return dict(db.execute(select(key, func.count()).where(*where).group_by(key)).all())


def councils_with_counts(db: Session) -> list[tuple[Council, int, int]]:
    """Each council with its number of schools and of active officer accounts."""
    schools = _count_by(db, School.council_id)
    officers = _count_by(db, StaffUser.council_id, StaffUser.council_id.is_not(None), StaffUser.active)
    return [(council, schools.get(council.id, 0), officers.get(council.id, 0)) for council in list_councils(db)]


def create_school(db: Session, name: str, urn: str | None = None, council: Council | None = None) -> School:
    school = School(name=name, urn=urn, council_id=council.id if council else None)
    db.add(school)
    db.flush()
    return school


def find_school_by_urn(db: Session, urn: str) -> School | None:
    return db.scalar(select(School).where(School.urn == urn))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_staff(
    db: Session, email: str, password_hash: str, role: str, school: School | None = None,
    council: Council | None = None,
) -> StaffUser:
    """`password_hash` is an argon2 hash made by the caller; this module never sees passwords.
    `council`: a local authority officer's."""
    _require(role, ROLES, "role")
    staff = StaffUser(
        email=normalise_email(email),
        password_hash=password_hash,
        role=role,
        school_id=school.id if school else None,
        council_id=council.id if council else None,
    )
    db.add(staff)
    db.flush()
    return staff


def find_staff_by_email(db: Session, email: str) -> StaffUser | None:
    return db.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def staff_for_school(db: Session, school_id: int, role: str | None = None) -> list[StaffUser]:
    """Active staff at one school, of one role if given, e.g. the safeguarding leads to tell."""
    query = select(StaffUser).where(StaffUser.school_id == school_id, StaffUser.active)
    if role is not None:
        _require(role, ROLES, "role")
        query = query.where(StaffUser.role == role)
    return list(db.scalars(query.order_by(StaffUser.id)))


def active_admins(db: Session) -> list[StaffUser]:
    """Admins to tell when a school's safeguarding lead cannot be reached."""
    return list(db.scalars(
        select(StaffUser).where(StaffUser.role == "admin", StaffUser.active).order_by(StaffUser.id)))


def list_schools(db: Session) -> list[School]:
    return list(db.scalars(select(School).options(selectinload(School.council)).order_by(School.name, School.id)))


def schools_with_counts(db: Session) -> list[tuple[School, int, int]]:
    """Each school with its number of pupils and of active staff (counts only: no names)."""
    pupils = _count_by(db, Pupil.school_id)
    staff = _count_by(db, StaffUser.school_id, StaffUser.school_id.is_not(None), StaffUser.active)
    return [(school, pupils.get(school.id, 0), staff.get(school.id, 0)) for school in list_schools(db)]


def list_staff(db: Session) -> list[StaffUser]:
    """Every staff account, with its school, by role and email."""
    return list(db.scalars(select(StaffUser).options(selectinload(StaffUser.school), selectinload(StaffUser.council))
                           .order_by(StaffUser.role, StaffUser.email)))


def create_pupil(db: Session, school: School, display_name: str, year_group: str | None = None,
                 class_name: str | None = None) -> Pupil:
    pupil = Pupil(school_id=school.id, display_name=display_name, year_group=year_group, class_name=class_name)
    db.add(pupil)
    db.flush()
    return pupil


# ---- invites ------------------------------------------------------------------------------


def create_invite(
    db: Session,
    pupil: Pupil,
    framework_id: str,
    *,
    created_by: StaffUser | None = None,
    perspective: str = DEFAULT_PERSPECTIVE,
    question_set: str = "standard",
    valid_for: timedelta = INVITE_LIFETIME,
    now: datetime | None = None,
) -> Invite:
    """An invite to answer about `pupil`: as the pupil themselves, or as their parent carer."""
    _require(perspective, tuple(p for p in PERSPECTIVES if p != PARTNERS), "a pupil's invite perspective")
    return _new_invite(db, framework_id, created_by, perspective, question_set, valid_for, now,
                       pupil_id=pupil.id, school_id=pupil.school_id)


def create_partner_invite(db: Session, framework_id: str, partner_role: str, *, created_by: StaffUser | None = None,
                          question_set: str = "standard", valid_for: timedelta = INVITE_LIFETIME,
                          now: datetime | None = None) -> Invite:
    """An invite for a partner (a health, social care or education service): no pupil, no school."""
    _require(partner_role, PARTNER_ROLES, "partner_role")
    return _new_invite(db, framework_id, created_by, PARTNERS, question_set, valid_for, now, partner_role=partner_role)


def _new_invite(db: Session, framework_id: str, created_by: StaffUser | None, perspective: str, question_set: str,
                valid_for: timedelta, now: datetime | None, **whom) -> Invite:
    _require(question_set, QUESTION_SETS, "question_set")
    invite = Invite(
        code=_unused_code(db),
        framework_id=framework_id,
        perspective=perspective,
        question_set=question_set,
        expires_at=(now or utcnow()) + valid_for,
        created_by_id=created_by.id if created_by else None,
        **whom,
    )
    db.add(invite)
    db.flush()
    return invite


def _unused_code(db: Session) -> str:
    for _ in range(20):
        code = generate_code()
        if db.scalar(select(Invite.id).where(Invite.code == code)) is None:
            return code
    # 31**8 codes: twenty clashes in a row means the random source is broken.
    raise RuntimeError("could not find an unused invite code")


def find_invite_by_code(db: Session, typed: str) -> Invite | None:
    """The invite for a code as a person typed it (any case, spaces, dashes). Expiry is the caller's check."""
    code = normalise_code(typed)
    if code is None:
        return None
    return db.scalar(select(Invite).where(Invite.code == code))


def open_invites(db: Session, school: School, now: datetime | None = None) -> list[Invite]:
    """A school's invites that have not expired, oldest first."""
    return list(db.scalars(
        select(Invite).where(Invite.school_id == school.id, Invite.expires_at > (now or utcnow())).order_by(Invite.id)
    ))


# ---- survey sessions ------------------------------------------------------------------------


class SessionStart(NamedTuple):
    session: SurveySession
    token: str  # for the widget; only its hash is stored
    resumed: bool


def hash_token(token: str) -> str:
    # The token is 256 random bits, so a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(token.encode()).hexdigest()


def start_or_resume_session(db: Session, invite: Invite) -> SessionStart | None:
    """The invite's unfinished check-in, active again, or a new one; None once the invite's
    check-in is finished or stopped (a code is for one check-in: the SENCO makes a new one).

    Each call issues a fresh token, so a token from before a break stops working. A resume is
    written to the audit log: the pupil's page shows it, in case the code was not theirs to use.
    """
    token = secrets.token_urlsafe(32)
    latest = db.scalar(
        select(SurveySession).where(SurveySession.invite_id == invite.id).order_by(SurveySession.id.desc()).limit(1)
    )
    if latest is not None and latest.status not in UNFINISHED_STATUSES:
        return None
    if latest is not None:
        latest.status = "active"
        latest.token_hash = hash_token(token)
        audit(db, None, RESUMED, "survey_session", latest.id, pupil=invite.pupil)
        return SessionStart(latest, token, resumed=True)
    survey_session = SurveySession(
        invite_id=invite.id,
        pupil_id=invite.pupil_id,
        framework_id=invite.framework_id,
        perspective=invite.perspective,
        question_set=invite.question_set,
        sender_id=secrets.token_hex(16),
        token_hash=hash_token(token),
    )
    db.add(survey_session)
    db.flush()
    return SessionStart(survey_session, token, resumed=False)


def find_session_by_token(db: Session, token: str) -> SurveySession | None:
    return db.scalar(select(SurveySession).where(SurveySession.token_hash == hash_token(token)))


class TokenCheck(NamedTuple):
    session_id: int
    status: str
    last_activity: datetime


def token_check(db: Session, token: str) -> TokenCheck | None:
    """What a chat message's token is checked against, in one query and no ORM objects (every
    turn asks): its check-in, the check-in's status and when it last had a message (`last_activity`)."""
    latest = (select(func.max(TranscriptMessage.created_at))
              .where(TranscriptMessage.session_id == SurveySession.id).scalar_subquery())
    row = db.execute(select(SurveySession.id, SurveySession.status, func.coalesce(latest, SurveySession.started_at))
                     .where(SurveySession.token_hash == hash_token(token))).first()
    return TokenCheck(*row) if row is not None else None


def resumes(db: Session, pupil: Pupil) -> dict[int, list[datetime]]:
    """When each of the pupil's check-ins was picked up again with its code, by session id."""
    entries = db.execute(
        select(AuditEntry.object_id, AuditEntry.created_at)
        .where(AuditEntry.pupil_id == pupil.id, AuditEntry.action == RESUMED)
        .order_by(AuditEntry.id)
    )
    found: dict[int, list[datetime]] = {}
    for object_id, at in entries:
        found.setdefault(int(object_id), []).append(at)
    return found


def find_session_by_sender(db: Session, sender_id: str) -> SurveySession | None:
    return db.scalar(select(SurveySession).where(SurveySession.sender_id == sender_id))


def save_preferences(db: Session, survey_session: SurveySession, *, input_mode: str | None = None,
                     read_aloud: bool | None = None, question_set: str | None = None,
                     who_with: str | None = None) -> None:
    """Store whichever preferences are given; the others stay as they were."""
    if input_mode is not None:
        _require(input_mode, INPUT_MODES, "input_mode")
        survey_session.input_mode = input_mode
    if read_aloud is not None:
        survey_session.read_aloud = read_aloud
    if question_set is not None:
        _require(question_set, QUESTION_SETS, "question_set")
        survey_session.question_set = question_set
    if who_with is not None:
        _require(who_with, WHO_WITH, "who_with")
        survey_session.who_with = who_with
    db.flush()


def set_position(db: Session, survey_session: SurveySession, step_key: str) -> None:
    """Where to resume: a framework.survey.Step key."""
    survey_session.position = step_key
    db.flush()


def confirm_readback(db: Session, survey_session: SurveySession, now: datetime | None = None) -> None:
    survey_session.readback_confirmed_at = now or utcnow()
    db.flush()


def record_stop_asked(db: Session, survey_session: SurveySession, now: datetime | None = None) -> None:
    survey_session.stop_asked_at = now or utcnow()
    db.flush()


def set_status(db: Session, survey_session: SurveySession, status: str, now: datetime | None = None) -> None:
    _require(status, SESSION_STATUSES, "status")
    survey_session.status = status
    if status not in UNFINISHED_STATUSES:
        survey_session.finished_at = now or utcnow()
    db.flush()


# ---- answers and comments ---------------------------------------------------------------------


def record_answer(db: Session, survey_session: SurveySession, statement_id: str, area_id: str, value: str,
                  method: str, *, words: str | None = None, confidence: float | None = None,
                  now: datetime | None = None) -> Answer:
    """Store an answer. An earlier answer to the same statement is kept, marked superseded.

    Read-aloud and who answered are copied from the session's preferences at this moment.
    """
    _require(value, ANSWER_VALUES, "value")
    _require(method, ANSWER_METHODS, "method")
    now = now or utcnow()
    previous = db.scalar(
        select(Answer).where(
            Answer.session_id == survey_session.id, Answer.statement_id == statement_id, Answer.is_current
        )
    )
    if previous is not None:
        previous.superseded_at = now
        db.flush()  # before the insert: only one current answer may exist
    answer = Answer(
        session_id=survey_session.id,
        statement_id=statement_id,
        area_id=area_id,
        value=value,
        words=words,
        method=method,
        confidence=confidence,
        read_aloud=survey_session.read_aloud,
        who_answered=survey_session.who_with,
        replaces_id=previous.id if previous else None,
        created_at=now,
    )
    db.add(answer)
    db.flush()
    return answer


def current_answers(db: Session, survey_session: SurveySession) -> list[Answer]:
    """The answers that stand, oldest first (a changed answer counts from its change)."""
    return list(
        db.scalars(
            select(Answer)
            .where(Answer.session_id == survey_session.id, Answer.is_current)
            .order_by(Answer.id)
        )
    )


def record_comment(db: Session, survey_session: SurveySession, area_id: str, kind: str, text: str,
                   mappings: Iterable[Mapping] = (), cards: list[str] | None = None) -> Comment:
    """Store free text word for word (or the words of the cards chosen), with the statements it maps to.

    `mappings` are the mapper's matches: mappings with statement_id, area_id and score
    (the `heard map --json` shape; other keys are ignored).
    """
    _require(kind, COMMENT_KINDS, "kind")
    matches = [CommentMapping(statement_id=m["statement_id"], area_id=m["area_id"], score=float(m["score"]))
               for m in mappings]
    comment = Comment(session_id=survey_session.id, area_id=area_id, kind=kind, text=text, cards=cards, mappings=matches)
    db.add(comment)
    db.flush()
    return comment


def move_comment(db: Session, comment: Comment, area_id: str | None, staff: StaffUser,
                 now: datetime | None = None) -> None:
    """File a comment under another outcome area, as `staff` decided; None puts it back where
    Heard filed it. The words and the mapper's matches are never changed."""
    comment.moved_to_area_id = area_id
    comment.moved_by_id = staff.id if area_id else None
    comment.moved_at = (now or utcnow()) if area_id else None
    db.flush()


def comments_for(db: Session, survey_session: SurveySession) -> list[Comment]:
    """A session's free-text comments, in the order given."""
    return list(db.scalars(select(Comment).where(Comment.session_id == survey_session.id).order_by(Comment.id)))


# ---- transcript -------------------------------------------------------------------------------


def add_message(db: Session, survey_session: SurveySession, direction: str, text: str, *,
                payload: dict | None = None, client_message_id: str | None = None) -> tuple[TranscriptMessage, bool]:
    """Store a message word for word. Returns (message, created): a repeated client_message_id
    in the same session returns the stored message and False, so double-submits count once."""
    _require(direction, DIRECTIONS, "direction")
    if client_message_id is not None:
        stored = _message_by_client_id(db, survey_session, client_message_id)
        if stored is not None:
            return stored, False
    message = TranscriptMessage(session_id=survey_session.id, direction=direction, text=text, payload=payload,
                                client_message_id=client_message_id)
    if client_message_id is None:  # nothing to clash with: no savepoint needed
        db.add(message)
        db.flush()
        return message, True
    try:
        with db.begin_nested():
            db.add(message)
    except IntegrityError:
        # Another request stored the same message between our look-up and this insert.
        stored = _message_by_client_id(db, survey_session, client_message_id) if client_message_id else None
        if stored is None:
            raise
        return stored, False
    return message, True


def _message_by_client_id(db: Session, survey_session: SurveySession, client_message_id: str) -> TranscriptMessage | None:
    return db.scalar(
        select(TranscriptMessage).where(
            TranscriptMessage.session_id == survey_session.id,
            TranscriptMessage.client_message_id == client_message_id,
        )
    )


def mark_delivered(db: Session, message: TranscriptMessage, now: datetime | None = None) -> None:
    """Rasa has processed this incoming message."""
    message.delivered_at = now or utcnow()
    db.flush()


def incoming_message(db: Session, survey_session: SurveySession, message_id: int | None) -> TranscriptMessage | None:
    """This session's incoming message `message_id`, or None (no id, or not this session's)."""
    if message_id is None:
        return None
    return db.scalar(select(TranscriptMessage).where(
        TranscriptMessage.id == message_id, TranscriptMessage.session_id == survey_session.id,
        TranscriptMessage.direction == "in",
    ))


def mark_handled(db: Session, message: TranscriptMessage, now: datetime | None = None) -> None:
    """The action server has stored what this message said (call in that same transaction)."""
    if message.handled_at is None:
        message.handled_at = now or utcnow()
        db.flush()


def undelivered_messages(db: Session, survey_session: SurveySession) -> list[TranscriptMessage]:
    """Incoming messages Rasa has not processed yet, oldest first."""
    return list(
        db.scalars(
            select(TranscriptMessage)
            .where(
                TranscriptMessage.session_id == survey_session.id,
                TranscriptMessage.direction == "in",
                TranscriptMessage.delivered_at.is_(None),
            )
            .order_by(TranscriptMessage.id)
        )
    )


def recent_messages(
    db: Session, survey_session: SurveySession, *, before: TranscriptMessage | None = None,
    direction: str | None = None, limit: int = ALERT_CONTEXT_MESSAGES,
) -> list[TranscriptMessage]:
    """The last `limit` messages of a session (before `before`, in `direction`, if given), oldest first."""
    return _recent(db, TranscriptMessage, survey_session, before, direction, limit)


def recent_texts(db: Session, survey_session: SurveySession, *, before: TranscriptMessage,
                 direction: str, limit: int) -> list[str]:
    """recent_messages' words alone: no message objects made (the chat asks at every typed turn)."""
    return _recent(db, TranscriptMessage.text, survey_session, before, direction, limit)


def _recent(db: Session, what, survey_session: SurveySession, before: TranscriptMessage | None,
            direction: str | None, limit: int) -> list:
    query = select(what).where(TranscriptMessage.session_id == survey_session.id)
    if before is not None:
        query = query.where(TranscriptMessage.id < before.id)
    if direction is not None:
        query = query.where(TranscriptMessage.direction == direction)
    newest_first = db.scalars(query.order_by(TranscriptMessage.id.desc()).limit(limit))
    return list(reversed(list(newest_first)))


def add_replies(db: Session, survey_session: SurveySession, replies: Iterable[tuple[str, dict]]) -> list[TranscriptMessage]:
    """Store the bot's messages of one turn, (words, payload) in order, in one INSERT."""
    rows = [TranscriptMessage(session_id=survey_session.id, direction="out", text=text, payload=payload)
            for text, payload in replies]
    db.add_all(rows)
    db.flush()
    return rows


def replies_to(db: Session, message: TranscriptMessage) -> list[TranscriptMessage]:
    """The bot messages stored after an incoming message, up to the next incoming one."""
    next_in = select(TranscriptMessage.id).where(
        TranscriptMessage.session_id == message.session_id, TranscriptMessage.direction == "in",
        TranscriptMessage.id > message.id,
    ).order_by(TranscriptMessage.id).limit(1).scalar_subquery()
    query = select(TranscriptMessage).where(
        TranscriptMessage.session_id == message.session_id, TranscriptMessage.direction == "out",
        TranscriptMessage.id > message.id,
    )
    query = query.where((TranscriptMessage.id < next_in) | next_in.is_(None))
    return list(db.scalars(query.order_by(TranscriptMessage.id)))


# ---- safeguarding alerts ------------------------------------------------------------------------


def raise_alert(db: Session, survey_session: SurveySession, words: str, categories: Iterable[str], evidence: Iterable,
                source: str, *, message: TranscriptMessage | None = None, window: timedelta = ALERT_GROUPING_WINDOW,
                now: datetime | None = None) -> tuple[SafeguardingAlert, bool]:
    """Store a possible disclosure, word for word. Returns (alert, created).

    A message within `window` of the session's last one in a still-open alert joins that
    alert (created is False); if it is more serious than the alert's headline, its words become
    the headline. `message` is the stored transcript message, if any; the messages before it
    become the context.
    """
    _require(source, ALERT_SOURCES, "source")
    now = now or utcnow()
    categories, evidence = list(categories), list(evidence)
    alert = db.scalar(
        select(SafeguardingAlert)
        .where(
            SafeguardingAlert.session_id == survey_session.id,
            SafeguardingAlert.status == "open",
            SafeguardingAlert.last_message_at >= now - window,
        )
        .order_by(SafeguardingAlert.id.desc())
        .limit(1)
    )
    created = alert is None
    if created:
        context = recent_messages(db, survey_session, before=message)
        alert = SafeguardingAlert(
            session_id=survey_session.id,
            pupil_id=survey_session.pupil_id,
            school_id=survey_session.pupil.school_id if survey_session.pupil else None,
            perspective=survey_session.perspective,
            words=words,
            context=[{"direction": m.direction, "text": m.text, "at": m.created_at.isoformat()} for m in context],
            categories=[],
            evidence=[],
            source=source,
            created_at=now,
        )
        db.add(alert)
    # New lists, not in-place edits: SQLAlchemy only sees a JSON column change on assignment.
    alert.categories = alert.categories + [c for c in categories if c not in alert.categories]
    alert.evidence = alert.evidence + [e for e in evidence if e not in alert.evidence]
    alert.last_message_at = now
    alert.messages.append(
        AlertMessage(
            message_id=message.id if message else None,
            words=words,
            categories=categories,
            evidence=evidence,
            source=source,
            created_at=now,
        )
    )
    alert.words = alert.messages_most_serious_first[0].words
    db.flush()
    return alert, created


def list_open_alerts(db: Session, school: School | None = None) -> list[SafeguardingAlert]:
    """Alerts not yet closed, newest first; one school's, or every school's when school is None."""
    query = select(SafeguardingAlert).where(SafeguardingAlert.status != "closed")
    if school is not None:
        query = query.where(SafeguardingAlert.school_id == school.id)
    return list(db.scalars(query.order_by(SafeguardingAlert.created_at.desc(), SafeguardingAlert.id.desc())))


def has_alert(db: Session, survey_session: SurveySession) -> bool:
    """True once this check-in has raised a safeguarding alert (from the screen or the dialogue)."""
    return db.scalar(select(SafeguardingAlert.id).where(SafeguardingAlert.session_id == survey_session.id).limit(1)) \
        is not None


def update_alert_status(
    db: Session,
    alert: SafeguardingAlert,
    status: str,
    staff: StaffUser,
    *,
    action_taken: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move an alert on (open → seen → actioned → closed; never back), recording who and when.

    Actioning or closing needs a note of the action taken (e.g. "no further action", with why).
    """
    _require(status, ALERT_STATUSES, "status")
    if ALERT_STATUSES.index(status) < ALERT_STATUSES.index(alert.status):
        raise ValueError(f"an alert cannot go back from {alert.status} to {status}")
    if action_taken:
        alert.action_taken = action_taken
    if status in ("actioned", "closed") and not alert.action_taken:
        raise ValueError(f"say what action was taken before marking an alert {status}")
    now = now or utcnow()
    if status != "open" and alert.seen_at is None:
        alert.seen_by_id, alert.seen_at = staff.id, now
    if status == "actioned":
        alert.actioned_by_id, alert.actioned_at = staff.id, now
    if status == "closed":
        alert.closed_by_id, alert.closed_at = staff.id, now
    alert.status = status
    db.flush()


# ---- consent and audit -------------------------------------------------------------------------


def record_consent(
    db: Session, survey_session: SurveySession, audiences: Iterable[str], now: datetime | None = None
) -> ConsentDecision:
    """Who the young person says may see their answers. An empty list is a valid choice."""
    decision = ConsentDecision(session_id=survey_session.id, audiences=list(audiences), decided_at=now or utcnow())
    db.add(decision)
    db.flush()
    return decision


def latest_consent(db: Session, survey_session: SurveySession) -> ConsentDecision | None:
    return db.scalar(
        select(ConsentDecision)
        .where(ConsentDecision.session_id == survey_session.id)
        .order_by(ConsentDecision.decided_at.desc(), ConsentDecision.id.desc())
        .limit(1)
    )


def audit(
    db: Session,
    actor: StaffUser | None,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    *,
    pupil: Pupil | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Write one audit entry; actor None means the system itself."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        pupil_id=pupil.id if pupil else None,
        detail=detail,
    )
    db.add(entry)
    db.flush()
    return entry


def audit_entries(db: Session, *, action: str = "", actor: str = "", since: datetime | None = None,
                  until: datetime | None = None, offset: int = 0, limit: int = 100) -> list[tuple[AuditEntry, str | None]]:
    """Audit entries, newest first, each with its actor's email (None: the system): of one
    action, by actors whose email contains `actor` (any case), and in [since, until) if given."""
    query = select(AuditEntry, StaffUser.email).outerjoin(StaffUser, StaffUser.id == AuditEntry.actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(func.lower(StaffUser.email).contains(actor.lower(), autoescape=True))
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    rows = db.execute(query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit))
    return [(entry, email) for entry, email in rows]


def audit_actions(db: Session) -> list[str]:
    """Every action the audit log holds, A to Z."""
    return list(db.scalars(select(distinct(AuditEntry.action)).order_by(AuditEntry.action)))


def audit_trail(db: Session, object_type: str, object_id: str | int,
                actions: Iterable[str]) -> list[tuple[AuditEntry, str]]:
    """The steps taken on one object, oldest first, each with who took it."""
    rows = db.execute(
        select(AuditEntry, StaffUser.email)
        .join(StaffUser, StaffUser.id == AuditEntry.actor_id)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id),
               AuditEntry.action.in_(tuple(actions)))
        .order_by(AuditEntry.id)
    )
    return [(entry, email) for entry, email in rows]


def end_sign_ins(db: Session, staff: StaffUser) -> None:
    """End every sign-in of this account (each cookie holds the version it began with)."""
    _add_one(db, staff, StaffUser.session_version)


def count_failed_sign_in(db: Session, staff: StaffUser) -> int:
    """One more wrong password in a row, added in the database (parallel tries all count): the new count."""
    return _add_one(db, staff, StaffUser.failed_logins)


def _add_one(db: Session, staff: StaffUser, column) -> int:
    value = db.scalar(update(StaffUser).where(StaffUser.id == staff.id).values({column: column + 1})
                      .returning(column).execution_options(synchronize_session=False))
    set_committed_value(staff, column.key, value)  # what the database holds; nothing to write back
    return value


# ---- tries at guessable secrets ----------------------------------------------------------------


def record_attempt(db: Session, kind: str, address: str, now: datetime | None = None) -> AccessAttempt:
    """A try, counted as failed until `attempt_succeeded` says otherwise."""
    attempt = AccessAttempt(kind=kind, address=address, at=now or utcnow())
    db.add(attempt)
    db.flush()
    return attempt


def attempt_succeeded(db: Session, attempt_id: int) -> None:
    db.execute(update(AccessAttempt).where(AccessAttempt.id == attempt_id).values(succeeded=True))


def failed_attempts(db: Session, kind: str, since: datetime, address: str | None = None,
                    excluding: Iterable[str] = ()) -> int:
    """Tries not (or not yet) succeeded since `since`: from one address, or from all but `excluding`."""
    query = select(func.count()).select_from(AccessAttempt).where(
        AccessAttempt.kind == kind, AccessAttempt.at >= since, AccessAttempt.succeeded.is_(False))
    if address is not None:
        query = query.where(AccessAttempt.address == address)
    excluded = list(excluding)
    if excluded:
        query = query.where(AccessAttempt.address.not_in(excluded))
    return db.scalar(query)


def addresses_that_succeeded(db: Session, kind: str, since: datetime) -> set[str]:
    return set(db.scalars(select(AccessAttempt.address).where(
        AccessAttempt.kind == kind, AccessAttempt.at >= since, AccessAttempt.succeeded.is_(True)).distinct()))


def forget_attempt(db: Session, attempt_id: int) -> None:
    db.execute(delete(AccessAttempt).where(AccessAttempt.id == attempt_id))


def forget_attempts(db: Session, before: datetime) -> None:
    db.execute(delete(AccessAttempt).where(AccessAttempt.at < before))


# ---- outbox ------------------------------------------------------------------------------------


def enqueue_email(db: Session, to_address: str, subject: str, body: str, now: datetime | None = None,
                  *, alert: SafeguardingAlert | None = None) -> OutboxEmail:
    """Queue an email; `alert`: the alert it tells someone about (watched until it goes)."""
    now = now or utcnow()
    email = OutboxEmail(to_address=to_address, subject=subject, body=body, next_attempt_at=now, created_at=now,
                        alert_id=alert.id if alert else None)
    db.add(email)
    db.flush()
    return email


def undelivered_alert_emails(db: Session, queued_before: datetime, *, school_id: int | None = None,
                             escalated: bool | None = None) -> list[OutboxEmail]:
    """Alert emails queued before `queued_before` and still not sent, oldest first; of one school's
    alerts, and only those (not) yet escalated, when given."""
    query = select(OutboxEmail).where(
        OutboxEmail.alert_id.is_not(None), OutboxEmail.sent_at.is_(None), OutboxEmail.created_at < queued_before)
    if school_id is not None:
        query = query.join(SafeguardingAlert, SafeguardingAlert.id == OutboxEmail.alert_id).where(
            SafeguardingAlert.school_id == school_id)
    if escalated is not None:
        query = query.where(OutboxEmail.escalated_at.is_not(None) if escalated else OutboxEmail.escalated_at.is_(None))
    return list(db.scalars(query.order_by(OutboxEmail.created_at, OutboxEmail.id)))


def alert_emails(db: Session, alert: SafeguardingAlert) -> list[OutboxEmail]:
    """The emails that told someone about an alert, oldest first."""
    return list(db.scalars(select(OutboxEmail).where(OutboxEmail.alert_id == alert.id).order_by(OutboxEmail.id)))


def schools_without_safeguarding_lead(db: Session) -> list[School]:
    """Schools with no active DSL account: their alerts would reach no one there."""
    has_lead = select(StaffUser.id).where(
        StaffUser.school_id == School.id, StaffUser.role == "dsl", StaffUser.active).exists()
    return list(db.scalars(select(School).where(~has_lead).order_by(School.name, School.id)))


def due_emails(db: Session, now: datetime | None = None, limit: int = 20) -> list[OutboxEmail]:
    """Unsent emails whose time has come, oldest first. On PostgreSQL the rows are locked
    (skipping rows another worker holds) so two workers never send the same email."""
    return list(
        db.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None), OutboxEmail.next_attempt_at <= (now or utcnow()))
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def mark_sent(db: Session, email: OutboxEmail, now: datetime | None = None) -> None:
    email.attempts += 1
    email.sent_at = now or utcnow()
    db.flush()


def mark_failed(db: Session, email: OutboxEmail, error: str, now: datetime | None = None) -> None:
    """Try again later: 1, 2, 4 … minutes after each failure, at most an hour apart, until sent."""
    email.attempts += 1
    email.last_error = error[:2000]
    email.next_attempt_at = (now or utcnow()) + retry_delay(email.attempts)
    db.flush()


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_FIRST_DELAY * 2 ** (attempts - 1), RETRY_MAX_DELAY)


# ---- deleting a pupil's data, and old check-ins ---------------------------------------------------


@dataclass(frozen=True)
class CheckinDeletion:
    sessions: int
    answers: int
    comments: int
    messages: int
    consents: int


def delete_checkins(db: Session, session_ids: Select) -> CheckinDeletion:
    """Delete these check-ins (`session_ids`: a select of SurveySession.id) with everything in them.

    Safeguarding alerts are kept, with their exact words and context (they are copies, so
    they outlive the transcript); they just lose the link to the deleted session.
    """
    message_ids = select(TranscriptMessage.id).where(TranscriptMessage.session_id.in_(session_ids))
    comment_ids = select(Comment.id).where(Comment.session_id.in_(session_ids))

    db.execute(update(SafeguardingAlert).where(SafeguardingAlert.session_id.in_(session_ids)).values(session_id=None))
    db.execute(update(AlertMessage).where(AlertMessage.message_id.in_(message_ids)).values(message_id=None))
    db.execute(delete(CommentMapping).where(CommentMapping.comment_id.in_(comment_ids)))
    # "You said, we did": a plan about these check-ins goes with them; one told at them loses
    # the telling and the reply (it would be told again).
    db.execute(delete(SchoolAction).where(SchoolAction.session_id.in_(session_ids)))
    db.execute(update(SchoolAction).where(SchoolAction.told_session_id.in_(session_ids)).values(
        told_session_id=None, told_at=None, helped=None, helped_method=None, helped_words=None, helped_at=None))

    def delete_rows(model) -> int:
        return db.execute(delete(model).where(model.session_id.in_(session_ids))).rowcount

    counts = {
        "answers": delete_rows(Answer),
        "comments": delete_rows(Comment),
        "messages": delete_rows(TranscriptMessage),
        "consents": delete_rows(ConsentDecision),
    }
    # Materialised first: the select may read the table it deletes from.
    ids = list(db.scalars(session_ids))
    counts["sessions"] = db.execute(delete(SurveySession).where(SurveySession.id.in_(ids))).rowcount if ids else 0
    db.flush()
    return CheckinDeletion(**counts)


def checkins_ended_before(cutoff: datetime) -> Select:
    """The check-ins last touched before `cutoff` (finished, stopped or left), as a select of ids."""
    return select(SurveySession.id).where(
        func.coalesce(SurveySession.finished_at, SurveySession.updated_at) < cutoff)


def pupil_checkins(pupil: Pupil) -> Select:
    """All of a pupil's check-ins, as a select of ids."""
    return select(SurveySession.id).where(SurveySession.pupil_id == pupil.id)


@dataclass(frozen=True)
class PupilDataDeletion:
    checkins: CheckinDeletion
    invites: int
    alerts_kept: int
    pupil_deleted: bool  # False while alerts name the pupil: safeguarding records keep who they are about


def delete_pupil_data(db: Session, pupil: Pupil) -> PupilDataDeletion:
    """"Delete my data": remove the pupil's invites and check-ins with everything in them.

    Safeguarding alerts are kept (see delete_checkins), and the audit log too. The pupil's
    own record goes only when no alert names them.
    """
    checkins = delete_checkins(db, pupil_checkins(pupil))
    invites = db.execute(delete(Invite).where(Invite.pupil_id == pupil.id)).rowcount
    alerts_kept = db.scalar(select(func.count(SafeguardingAlert.id)).where(SafeguardingAlert.pupil_id == pupil.id))
    if not alerts_kept:
        db.delete(pupil)
    db.flush()
    return PupilDataDeletion(checkins, invites, alerts_kept=alerts_kept, pupil_deleted=not alerts_kept)
