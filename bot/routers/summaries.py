"""The SENCO's pupil-voice pages: one check-in summed up (where a SENCO can move a comment Heard
filed under the wrong outcome), a pupil's answers over time, and the downloads (the one-page
profile PDF and every answer as CSV).

Only a SENCO sees these, and only for pupils of their own school: other roles are told the
page is not for them; another school's pupil or check-in looks like no page at all. Every
view and download of a child's answers is written to the audit log.
"""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.exports.profile_pdf import ProfileFontMissing, profile_filename, profile_pdf
from bot.reports.answers_csv import answer_rows, to_csv
from bot.reports.voice import ParentCarerView, checkin_summary, filed_area, heard_filed_area, over_time, parent_carer_view
from bot.reports.we_did import EMPTY_PLAN, checkin_actions
from bot.staff.drafts import restores_drafts
from bot.staff.guards import Db, NotFound, OwnPupil, Senco, fresh_form, own_record, parse_id, senco
from bot.staff.messages import message
from bot.staff.pages import attachment, flash, render
from bot.staff.wording import SCHOOL_TIME, school_day
from framework.db import repository as repo
from framework.db.models import Comment, StaffUser, SurveySession
from framework.loader import load_framework

CHECKIN = "survey_session"  # audit log object types
PUPIL = "pupil"
COMMENT = "comment"

CHOOSE_AN_OUTCOME = message("checkins.choose_an_outcome")
MOVED = message("checkins.moved")
NOT_MOVED = message("checkins.not_moved")
PDF_MISSING = message("checkins.pdf_missing_title")

router = APIRouter(include_in_schema=False)


def own_checkin(session_id: str, db: Db, staff: Senco) -> SurveySession:
    # A partner's check-in is about no pupil, so it is no school's.
    return own_record(db, staff, SurveySession, session_id,
                      lambda checkin: checkin.pupil.school_id if checkin.pupil else None, CHECKIN,
                      "view_checkin_refused")


OwnCheckin = Annotated[SurveySession, Depends(own_checkin)]


def own_comment(comment_id: str, db: Db, staff: Senco, checkin: OwnCheckin) -> Comment:
    """A comment of this check-in (so of the SENCO's own school); else NotFound, audited."""
    number = parse_id(comment_id)
    comment = db.get(Comment, number) if number is not None else None
    if comment is None or comment.session_id != checkin.id:
        repo.audit(db, staff, "move_comment_refused", COMMENT, comment_id[:64], detail={"role": staff.role})
        raise NotFound(staff.id)
    return comment


OwnComment = Annotated[Comment, Depends(own_comment)]


def _beside(view: ParentCarerView | None) -> dict | None:
    """What the audit entry adds when a parent carer's check-in is read beside the pupil's."""
    return {"parent_carer_checkin": view.summary.session.id} if view else None


@router.get("/staff/checkins/{session_id}")
def checkin_page(request: Request, db: Db, staff: Senco, checkin: OwnCheckin) -> Response:
    return summary_page(request, db, staff, checkin)


def summary_page(request: Request, db: Session, staff: StaffUser, checkin: SurveySession, *,
                 plan_form: dict[str, str] | None = None, plan_errors: dict[str, str] | None = None,
                 choice: tuple[int, str] | None = None, status: int = 200, **context) -> Response:
    """The summary of one check-in, the view audited; `plan_form` puts back a "you said, we did"
    plan that was sent (with `plan_errors`: what to change, by field); `choice` (comment id,
    area id) shows an outcome chosen for a comment but not saved yet."""
    summary = checkin_summary(db, checkin)
    beside = parent_carer_view(db, summary)
    repo.audit(db, staff, "view_checkin", CHECKIN, checkin.id, pupil=checkin.pupil, detail=_beside(beside))
    return render(request, "staff/checkin.html", staff=staff, db=db, summary=summary, beside=beside, status=status,
                  actions=checkin_actions(db, checkin), plan_form={**EMPTY_PLAN, **(plan_form or {})},
                  plan_errors=plan_errors or {}, choice=choice, **context)


@router.post("/staff/checkins/{session_id}/comments/{comment_id}/area", dependencies=[fresh_form("area_id")])
def move_comment(request: Request, db: Db, staff: Senco, checkin: OwnCheckin, comment: OwnComment,
                 area_id: str = Form("")) -> Response:
    """File a comment under the outcome a SENCO chose. The child's words and Heard's own matches
    stay as they were; the page shows the comment's new place and who moved it."""
    framework = load_framework(checkin.framework_id)
    titles = {area.id: area.plain_title for area in framework.areas}
    if area_id not in titles:
        return summary_page(request, db, staff, checkin, problem=CHOOSE_AN_OUTCOME, status=422)
    was, heard = filed_area(framework, comment), heard_filed_area(framework, comment)
    if area_id == was:
        flash(request, NOT_MOVED.format(area=titles[area_id]))
    else:
        repo.move_comment(db, comment, None if area_id == heard else area_id, staff)
        repo.audit(db, staff, "move_comment", COMMENT, comment.id, pupil=checkin.pupil,
                   detail={"from": was, "to": area_id, "heard_filed": heard})
        flash(request, MOVED.format(area=titles[area_id]))
    return RedirectResponse(f"/staff/checkins/{checkin.id}#comment-{comment.id}", status_code=303)


@restores_drafts(r"/staff/checkins/(\d+)/comments/(\d+)/area")
def restore_move(request: Request, db: Session, staff: StaffUser, match: re.Match[str], draft: dict[str, str],
                 **said) -> Response:
    """The summary, with the outcome that was chosen shown, not yet saved."""
    staff = senco(request, db, staff)
    checkin = own_checkin(match.group(1), db, staff)
    comment = own_comment(match.group(2), db, staff, checkin)
    return summary_page(request, db, staff, checkin, choice=(comment.id, draft.get("area_id", "")), **said)


@router.get("/staff/checkins/{session_id}/profile.pdf")
def profile_download(request: Request, db: Db, staff: Senco, checkin: OwnCheckin) -> Response:
    summary = checkin_summary(db, checkin)
    beside = parent_carer_view(db, summary)
    try:
        pdf = profile_pdf(summary, checkin_actions(db, checkin), beside)
    except ProfileFontMissing as missing:
        return render(request, "staff/message.html", staff=staff, db=db, status=503,
                      title=PDF_MISSING, message=str(missing))
    repo.audit(db, staff, "export_profile_pdf", CHECKIN, checkin.id, pupil=checkin.pupil, detail=_beside(beside))
    return Response(pdf, media_type="application/pdf", headers=attachment(profile_filename(summary)))


@router.get("/staff/pupils/{pupil_id}/over-time")
def over_time_page(request: Request, db: Db, staff: Senco, pupil: OwnPupil) -> Response:
    timelines = over_time(db, pupil)
    repo.audit(db, staff, "view_over_time", PUPIL, pupil.id, pupil=pupil,
               detail={"checkins": [c.id for t in timelines for c in t.checkins]})
    return render(request, "staff/over_time.html", staff=staff, db=db, pupil=pupil, timelines=timelines,
                  day=school_day)


@router.get("/staff/pupils/{pupil_id}/answers.csv")
def answers_download(db: Db, staff: Senco, pupil: OwnPupil) -> Response:
    rows = answer_rows(db, pupil, SCHOOL_TIME)
    repo.audit(db, staff, "export_answers_csv", PUPIL, pupil.id, pupil=pupil, detail={"rows": len(rows)})
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"heard-answers-pupil-{pupil.id}.csv"))
