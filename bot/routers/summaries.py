"""The SENCO's pupil-voice pages: one check-in summed up, a pupil's answers over time, and the
downloads (the one-page profile PDF and every answer as CSV).

Only a SENCO sees these, and only for pupils of their own school: other roles are told the
page is not for them; another school's pupil or check-in looks like no page at all. Every
view and download of a child's answers is written to the audit log.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bot.exports.profile_pdf import ProfileFontMissing, profile_filename, profile_pdf
from bot.reports.answers_csv import answer_rows, to_csv
from bot.reports.voice import checkin_summary, over_time
from bot.reports.we_did import EMPTY_PLAN, checkin_actions
from bot.staff.guards import Db, OwnPupil, Senco, own_record
from bot.staff.pages import attachment, render
from bot.staff.wording import SCHOOL_TIME, school_day
from framework.db import repository as repo
from framework.db.models import StaffUser, SurveySession

CHECKIN = "survey_session"  # audit log object types
PUPIL = "pupil"

router = APIRouter(include_in_schema=False)


def own_checkin(session_id: str, db: Db, staff: Senco) -> SurveySession:
    return own_record(db, staff, SurveySession, session_id, lambda checkin: checkin.pupil.school_id, CHECKIN,
                      "view_checkin_refused")


OwnCheckin = Annotated[SurveySession, Depends(own_checkin)]


@router.get("/staff/checkins/{session_id}")
def checkin_page(request: Request, db: Db, staff: Senco, checkin: OwnCheckin) -> Response:
    return summary_page(request, db, staff, checkin)


def summary_page(request: Request, db: Session, staff: StaffUser, checkin: SurveySession, *,
                 plan_form: dict[str, str] | None = None, plan_errors: dict[str, str] | None = None,
                 status: int = 200, **context) -> Response:
    """The summary of one check-in, the view audited; `plan_form` puts back a "you said, we did"
    plan that was sent (with `plan_errors`: what to change, by field)."""
    summary = checkin_summary(db, checkin)
    repo.audit(db, staff, "view_checkin", CHECKIN, checkin.id, pupil=checkin.pupil)
    return render(request, "staff/checkin.html", staff=staff, db=db, summary=summary, status=status,
                  actions=checkin_actions(db, checkin), plan_form={**EMPTY_PLAN, **(plan_form or {})},
                  plan_errors=plan_errors or {}, **context)


@router.get("/staff/checkins/{session_id}/profile.pdf")
def profile_download(request: Request, db: Db, staff: Senco, checkin: OwnCheckin) -> Response:
    summary = checkin_summary(db, checkin)
    try:
        pdf = profile_pdf(summary)
    except ProfileFontMissing as missing:
        return render(request, "staff/message.html", staff=staff, db=db, status=503,
                      title="The profile PDF cannot be made on this server yet", message=str(missing))
    repo.audit(db, staff, "export_profile_pdf", CHECKIN, checkin.id, pupil=checkin.pupil)
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
