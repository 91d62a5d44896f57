"""A possible disclosure: stored word for word, and the school's safeguarding leads told.

Both signals use this one function: the web app's screen (before Rasa) and the
language model's `concern` intent (in the action server). The email says only that a
concern needs review, with a link: never the child's words.
"""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from framework.db import repository as repo
from framework.db.models import SafeguardingAlert, SurveySession, TranscriptMessage
from framework.safeguarding import safeguarding_categories
from framework.settings import get_settings

log = logging.getLogger(__name__)

EMAIL_SUBJECT = "Heard: a safeguarding concern needs review"


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
    """Queue an email to each safeguarding lead of the alert's school; returns how many."""
    link = f"{get_settings().public_url}/staff/alerts/{alert.id}"
    opening = (
        "A more serious message was added to an open safeguarding alert in Heard.\n" if more_serious
        else "A young person's message in Heard may be a safeguarding concern.\n"
    )
    body = (
        opening
        + "Please sign in and review it now:\n"
        f"{link}\n\n"
        "For the young person's privacy, this email does not contain their words."
    )
    leads = repo.staff_for_school(db, alert.school_id, role="dsl")
    for lead in leads:
        repo.enqueue_email(db, lead.email, EMAIL_SUBJECT, body)
    if not leads:
        log.error("school %s has no safeguarding lead account: alert %s is in the queue only", alert.school_id, alert.id)
    return len(leads)
