""""You said, we did" on the pupil voice summary: a SENCO records what the school will do about
one answer or comment of a check-in (what, who, by when, and the sentence the young person will
hear), and later marks it done, so it is told to them at their next check-in.

SENCOs only, their own school's check-ins only (another's is "not found"); every form carries
the CSRF token and every change is written to the audit log. A plan that needs changing comes
back with what was typed and, beside each field, what to change.
"""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.reports.we_did import CHECK_THE_PLAN, FIELDS, check_plan
from bot.routers.summaries import CHECKIN, OwnCheckin, own_checkin, summary_page
from bot.staff.drafts import restores_drafts
from bot.staff.guards import Db, Senco, fresh_form, own_record, senco
from bot.staff.messages import message
from bot.staff.pages import flash
from framework import we_did
from framework.db import repository as repo
from framework.db.models import SchoolAction, StaffUser

ACTION = "school_action"  # the audit log's object type
RECORDED = message("checkins.plan_saved")
MARKED_DONE = message("checkins.marked_done")

router = APIRouter(prefix="/staff/checkins/{session_id}/actions", include_in_schema=False)


@router.post("", dependencies=[fresh_form(*FIELDS)])
def record_action(request: Request, db: Db, staff: Senco, checkin: OwnCheckin, said: str = Form(""),
                  what: str = Form(""), who: str = Form(""), due_on: str = Form(""),
                  child_words: str = Form("")) -> Response:
    form = {"said": said, "what": what, "who": who, "due_on": due_on, "child_words": child_words}
    plan = check_plan(db, checkin, form)
    if isinstance(plan, dict):
        return summary_page(request, db, staff, checkin, plan_form=form, plan_errors=plan, problem=CHECK_THE_PLAN,
                            status=422)
    action = we_did.record(db, staff, checkin, answer=plan.answer, comment=plan.comment, what=plan.what,
                           who=plan.who, due_on=plan.due_on, child_words=plan.child_words)
    repo.audit(db, staff, "record_school_action", ACTION, action.id, pupil=checkin.pupil,
               detail={CHECKIN: checkin.id})
    flash(request, RECORDED)
    return RedirectResponse(f"/staff/checkins/{checkin.id}#we-did", status_code=303)


@restores_drafts(r"/staff/checkins/(\d+)/actions")
def restore_plan(request: Request, db: Session, staff: StaffUser, match: re.Match[str], draft: dict[str, str],
                 **said) -> Response:
    """The summary, with the plan that was being written typed in again."""
    staff = senco(request, db, staff)
    return summary_page(request, db, staff, own_checkin(match.group(1), db, staff), plan_form=draft, **said)


def own_action(action_id: str, db: Db, staff: Senco, checkin: OwnCheckin) -> SchoolAction:
    return own_record(db, staff, SchoolAction, action_id,
                      lambda action: action.session.pupil.school_id if action.session_id == checkin.id else None,
                      ACTION, "change_school_action_refused")


@router.post("/{action_id}/done", dependencies=[fresh_form()])
def mark_done(request: Request, db: Db, staff: Senco, checkin: OwnCheckin,
              action: Annotated[SchoolAction, Depends(own_action)]) -> Response:
    we_did.mark_done(db, action, staff)
    repo.audit(db, staff, "school_action_done", ACTION, action.id, pupil=checkin.pupil, detail={CHECKIN: checkin.id})
    flash(request, MARKED_DONE)
    return RedirectResponse(f"/staff/checkins/{checkin.id}#we-did", status_code=303)


@restores_drafts(r"/staff/checkins/(\d+)/actions/(\d+)/done")
def restore_done(request: Request, db: Session, staff: StaffUser, match: re.Match[str], draft: dict[str, str],
                 **said) -> Response:
    """The summary again (there is nothing typed to put back)."""
    staff = senco(request, db, staff)
    checkin = own_checkin(match.group(1), db, staff)
    own_action(match.group(2), db, staff, checkin)
    return summary_page(request, db, staff, checkin, **said)
