"""The SENCO's pupils: the list (with where each pupil's check-ins are), adding a pupil,
each pupil's page, and invite codes, for one pupil, a pupil's parent carer, or a whole class
or year group, printed as slips with a QR code.

Only a SENCO sees these pages, and only their own school's pupils: another school's pupil
looks like no pupil at all. Safeguarding alerts show as a number only; their words are for
the safeguarding lead. Every view and every new code is written to the audit log.
"""
from __future__ import annotations

import re

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.erasure import erase_pupil
from bot.reports.invites import (
    askable_frameworks,
    check_invite_choice,
    create_invites,
    invite_terms_form,
    pupil_invites,
    school_invites,
    slips,
)
from bot.reports.pupil_list import (
    MAX_CLASS,
    MAX_NAME,
    MAX_YEAR_GROUP,
    PupilFilters,
    check_new_pupil,
    pupil_checkins,
    pupil_list,
    pupils_in_group,
    school_groups,
)
from bot.staff.drafts import restores_drafts
from bot.staff.guards import Db, OwnPupil, Senco, fresh_form, named_invites, own_pupil, parse_id, senco
from bot.staff.messages import message
from bot.staff.pages import flash, render
from bot.staff.wording import QUESTION_SET_NAMES
from framework.db import repository as repo
from framework.db.models import DEFAULT_PERSPECTIVE, PARENT_CARERS, Pupil, StaffUser
from framework.loader import all_frameworks
from framework.settings import get_settings

GROUP_KINDS = ("year", "class")  # a group is sent as "year:Year 6" or "class:Oak"
PUPIL_FIELDS = ("name", "year_group", "class_name")  # the forms' fields, kept across a sign-in
INVITE_FIELDS = ("framework", "question_set", "days")

CHECK_THE_PUPIL = message("pupils.check_the_pupil")
CHECK_THE_CHOICES = message("pupils.check_the_choices")
CHOOSE_A_GROUP = message("pupils.choose_a_group")
ADDED = message("pupils.added")
EMPTY_GROUP = message("pupils.empty_group")
TICK_TO_ERASE = message("pupils.tick_to_erase")
ERASED = message("pupils.erased")
ALERTS_KEPT = message("pupils.alerts_kept")
ONE_CODE_READY, CODES_READY = message("pupils.one_code_ready"), message("pupils.codes_ready")

router = APIRouter(prefix="/staff/pupils", include_in_schema=False)


# ---- the list, and adding a pupil --------------------------------------------------------------


@router.get("")
def pupils_page(request: Request, db: Db, staff: Senco) -> Response:
    query = request.query_params
    filters = PupilFilters(query.get("year", "").strip(), query.get("class", "").strip(),
                           query.get("name", "").strip()[:MAX_NAME])
    added = _just_added(db, staff, query.get("added", ""))
    if added is None:
        return list_page(request, db, staff, filters)
    # The form again, with the year group and class ready for the next pupil.
    form = {"name": "", "year_group": added.year_group or "", "class_name": added.class_name or ""}
    return list_page(request, db, staff, filters, form=form, notice=ADDED.format(name=added.display_name))


@router.post("", dependencies=[fresh_form(*PUPIL_FIELDS)])
def add_pupil(request: Request, db: Db, staff: Senco, name: str = Form(""), year_group: str = Form(""),
              class_name: str = Form("")) -> Response:
    form = {"name": name, "year_group": year_group, "class_name": class_name}
    checked = check_new_pupil(name, year_group, class_name)
    if isinstance(checked, dict):
        return list_page(request, db, staff, form=form, errors=checked, problem=CHECK_THE_PUPIL, status=422)
    pupil = repo.create_pupil(db, staff.school, checked.name, checked.year_group, checked.class_name)
    repo.audit(db, staff, "add_pupil", "pupil", pupil.id, pupil=pupil)
    return RedirectResponse(f"/staff/pupils?added={pupil.id}#add-pupil", status_code=303)


def _just_added(db: Session, staff: StaffUser, added: str) -> Pupil | None:
    """The pupil `?added=` names, if they are this school's. (Named in the URL, not a notice in
    the session, so no pupil's name ever sits in the cookie.)"""
    number = parse_id(added)
    pupil = db.get(Pupil, number) if number is not None else None
    return pupil if pupil is not None and pupil.school_id == staff.school_id else None


def list_page(request: Request, db: Session, staff: StaffUser, filters: PupilFilters | None = None, *,
              form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
              problem: str | None = None, notice: str | None = None, status: int = 200) -> Response:
    filters = filters or PupilFilters()
    rows = pupil_list(db, staff.school_id, filters)
    repo.audit(db, staff, "view_pupil_list", "school", staff.school_id,
               detail={"filters": filters.as_dict(), "pupil_count": len(rows)})
    groups = school_groups(db, staff.school_id)
    context = {
        "rows": rows, "groups": groups, "filters": filters,
        "form": form or {"name": "", "year_group": "", "class_name": ""}, "errors": errors or {},
        "add_open": form is not None or not groups.pupils, "problem": problem,
        "limits": {"name": MAX_NAME, "year_group": MAX_YEAR_GROUP, "class_name": MAX_CLASS},
    }
    if notice:
        context["notice"] = notice
    return render(request, "staff/pupils.html", staff=staff, db=db, status=status, **context)


@restores_drafts(r"/staff/pupils")
def restore_pupil_form(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                       draft: dict[str, str], **said) -> Response:
    """The list, with the pupil that was being added typed in again."""
    form = {field: draft.get(field, "") for field in PUPIL_FIELDS}
    return list_page(request, db, senco(request, db, staff), form=form, **said)


# ---- invite codes for a class or year group ----------------------------------------------------
# (before /{pupil_id}, so "invites" and "slips" are never read as a pupil id)


@router.get("/invites")
def group_invite_form(request: Request, db: Db, staff: Senco, group: str = "") -> Response:
    return invite_page(request, db, staff, form={"group": group})


@router.post("/invites", dependencies=[fresh_form("group", *INVITE_FIELDS)])
def make_group_invites(request: Request, db: Db, staff: Senco, group: str = Form(""), framework: str = Form(""),
                       question_set: str = Form(""), days: str = Form("")) -> Response:
    form = {"group": group, "framework": framework, "question_set": question_set, "days": days}
    pupils, group_problem = _group_pupils(db, staff, group)
    return _make_invites(request, db, staff, form, pupils, group_problem)


def _group_pupils(db: Session, staff: StaffUser, group: str) -> tuple[list[Pupil], str | None]:
    """The pupils of a group as the form sends it ("year:Year 6"); or why there are none."""
    kind, _, name = group.partition(":")
    if kind not in GROUP_KINDS or not name:
        return [], CHOOSE_A_GROUP
    pupils = pupils_in_group(db, staff.school_id, kind, name)
    return pupils, None if pupils else EMPTY_GROUP.format(group=name)


@restores_drafts(r"/staff/pupils/invites")
def restore_group_invite_form(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                              draft: dict[str, str], **said) -> Response:
    return invite_page(request, db, senco(request, db, staff), form=draft, **said)


# ---- printable slips ---------------------------------------------------------------------------


@router.get("/slips")
def slips_page(request: Request, db: Db, staff: Senco) -> Response:
    """Slips for the invites named `?invite=1&invite=2`: just made, or printed again."""
    invites = named_invites(request, staff, lambda invite_ids: school_invites(db, staff.school_id, invite_ids))
    repo.audit(db, staff, "view_invite_slips", "invite", detail={"invite_ids": [i.id for i in invites]})
    pupil_ids = {invite.pupil_id for invite in invites}
    one_pupil = len(pupil_ids) == 1
    return render(request, "staff/invites_slips.html", staff=staff, db=db,
                  back=f"/staff/pupils/{invites[0].pupil_id}" if one_pupil else "/staff/pupils",
                  back_label="the pupil" if one_pupil else "all pupils", for_partners=False,
                  slips=slips(invites, get_settings().public_url), public_url=get_settings().public_url)


# ---- one pupil ---------------------------------------------------------------------------------


@router.get("/{pupil_id}")
def pupil_page(request: Request, db: Db, staff: Senco, pupil: OwnPupil) -> Response:
    checkins = pupil_checkins(db, pupil)
    invites = pupil_invites(db, pupil)
    repo.audit(db, staff, "view_pupil", "pupil", pupil.id, pupil=pupil)
    return render(request, "staff/pupils_pupil.html", staff=staff, db=db, pupil=pupil, checkins=checkins,
                  invites=invites, set_names=QUESTION_SET_NAMES, frameworks=all_frameworks())


@router.get("/{pupil_id}/erase")
def erase_form(request: Request, db: Db, staff: Senco, pupil: OwnPupil) -> Response:
    return erase_page(request, db, staff, pupil)


@router.post("/{pupil_id}/erase", dependencies=[fresh_form()])  # the box is ticked again, never kept
def erase(request: Request, db: Db, staff: Senco, pupil: OwnPupil, confirm: str = Form("")) -> Response:
    if confirm != "yes":
        return erase_page(request, db, staff, pupil, problem=TICK_TO_ERASE, status=422)
    name = pupil.display_name
    erased = erase_pupil(db, pupil, get_settings(), by=staff)
    flash(request, ERASED.format(name=name) + (" " + ALERTS_KEPT if erased.deleted.alerts_kept else ""))
    return RedirectResponse("/staff/pupils", status_code=303)


def erase_page(request: Request, db: Session, staff: StaffUser, pupil: Pupil, *, status: int = 200,
               **said: str) -> Response:
    """The page that asks before erasing; `said`: a problem or notice above the form."""
    return render(request, "staff/pupils_erase.html", staff=staff, db=db, status=status, pupil=pupil,
                  checkins=len(pupil_checkins(db, pupil)), **said)


@restores_drafts(r"/staff/pupils/(\d+)/erase")
def restore_erase_form(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                       draft: dict[str, str], **said) -> Response:
    staff = senco(request, db, staff)
    return erase_page(request, db, staff, own_pupil(match.group(1), db, staff), **said)


@router.get("/{pupil_id}/invites")
def pupil_invite_form(request: Request, db: Db, staff: Senco, pupil: OwnPupil) -> Response:
    return invite_page(request, db, staff, pupil)


@router.post("/{pupil_id}/invites", dependencies=[fresh_form(*INVITE_FIELDS)])
def make_pupil_invite(request: Request, db: Db, staff: Senco, pupil: OwnPupil, framework: str = Form(""),
                      question_set: str = Form(""), days: str = Form("")) -> Response:
    form = {"framework": framework, "question_set": question_set, "days": days}
    return _make_invites(request, db, staff, form, [pupil], None, pupil=pupil)


@restores_drafts(r"/staff/pupils/(\d+)/invites")
def restore_pupil_invite_form(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                              draft: dict[str, str], **said) -> Response:
    staff = senco(request, db, staff)
    return invite_page(request, db, staff, own_pupil(match.group(1), db, staff), form=draft, **said)


# ---- a code for a pupil's parent carer ---------------------------------------------------------


@router.get("/{pupil_id}/parent-carer-invites")
def parent_carer_invite_form(request: Request, db: Db, staff: Senco, pupil: OwnPupil) -> Response:
    return invite_page(request, db, staff, pupil, perspective=PARENT_CARERS)


@router.post("/{pupil_id}/parent-carer-invites", dependencies=[fresh_form(*INVITE_FIELDS)])
def make_parent_carer_invite(request: Request, db: Db, staff: Senco, pupil: OwnPupil, framework: str = Form(""),
                             question_set: str = Form(""), days: str = Form("")) -> Response:
    form = {"framework": framework, "question_set": question_set, "days": days}
    return _make_invites(request, db, staff, form, [pupil], None, pupil=pupil, perspective=PARENT_CARERS)


@restores_drafts(r"/staff/pupils/(\d+)/parent-carer-invites")
def restore_parent_carer_invite_form(request: Request, db: Session, staff: StaffUser, match: re.Match[str],
                                     draft: dict[str, str], **said) -> Response:
    staff = senco(request, db, staff)
    return invite_page(request, db, staff, own_pupil(match.group(1), db, staff), form=draft,
                       perspective=PARENT_CARERS, **said)


# ---- making invites (one pupil or a group) -----------------------------------------------------


def _make_invites(request: Request, db: Session, staff: StaffUser, form: dict[str, str], pupils: list[Pupil],
                  group_problem: str | None, *, pupil: Pupil | None = None,
                  perspective: str = DEFAULT_PERSPECTIVE) -> Response:
    """Check the form, make a code for each pupil (or their parent carer), and go to the slips;
    or show the form again."""
    frameworks = askable_frameworks(all_frameworks(), perspective)
    choice = check_invite_choice(form["framework"], form["question_set"], form["days"], frameworks)
    errors = dict(choice) if isinstance(choice, dict) else {}
    if group_problem:
        errors["group"] = group_problem
    if errors:
        return invite_page(request, db, staff, pupil, form=form, errors=errors, problem=CHECK_THE_CHOICES,
                           status=422, perspective=perspective)
    invites = create_invites(db, staff, pupils, choice, perspective=perspective)
    flash(request, ONE_CODE_READY if len(invites) == 1 else CODES_READY.format(count=len(invites)))
    query = "&".join(f"invite={invite.id}" for invite in invites)
    return RedirectResponse(f"/staff/pupils/slips?{query}", status_code=303)


def invite_page(request: Request, db: Session, staff: StaffUser, pupil: Pupil | None = None, *,
                form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                problem: str | None = None, notice: str | None = None, status: int = 200,
                perspective: str = DEFAULT_PERSPECTIVE) -> Response:
    """The form for new invite codes: for `pupil` (or their parent carer), or (pupil None) for a
    class or year group."""
    for_parent_carer = perspective == PARENT_CARERS
    context = {
        **invite_terms_form(perspective, form, group=""), "pupil": pupil,
        "groups": school_groups(db, staff.school_id) if pupil is None else None,
        "errors": errors or {}, "problem": problem, "for_parent_carer": for_parent_carer,
        "action": (f"/staff/pupils/{pupil.id}/{'parent-carer-invites' if for_parent_carer else 'invites'}" if pupil
                   else "/staff/pupils/invites"),
    }
    if notice:
        context["notice"] = notice
    return render(request, "staff/invites_new.html", staff=staff, db=db, status=status, **context)
