"""The safeguarding lead's queue: their school's open alerts, newest first, with the child's
exact words and the messages before them; and each alert's page, where the lead marks it
seen, records the action taken, and closes it.

Only a designated safeguarding lead (DSL) of the alert's school sees an alert: anyone else
is told there is no such page, so not even an alert's existence shows. Every view and
every step is written to the audit log.
"""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.staff.drafts import restores_drafts
from bot.staff.guards import Db, NotForRole, NotFound, SignedIn, fresh_form, parse_id
from bot.staff.messages import message
from bot.staff.pages import flash, is_safeguarding_lead, render
from framework.db import repository as repo
from framework.db.models import ALERT_STATUSES, AuditEntry, SafeguardingAlert, StaffUser

MAX_NOTE_CHARS = 10_000
OBJECT_TYPE = "safeguarding_alert"
# the step a button asks for → what the lead is told once it is done
STEPS = {step: message(f"alerts.{step}") for step in ("seen", "actioned", "closed")}
STEP_ACTIONS = tuple(f"alert_{step}" for step in STEPS)  # audit log actions

NOTE_NEEDED = message("alerts.note_needed")
NOTE_TOO_LONG = message("alerts.note_too_long").format(max=f"{MAX_NOTE_CHARS:,}")
ALREADY_MOVED_ON = message("alerts.already_moved_on")
CHOOSE_A_BUTTON = message("alerts.choose_a_button")

router = APIRouter(prefix="/staff/alerts", include_in_schema=False)


def safeguarding_lead(db: Db, staff: SignedIn) -> StaffUser:
    if not is_safeguarding_lead(staff):
        repo.audit(db, staff, "view_alert_queue_refused", OBJECT_TYPE, detail={"role": staff.role})
        raise NotForRole(staff.id, "safeguarding leads")
    return staff


def own_alert(alert_id: str, db: Db, staff: SignedIn) -> SafeguardingAlert:
    """The alert, if this member of staff may see it; else NotFound (the refusal audited)."""
    number = parse_id(alert_id)
    alert = db.get(SafeguardingAlert, number) if number is not None else None
    if alert is None or not is_safeguarding_lead(staff) or alert.school_id != staff.school_id:
        repo.audit(db, staff, "view_alert_refused", OBJECT_TYPE, alert_id[:64], detail={"role": staff.role})
        raise NotFound(staff.id)
    return alert


SafeguardingLead = Annotated[StaffUser, Depends(safeguarding_lead)]
OwnAlert = Annotated[SafeguardingAlert, Depends(own_alert)]


@router.get("")
def alert_queue(request: Request, db: Db, staff: SafeguardingLead) -> Response:
    alerts = repo.list_open_alerts(db, staff.school)
    repo.audit(db, staff, "view_alert_queue", OBJECT_TYPE,
               detail={"school_id": staff.school_id, "alert_ids": [a.id for a in alerts]})
    return render(request, "staff/alerts.html", staff=staff, db=db, alerts=alerts)


@router.get("/{alert_id}")
def alert_detail(request: Request, db: Db, staff: SignedIn, alert: OwnAlert) -> Response:
    return alert_page(request, db, staff, alert)


@router.post("/{alert_id}", dependencies=[fresh_form("action_taken")])
def alert_step(request: Request, db: Db, staff: SignedIn, alert: OwnAlert, step: str = Form(""),
               action_taken: str = Form("")) -> Response:
    note = action_taken.strip()
    problem, status = _step_problem(alert, step, note)
    if problem:
        return alert_page(request, db, staff, alert, draft={"action_taken": action_taken}, problem=problem,
                          status=status)
    repo.update_alert_status(db, alert, step, staff, action_taken=note or None)
    repo.audit(db, staff, f"alert_{step}", OBJECT_TYPE, alert.id, pupil=alert.pupil,
               detail={"action_taken": note} if note else None)
    flash(request, STEPS[step])
    return RedirectResponse(f"/staff/alerts/{alert.id}", status_code=303)


def _step_problem(alert: SafeguardingAlert, step: str, note: str) -> tuple[str | None, int]:
    """Why this step cannot be taken (in words for the lead), with the HTTP status; or (None, 200)."""
    if step not in STEPS:
        return CHOOSE_A_BUTTON, 422
    if len(note) > MAX_NOTE_CHARS:
        return NOTE_TOO_LONG, 422
    if ALERT_STATUSES.index(step) < ALERT_STATUSES.index(alert.status):
        return ALREADY_MOVED_ON.format(status=alert.status), 409
    if step in ("actioned", "closed") and not (note or alert.action_taken):
        return NOTE_NEEDED, 422
    return None, 200


def alert_page(request: Request, db: Session, staff: StaffUser, alert: SafeguardingAlert, *,
               draft: dict[str, str] | None = None, problem: str | None = None, notice: str | None = None,
               status: int = 200) -> Response:
    repo.audit(db, staff, "view_alert", OBJECT_TYPE, alert.id, pupil=alert.pupil)
    context = {"alert": alert, "history": _history(db, alert), "emails": repo.alert_emails(db, alert),
               "note": (draft or {}).get("action_taken", ""), "problem": problem}
    if notice:
        context["notice"] = notice
    return render(request, "staff/alert.html", staff=staff, db=db, status=status, **context)


@restores_drafts(r"/staff/alerts/(\d+)")
def restore_draft(request: Request, db: Session, staff: StaffUser, match: re.Match[str], draft: dict[str, str],
                  **said) -> Response:
    """The alert page the note was typed on, with the note put back."""
    alert = own_alert(match.group(1), db, staff)
    return alert_page(request, db, staff, alert, draft=draft, **said)


def _history(db: Session, alert: SafeguardingAlert) -> list[tuple[AuditEntry, str]]:
    """Each step taken on the alert, oldest first, with who took it: the audit log keeps every
    note, where the alert itself keeps only the latest."""
    return repo.audit_trail(db, OBJECT_TYPE, alert.id, STEP_ACTIONS)
