"""A possible disclosure: stored word for word, and the school's safeguarding leads told.

Both signals use this one function: the web app's screen (before Rasa) and the
language model's `concern` intent (in the action server). The email says only that a
concern needs review, with a link to the alert on the staff site: never the child's words.
The staff site's address is the web app's to know, so an email names the page it links to
with a placeholder (`ALERT_PAGE`, `ACCOUNTS_PAGE`) that the outbox (bot/outbox.py) fills as it sends.
"""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from framework.db import repository as repo
from framework.db.models import SafeguardingAlert, School, SurveySession, TranscriptMessage
from framework.safeguarding import safeguarding_categories

log = logging.getLogger(__name__)

EMAIL_SUBJECT = "Heard: a safeguarding concern needs review"
NO_LEAD_SUBJECT = "Heard: a safeguarding concern at a school with no safeguarding lead"
PARTNER_SUBJECT = "Heard: a safeguarding concern in a partner's check-in"
ALERT_PAGE = "{alert_page}"  # the alert the email is about, on the staff site
ACCOUNTS_PAGE = "{accounts_page}"  # the administrators' staff accounts page


def raise_alert(db: Session, session: SurveySession, *, words: str, categories: list[str], evidence: list[str],
                source: str, message: TranscriptMessage | None = None) -> SafeguardingAlert:
    """Store the alert; tell the safeguarding leads of a new alert, and again when a message
    joining an open one is more serious than every message already in it."""
    alert, created = repo.raise_alert(db, session, words, categories, evidence, source, message=message)
    if created or more_serious_than_before(alert):
        notify_safeguarding_leads(db, alert, more_serious=not created)
    return alert


def more_serious_than_before(alert: SafeguardingAlert) -> bool:
    """True when the alert's newest message has a more serious category than all the others."""
    *earlier, newest = alert.messages
    severity = safeguarding_categories().severity
    return bool(earlier) and severity(newest.categories) < min(severity(m.categories) for m in earlier)


def notify_safeguarding_leads(db: Session, alert: SafeguardingAlert, *, more_serious: bool = False) -> int:
    """Queue an email to each safeguarding lead of the alert's school; returns how many.

    A school with no active lead account: the admins are emailed instead, so a person always
    hears of it (the admin pages and /healthz show such schools too)."""
    opening = (
        "A more serious message was added to an open safeguarding alert in Heard.\n" if more_serious
        else "A young person's message in Heard may be a safeguarding concern.\n"
    )
    if alert.school_id is None:
        return notify_about_partner(db, alert, more_serious=more_serious)
    leads = repo.staff_for_school(db, alert.school_id, role="dsl")
    if not leads:
        log.error("school %s has no safeguarding lead account: alert %s goes to the admins", alert.school_id, alert.id)
        body = (
            opening
            + f"It is at {db.get(School, alert.school_id).name}, which has no safeguarding lead account in Heard, "
            "so no one there has been told.\n"
            "Please tell the school's safeguarding lead now, and add their account:\n"
            f"{ACCOUNTS_PAGE}"
        )
        for admin in repo.active_admins(db):
            repo.enqueue_email(db, admin.email, NO_LEAD_SUBJECT, body, alert=alert)
        return 0
    body = (
        opening
        + "Please sign in and review it now:\n"
        f"{ALERT_PAGE}\n\n"
        "For the young person's privacy, this email does not contain their words."
    )
    for lead in leads:
        repo.enqueue_email(db, lead.email, EMAIL_SUBJECT, body, alert=alert)
    return len(leads)


def notify_about_partner(db: Session, alert: SafeguardingAlert, *, more_serious: bool) -> int:
    """A partner's check-in is about no school, so no school's lead can be told: the officer who
    invited the partner (who knows who they are) and the admins are emailed instead. Returns 0."""
    session = db.get(SurveySession, alert.session_id)
    officer = session.invite.created_by if session is not None else None
    body = (
        ("A more serious message was added to an open safeguarding alert" if more_serious
         else "A message from a partner in Heard may be a safeguarding concern")
        + f" (alert {alert.id}). It came from a partner's check-in, which is about no school, so no school's"
        " safeguarding lead has been told.\n"
        "Please contact the partner through the officer who invited them, and follow your council's"
        " safeguarding procedure.\n\nThis email does not contain their words."
    )
    recipients = [officer] if officer is not None and officer.active else []
    recipients += [admin for admin in repo.active_admins(db) if admin not in recipients]
    log.error("alert %s is from a partner's check-in: it goes to the inviting officer and the admins", alert.id)
    for person in recipients:
        repo.enqueue_email(db, person.email, PARTNER_SUBJECT, body, alert=alert)
    return 0
