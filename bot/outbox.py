"""The outbox sender: emails queued in the database go out over SMTP (the standard library's
smtplib), and stay queued, retried with backoff, until the mail server takes them.

An email is claimed (its next try pushed CLAIM_LEASE ahead) in one short transaction, sent
with no transaction open (so a slow mail server never holds the database), and marked sent
or failed in another. A sender that dies mid-way leaves its claims to expire and be tried
again: an email may, rarely, go twice, but is never lost.

The web app runs this every SEND_EVERY seconds, and straight away when an email is queued
in its own process; `heard outbox send` runs it once.
"""
from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session, sessionmaker

from bot.background import repeating
from bot.staff.messages import message
from framework.alerts import ACCOUNTS_PAGE, ALERT_PAGE
from framework.db import repository as repo
from framework.db.models import OutboxEmail, SafeguardingAlert, School, utcnow
from framework.settings import Settings

log = logging.getLogger(__name__)

SEND_EVERY = 10.0  # seconds
# An alert email not gone this long after it was queued: the admins are told, and the school's
# staff pages say so, so the concern reaches a person some other way.
ESCALATE_AFTER = timedelta(minutes=15)
ESCALATION_SUBJECT, UNDELIVERED = message("emails.undelivered_subject"), message("emails.undelivered")
TO_THE_COUNCIL, NO_ERROR_YET = message("emails.undelivered_partner"), message("emails.no_error_yet")
CALL_THE_LEAD, CALL_THE_OFFICER = message("emails.call_the_lead"), message("emails.call_the_officer")
CLAIM_LEASE = timedelta(minutes=5)  # longer than any one run takes
SMTP_TIMEOUT = 20.0  # seconds for each step of talking to the mail server
_NEW_EMAIL = "heard_outbox_new_email"


@dataclass(frozen=True)
class OutboxRun:
    sent: int
    failed: int
    errors: tuple[str, ...] = ()
    escalated: int = 0  # alert emails newly reported to the admins as not delivered


def build_message(email: OutboxEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    # The same id on every try, so a mail system can drop a rare second copy.
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<heard-outbox-{email.id}-{int(email.created_at.timestamp())}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(with_staff_links(email, settings))
    return message


def with_staff_links(email: OutboxEmail, settings: Settings) -> str:
    """The email's body with the staff pages it names (framework/alerts.py) as links to the
    staff site, wherever the settings put it."""
    body = email.body.replace(ACCOUNTS_PAGE, f"{settings.resolved_staff_url}/admin/accounts")
    if email.alert_id is not None:
        body = body.replace(ALERT_PAGE, f"{settings.resolved_staff_url}/alerts/{email.alert_id}")
    return body


def send_due(sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> OutboxRun:
    """Send every email whose time has come (first telling the admins of alert emails that
    have not gone for ESCALATE_AFTER); returns how many went and how many will be retried."""
    escalated = escalate_undelivered(sessions, settings, now)
    sent = failed = 0
    errors: list[str] = []
    while True:
        claimed = _claim_due(sessions, settings, now or utcnow())
        if not claimed:
            break
        results = _deliver(claimed, settings)
        with sessions.begin() as db:
            for email_id, error in results.items():
                email = db.get(OutboxEmail, email_id)
                if error is None:
                    repo.mark_sent(db, email, now=now)
                    sent += 1
                else:
                    repo.mark_failed(db, email, error, now=now)
                    failed += 1
                    errors.append(f"to {email.to_address}: {error}")
    for error in errors:
        log.warning("email not sent, will retry: %s", error)
    return OutboxRun(sent, failed, tuple(errors), escalated)


def escalate_undelivered(sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> int:
    """Email the admins about each alert whose email to its school has not gone for
    ESCALATE_AFTER (once per email); returns how many emails were escalated."""
    now = now or utcnow()
    with sessions.begin() as db:
        stuck = repo.undelivered_alert_emails(db, now - ESCALATE_AFTER, escalated=False)
        admins = repo.active_admins(db)
        for alert_id in dict.fromkeys(email.alert_id for email in stuck):
            alert = db.get(SafeguardingAlert, alert_id)
            school = db.get(School, alert.school_id) if alert.school_id is not None else None  # None: a partner's
            errors = [e.last_error for e in stuck if e.alert_id == alert_id and e.last_error]
            body = UNDELIVERED.format(
                whom=school.name if school else TO_THE_COUNCIL, minutes=int(ESCALATE_AFTER.total_seconds() // 60),
                error=errors[-1] if errors else NO_ERROR_YET, call=CALL_THE_LEAD if school else CALL_THE_OFFICER,
                staff_site=settings.resolved_staff_url)
            for admin in admins:
                repo.enqueue_email(db, admin.email, ESCALATION_SUBJECT, body, now=now)
            log.error("alert %s: its email has not gone for %s; %d admin(s) told", alert_id, ESCALATE_AFTER, len(admins))
        for email in stuck:
            email.escalated_at = now
        return len(stuck)


def _claim_due(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> dict[int, EmailMessage]:
    with sessions.begin() as db:
        claimed = {}
        for email in repo.due_emails(db, now):
            email.next_attempt_at = now + CLAIM_LEASE
            claimed[email.id] = build_message(email, settings)
        return claimed


def _deliver(messages: dict[int, EmailMessage], settings: Settings) -> dict[int, str | None]:
    """Each email's error, or None once the mail server has accepted it."""
    results: dict[int, str | None] = {}
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            for email_id, message in messages.items():
                try:
                    smtp.send_message(message)
                    results[email_id] = None
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                    results[email_id] = _describe(exc)  # this one email was refused; go on with the rest
    except (OSError, smtplib.SMTPException) as exc:  # no server, TLS or login failed, connection lost
        error = f"mail server {settings.smtp_host}:{settings.smtp_port}: {_describe(exc)}"
        for email_id in messages:
            results.setdefault(email_id, error)
    return results


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


@contextmanager
def wake_on_new_email(wake: Callable[[], None]) -> Iterator[None]:
    """Call `wake` after any session in this process commits a new outbox email."""

    def noted(_mapper, _connection, email: OutboxEmail) -> None:
        session = object_session(email)
        if session is not None:
            session.info[_NEW_EMAIL] = True

    def committed(session: Session) -> None:
        if session.info.pop(_NEW_EMAIL, False):
            wake()

    event.listen(OutboxEmail, "after_insert", noted)
    event.listen(Session, "after_commit", committed)
    try:
        yield
    finally:
        event.remove(Session, "after_commit", committed)
        event.remove(OutboxEmail, "after_insert", noted)


@asynccontextmanager
async def running_outbox(sessions: sessionmaker[Session], settings: Settings,
                         every: float = SEND_EVERY) -> AsyncIterator[None]:
    """Send due emails in the background while the web app runs."""
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()
    with wake_on_new_email(lambda: loop.call_soon_threadsafe(woken.set)):
        async with repeating("the outbox run", lambda: send_due(sessions, settings), every, woken):
            yield
