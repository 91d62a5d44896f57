"""Invite codes from the staff side: the choices a SENCO makes, making the codes (audited),
for a pupil or for a pupil's parent carer, each pupil's invites with whether they were used,
and the printable slips with a QR code. (A council officer's codes for partners use the same
choices and slips: bot/routers/council.py.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import segno
from markupsafe import Markup
from sqlalchemy import and_, false, func, select
from sqlalchemy.orm import Session, selectinload

from bot.staff.wording import PARTNER_ROLE_WORDS, WHOSE_CHECKIN, invite_use, question_set_choice
from framework.db import repository as repo
from framework.db.codes import format_code
from framework.db.models import DEFAULT_PERSPECTIVE, PARENT_CARERS, PARTNERS, Invite, Pupil, StaffUser, SurveySession
from framework.loader import all_frameworks
from framework.schema import QUESTION_SETS, Framework

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 90, 28
DEFAULT_QUESTION_SET = "standard"


def askable_frameworks(frameworks: dict[str, Framework], perspective: str = DEFAULT_PERSPECTIVE) -> dict[str, Framework]:
    """The frameworks that have questions for this perspective (a young person's, unless said)."""
    return {fid: f for fid, f in frameworks.items() if perspective in f.perspectives and f.questions(perspective, "full")}


@dataclass(frozen=True)
class QuestionSetOption:
    key: str
    words: str
    counts: tuple[tuple[str, int], ...]  # (council, number of questions) per framework


def question_set_options(frameworks: dict[str, Framework], perspective: str = DEFAULT_PERSPECTIVE
                         ) -> list[QuestionSetOption]:
    return [
        QuestionSetOption(key, question_set_choice(key), tuple(
            (f.source.council, len(f.questions(perspective, key))) for f in frameworks.values()))
        for key in QUESTION_SETS
    ]


def invite_terms_form(perspective: str, form: dict[str, str] | None, **defaults: str) -> dict[str, object]:
    """What every invite form shows of the codes' terms (the `invite_terms` macro): the frameworks
    with questions for this perspective, the question sets, the limits of days, and the form as
    typed over its defaults (the terms' and the caller's own `defaults`)."""
    frameworks = askable_frameworks(all_frameworks(), perspective)
    chosen = {
        "days": str(DEFAULT_DAYS), "question_set": DEFAULT_QUESTION_SET,
        # With one framework there is nothing to choose; with several, staff pick their council's.
        "framework": next(iter(frameworks)) if len(frameworks) == 1 else "",
        **defaults, **{k: v for k, v in (form or {}).items() if v},
    }
    return {"form": chosen, "frameworks": frameworks, "set_options": question_set_options(frameworks, perspective),
            "min_days": MIN_DAYS, "max_days": MAX_DAYS}


@dataclass(frozen=True)
class InviteChoice:
    framework_id: str
    question_set: str
    days: int


def check_invite_choice(framework_id: str, question_set: str, days: str,
                        frameworks: dict[str, Framework]) -> InviteChoice | dict[str, str]:
    """The SENCO's choices for new invites; or what is wrong, by field, in words for them."""
    problems: dict[str, str] = {}
    if framework_id not in frameworks:
        problems["framework"] = "Please choose which outcomes framework to use."
    if question_set not in QUESTION_SETS:
        problems["question_set"] = "Please choose how many questions to ask."
    number = int(days.strip()) if days.strip().isdigit() and len(days.strip()) < 4 else None
    if number is None or not MIN_DAYS <= number <= MAX_DAYS:
        problems["days"] = f"Please type a number of days from {MIN_DAYS} to {MAX_DAYS}, for example {DEFAULT_DAYS}."
    if problems:
        return problems
    return InviteChoice(framework_id, question_set, number)


def create_invites(db: Session, staff: StaffUser, pupils: list[Pupil], choice: InviteChoice,
                   now: datetime | None = None, *, perspective: str = DEFAULT_PERSPECTIVE) -> list[Invite]:
    """A new code for each pupil (or for each pupil's parent carer), and one audit entry saying for whom."""
    invites = [
        repo.create_invite(db, pupil, choice.framework_id, created_by=staff, perspective=perspective,
                           question_set=choice.question_set, valid_for=timedelta(days=choice.days), now=now)
        for pupil in pupils
    ]
    repo.audit(db, staff, "create_invites", "invite", invites[0].id if len(invites) == 1 else None,
               pupil=pupils[0] if len(pupils) == 1 else None,
               detail={"pupil_ids": [p.id for p in pupils], "count": len(invites),
                       "invite_ids": [i.id for i in invites], "framework_id": choice.framework_id,
                       "question_set": choice.question_set, "days": choice.days, "perspective": perspective})
    return invites


def create_partner_invites(db: Session, staff: StaffUser, partner_role: str, count: int, choice: InviteChoice,
                           now: datetime | None = None) -> list[Invite]:
    """`count` new codes for partners of one kind of service (no pupil, no school), audited."""
    invites = [
        repo.create_partner_invite(db, choice.framework_id, partner_role, created_by=staff,
                                   question_set=choice.question_set, valid_for=timedelta(days=choice.days), now=now)
        for _ in range(count)
    ]
    repo.audit(db, staff, "create_partner_invites", "invite", invites[0].id if count == 1 else None,
               detail={"count": count, "invite_ids": [i.id for i in invites], "partner_role": partner_role,
                       "framework_id": choice.framework_id, "question_set": choice.question_set,
                       "days": choice.days})
    return invites


# ---- a pupil's invites -------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteRow:
    invite: Invite
    use: str | None  # the status of the invite's latest check-in; None if never used

    @property
    def code(self) -> str:
        return format_code(self.invite.code)

    @property
    def use_label(self) -> str:
        return invite_use(self.use)

    @property
    def for_whom(self) -> str:
        """'The pupil', 'Their parent carer', or a partner's kind of service."""
        if self.invite.perspective == PARTNERS:
            return PARTNER_ROLE_WORDS[self.invite.partner_role]
        return WHOSE_CHECKIN[self.invite.perspective]


def pupil_invites(db: Session, pupil: Pupil) -> list[InviteRow]:
    """The pupil's invites, newest first, each with how far its latest check-in got."""
    ranked_sessions = (
        select(SurveySession.invite_id, SurveySession.status,
               func.row_number().over(partition_by=SurveySession.invite_id, order_by=SurveySession.id.desc())
               .label("newest"))
        .where(SurveySession.pupil_id == pupil.id)
        .subquery()
    )
    rows = db.execute(
        select(Invite, ranked_sessions.c.status)
        .outerjoin(ranked_sessions, and_(ranked_sessions.c.invite_id == Invite.id, ranked_sessions.c.newest == 1))
        .where(Invite.pupil_id == pupil.id)
        .order_by(Invite.id.desc())
    )
    return [InviteRow(invite, status) for invite, status in rows]


def school_invites(db: Session, school_id: int, invite_ids: list[int]) -> list[Invite] | None:
    """These invites, in the order made, if every one is the school's; else None."""
    invites = list(db.scalars(
        select(Invite).options(selectinload(Invite.pupil))
        .where(Invite.id.in_(invite_ids), Invite.school_id == school_id).order_by(Invite.id)))
    return invites if invite_ids and len(invites) == len(set(invite_ids)) else None


# ---- printable slips ---------------------------------------------------------------------------


def start_url(public_url: str, code: str) -> str:
    """The address a slip's QR code opens: the young people's page with the code typed in."""
    return f"{public_url.rstrip('/')}/?{urlencode({'code': format_code(code)})}"


def qr_svg(url: str, title: str = "QR code: scan it to open Heard with this code") -> Markup:
    """`url` as a QR code, as inline SVG (sized by CSS through its viewBox; no style attribute)."""
    svg = segno.make(url, error="m").svg_inline(omitsize=True, svgclass="qr", lineclass=None, title=title)
    # Markup is safe: segno writes only numbers and path letters, and the titles are fixed text.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


@dataclass(frozen=True)
class Slip:
    heading: str  # only a first name goes on paper that may be left lying about
    code: str  # as shown: ABCD-EFGH
    expires_at: datetime
    qr: Markup


def slip_heading(invite: Invite) -> str:
    """Whom the slip is for: 'Sam, this is your Heard code', or for Sam's parent carer, or a partner."""
    if invite.perspective == PARTNERS:
        return f"Your Heard code, for partners in {PARTNER_ROLE_WORDS[invite.partner_role].lower()}"
    first_name = invite.pupil.display_name.split()[0]
    if invite.perspective == PARENT_CARERS:
        return f"For {first_name}'s parent carer: your Heard code"
    return f"{first_name}, this is your Heard code"


def slips(invites: list[Invite], public_url: str) -> list[Slip]:
    return [
        Slip(slip_heading(invite), format_code(invite.code), invite.expires_at,
             qr_svg(start_url(public_url, invite.code)))
        for invite in invites
    ]


def _invited_by_the_council(council_id: int | None):
    """SQL: an invite made by an officer of this council (partners belong to no school)."""
    return Invite.created_by_id.in_(select(StaffUser.id).where(StaffUser.council_id == council_id)) \
        if council_id is not None else false()


def partner_invites(db: Session, council_id: int | None) -> list[InviteRow]:
    """The council's partner invites, newest first, with how far each one's latest check-in got."""
    latest = (
        select(SurveySession.invite_id, SurveySession.status,
               func.row_number().over(partition_by=SurveySession.invite_id, order_by=SurveySession.id.desc())
               .label("newest"))
        .where(SurveySession.perspective == PARTNERS)
        .subquery()
    )
    rows = db.execute(
        select(Invite, latest.c.status)
        .outerjoin(latest, and_(latest.c.invite_id == Invite.id, latest.c.newest == 1))
        .where(Invite.perspective == PARTNERS, _invited_by_the_council(council_id))
        .order_by(Invite.id.desc())
    )
    return [InviteRow(invite, status) for invite, status in rows]


def these_partner_invites(db: Session, council_id: int | None, invite_ids: list[int]) -> list[Invite] | None:
    """These partner invites, in the order made, if every one is a partner's of this council; else None."""
    invites = list(db.scalars(select(Invite).where(Invite.id.in_(invite_ids), Invite.perspective == PARTNERS,
                                                   _invited_by_the_council(council_id))
                              .order_by(Invite.id)))
    return invites if invite_ids and len(invites) == len(set(invite_ids)) else None
