"""A possible disclosure: stored word for word, and the school's safeguarding leads told.

Both signals use this one function: the web app's screen (before Rasa) and the
language model's `concern` intent (in the action server). The email says only that a
concern needs review, with a link to the alert on the staff site (settings.resolved_staff_url):
never the child's words.
"""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from framework.db import repository as repo
from framework.db.models import SafeguardingAlert, School, SurveySession, TranscriptMessage
from framework.safeguarding import safeguarding_categories
from framework.settings import get_settings

log = logging.getLogger(__name__)

EMAIL_SUBJECT = "Heard: a safeguarding concern needs review"
NO_LEAD_SUBJECT = "Heard: a safeguarding concern at a school with no safeguarding lead"


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
    leads = repo.staff_for_school(db, alert.school_id, role="dsl")
    if not leads:
        log.error("school %s has no safeguarding lead account: alert %s goes to the admins", alert.school_id, alert.id)
        body = (
            opening
            + f"It is at {db.get(School, alert.school_id).name}, which has no safeguarding lead account in Heard, "
            "so no one there has been told.\n"
            "Please tell the school's safeguarding lead now, and add their account:\n"
            f"{get_settings().resolved_staff_url}/admin/accounts"
        )
        for admin in repo.active_admins(db):
            repo.enqueue_email(db, admin.email, NO_LEAD_SUBJECT, body, alert=alert)
        return 0
    body = (
        opening
        + "Please sign in and review it now:\n"
        f"{get_settings().resolved_staff_url}/alerts/{alert.id}\n\n"
        "For the young person's privacy, this email does not contain their words."
    )
    for lead in leads:
        repo.enqueue_email(db, lead.email, EMAIL_SUBJECT, body, alert=alert)
    return len(leads)
