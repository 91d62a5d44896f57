"""Partners (health, social care, education services) on the council's side: an officer makes
their codes and slips (a kind of service, no pupil, no school); their check-ins are counted per
area beside the young people's and parent carers' in the council view, small numbers hidden;
no school's staff can open one; a worry in one still reaches a person."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from bot.outbox import ESCALATE_AFTER, ESCALATION_SUBJECT, escalate_undelivered
from bot.reports.council import term_start
from bot.reports.other_voices import other_voices
from framework.alerts import PARTNER_SUBJECT, raise_alert
from framework.db import repository as repo
from framework.db.codes import format_code
from framework.db.models import Invite, OutboxEmail, SurveySession, utcnow
from framework.loader import load_framework
from framework.settings import get_settings
from tests.unit.staff_site import CSRF_IN_PAGE, staff_db_url, staff_site  # noqa: F401

SHROPSHIRE = load_framework("shropshire")
COUNCIL = ("school_family_and_council",)


# The council's figures count whole terms only: these check-ins are in the last one.
LAST_TERM = term_start(utcnow()) - timedelta(days=20)


def partner_checkin(site, role: str = "health", answers: dict[str, str] | None = None,
                    consent: tuple[str, ...] = COUNCIL, created_by: str | None = "officer@council.example") -> int:
    """A partner's finished check-in last term, as the chat stores it, from a code the officer made:
    every core question answered Yes unless said."""
    answers = answers or {s.id: "yes" for s in SHROPSHIRE.questions("partners", "core")}
    with site.sessions.begin() as db:
        officer = repo.find_staff_by_email(db, created_by) if created_by else None
        invite = repo.create_partner_invite(db, "shropshire", role, created_by=officer, question_set="core",
                                            now=LAST_TERM)
        session = repo.start_or_resume_session(db, invite).session
        session.started_at = LAST_TERM
        for statement_id, value in answers.items():
            repo.record_answer(db, session, statement_id, SHROPSHIRE.area_of(statement_id).id, value, "tapped",
                               now=LAST_TERM)
        repo.record_consent(db, session, consent, now=LAST_TERM)
        repo.set_status(db, session, "finished")
        return session.id


def council_of(site, email: str) -> int | None:
    with site.sessions() as db:
        return repo.find_staff_by_email(db, email).council_id


@pytest.fixture
def officer(staff_site):
    with staff_site.sessions.begin() as db:
        council_id = repo.create_council(db, "Shropshire Council").id
    email = staff_site.account("la_officer", None, "officer@council.example", council_id=council_id)
    assert staff_site.sign_in(email).url.path == "/staff"
    return email


def test_an_officer_makes_partner_codes_and_slips_with_no_pupil_or_school(staff_site, officer):
    page = staff_site.client.get("/staff/council")
    assert 'href="/staff/council/partners"' in page.text
    form = staff_site.client.get("/staff/council/partners")
    assert "Which kind of service they work in" in form.text and "York" not in form.text
    made = staff_site.client.post("/staff/council/partners", data={
        "csrf_token": CSRF_IN_PAGE.search(form.text).group(1), "partner_role": "social_care", "count": "3",
        "framework": "shropshire", "question_set": "standard", "days": "30"})
    assert made.status_code == 200 and made.text.count("Your Heard code, for partners in social care") == 3
    with staff_site.sessions() as db:
        invites = list(db.scalars(select(Invite)))
    assert [(i.perspective, i.partner_role, i.pupil_id, i.school_id) for i in invites] == \
        [("partners", "social_care", None, None)] * 3
    [entry] = staff_site.audit("create_partner_invites")
    assert entry.detail["count"] == 3 and entry.pupil_id is None
    listed = staff_site.client.get("/staff/council/partners").text
    assert listed.count("Social care") >= 3 and "Not used yet" in listed


def test_a_wrong_partner_form_says_what_to_fix_and_makes_nothing(staff_site, officer):
    form = staff_site.client.get("/staff/council/partners")
    sent = staff_site.client.post("/staff/council/partners", data={
        "csrf_token": CSRF_IN_PAGE.search(form.text).group(1), "partner_role": "police", "count": "500",
        "framework": "york", "question_set": "core", "days": "30"})
    assert sent.status_code == 422
    for problem in ("Please choose the kind of service", "from 1 to 50", "Please choose which outcomes framework"):
        assert problem in sent.text
    with staff_site.sessions() as db:
        assert db.scalar(select(Invite.id)) is None


def test_partners_are_counted_per_area_beside_the_young_people_with_small_numbers_hidden(staff_site, officer):
    safe = "shropshire.safe.p2"  # the core partner question in "Being safe"
    for number in range(5):
        partner_checkin(staff_site, answers={safe: "yes" if number < 3 else "no"})
    partner_checkin(staff_site, answers={safe: "no"}, consent=("school",))  # not for the council: not counted
    heard_only = {"shropshire.heard.p3": "sometimes"}
    for _ in range(4):
        partner_checkin(staff_site, answers=heard_only)  # four: hidden
    with staff_site.sessions() as db:
        voices = other_voices(db, council_of(staff_site, officer), "shropshire")
        # Another council's officers, and an officer with no council, count none of them.
        elsewhere = repo.create_council(db, "Telford Council").id
        for other in (elsewhere, None):
            assert all(v.area.figures is None for vs in other_voices(db, other, "shropshire").values() for v in vs)
    [partners] = [v for v in voices["shropshire.safe"] if v.perspective == "partners"]
    assert (partners.area.figures.pupils, partners.area.figures.counts) == (5, (3, 0, 2, 0, 0))
    [heard] = [v for v in voices["shropshire.heard"] if v.perspective == "partners"]
    assert heard.area.suppressed and heard.area.figures is None
    assert all(row.suppressed for statement, row in heard.statements if statement.id == "shropshire.heard.p3")
    [parents] = [v for v in voices["shropshire.safe"] if v.perspective == "parent_carers"]
    assert parents.area.figures is None and not parents.area.suppressed  # no answers yet

    staff_site.checkin(staff_site.pupil(staff_site.school("Oak School", council_of(staff_site, officer)), "Amy Oak"),
                       framework_id="shropshire", consent=COUNCIL, at=LAST_TERM)
    page = staff_site.client.get("/staff/council?framework=shropshire").text
    areas = [a.id for a in SHROPSHIRE.areas]
    safe_area = page.split(f'id="area-{areas.index("shropshire.safe") + 1}-others"')[1].split("</section>")[0]
    assert "Partners: answers to their statements" in safe_area
    assert str(escape(SHROPSHIRE.statement(safe).text)) in safe_area
    # 3 said Yes and 2 No: in a shown row, counts under 5 are hidden as the young people's are.
    assert '<td class="number">5</td>' in safe_area and "(60%)" not in safe_area and "hidden-count" in safe_area
    heard_area = page.split('id="area-1-others"')[1].split("</section>")[0]
    assert "fewer than 5 people, or hidden to protect such a row" in heard_area

    exported = staff_site.client.get("/staff/council.csv?framework=shropshire").text.lstrip("\ufeff")
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["Split by"] == "Whose view"]
    [safe_row] = [r for r in rows if r["Statement id"] == safe and r["Row"] == "Partners"]
    # 3 said Yes and 2 No: counts under 5 in a shown row are hidden, as the young people's are.
    assert (safe_row["Pupils"], safe_row["Answers"], safe_row["Yes (answers)"], safe_row["No (%)"],
            safe_row["Suppressed"]) == ("5", "5", "", "", "some counts hidden")
    [heard_row] = [r for r in rows if r["Statement id"] == "shropshire.heard.p3"]
    assert (heard_row["Pupils"], heard_row["Suppressed"]) == ("", "suppressed")


def test_an_officer_sees_and_prints_only_their_own_councils_partner_codes(staff_site, officer):
    with staff_site.sessions.begin() as db:
        elsewhere = repo.create_council(db, "Telford Council").id
    other = staff_site.account("la_officer", None, "officer@telford.example", council_id=elsewhere)
    partner_checkin(staff_site, created_by=other)
    with staff_site.sessions() as db:
        theirs = db.scalars(select(Invite)).one()
    listed = staff_site.client.get("/staff/council/partners")
    shown = format_code(theirs.code)
    assert listed.status_code == 200 and shown not in listed.text
    slips = staff_site.client.get(f"/staff/council/partners/slips?invite={theirs.id}")
    assert shown not in slips.text and "Your Heard code" not in slips.text


def test_no_schools_staff_can_open_a_partners_checkin(staff_site):
    session_id = partner_checkin(staff_site, created_by=None)
    school = staff_site.school("Oak School")
    staff_site.sign_in(staff_site.account("senco", school))
    assert staff_site.client.get(f"/staff/checkins/{session_id}").status_code == 404


def test_a_worry_in_a_partners_checkin_goes_to_the_inviting_officer_and_the_admins(staff_site):
    staff_site.account("admin", None, "admin@council.example")
    staff_site.account("la_officer", None, "officer@council.example")
    session_id = partner_checkin(staff_site, created_by="officer@council.example")
    with staff_site.sessions.begin() as db:
        alert = raise_alert(db, db.get(SurveySession, session_id), words="a child told me they are hit at home",
                            categories=["abuse_physical"], evidence=["hit"], source="screen")
        assert (alert.pupil_id, alert.school_id, alert.perspective) == (None, None, "partners")
        emails = list(db.scalars(select(OutboxEmail).where(OutboxEmail.alert_id == alert.id)))
    assert sorted(e.to_address for e in emails) == ["admin@council.example", "officer@council.example"]
    assert all(e.subject == PARTNER_SUBJECT and "hit at home" not in e.body for e in emails)


def test_a_partners_alert_email_that_does_not_go_is_escalated_and_shown_to_the_admins(staff_site):
    admin = staff_site.account("admin", None, "admin@council.example")
    session_id = partner_checkin(staff_site)
    with staff_site.sessions.begin() as db:
        alert = raise_alert(db, db.get(SurveySession, session_id), words="a child told me they are hit at home",
                            categories=["abuse_physical"], evidence=["hit"], source="screen")
        for email in db.scalars(select(OutboxEmail).where(OutboxEmail.alert_id == alert.id)):
            email.created_at = utcnow() - ESCALATE_AFTER - timedelta(minutes=1)  # and still not sent
    escalate_undelivered(staff_site.sessions, get_settings())  # (unless the web app's own outbox did just now)
    with staff_site.sessions() as db:
        [told] = db.scalars(select(OutboxEmail).where(OutboxEmail.subject == ESCALATION_SUBJECT))
    assert told.to_address == admin and "Please phone the officer who invited the partner now." in told.body
    staff_site.sign_in(admin)
    home = staff_site.client.get("/staff").text
    assert "An alert email about a partner&#39;s check-in has not been delivered" in home
