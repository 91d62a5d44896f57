"""The authorisation matrix: every role × every staff route × their own and another school's
ids. A role sees only what it should; another school's record is "not found" (404) even to
the right role; a refused form changes nothing. A route added without a line here fails
`test_the_matrix_covers_every_staff_route`, so nothing new slips past this test."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.routers import admin, alerts, council, pupils, school_actions, staff, summaries, two_factor
from framework import we_did
from framework.db import repository as repo
from framework.db.models import Comment, Council, Invite, Pupil, SafeguardingAlert, School, SchoolAction, StaffUser, SurveySession
from framework.loader import load_framework
from tests.unit.staff_site import StaffSite, staff_db_url, staff_site  # noqa: F401  (the fixtures)

ROLES = ("admin", "senco", "dsl", "la_officer")
EVERYONE = set(ROLES)
CHILD_WORDS = "nobody lisens to me at break"
ALERT_WORDS = "my step dad hurts me"

# GET route -> the roles that may see it. Ids in braces come from the school being tried.
PAGES = {
    "/staff": EVERYONE,
    "/staff/password": EVERYONE,
    "/staff/two-factor/setup": EVERYONE,
    "/staff/alerts": {"dsl"},
    "/staff/alerts/{alert_id}": {"dsl"},
    "/staff/pupils": {"senco"},
    "/staff/pupils/invites": {"senco"},
    "/staff/pupils/slips?invite={invite_id}": {"senco"},
    "/staff/pupils/{pupil_id}": {"senco"},
    "/staff/pupils/{pupil_id}/invites": {"senco"},
    "/staff/pupils/{pupil_id}/parent-carer-invites": {"senco"},
    "/staff/pupils/{pupil_id}/erase": {"senco"},
    "/staff/pupils/{pupil_id}/over-time": {"senco"},
    "/staff/pupils/{pupil_id}/answers.csv": {"senco"},
    "/staff/checkins/{session_id}": {"senco"},
    "/staff/checkins/{session_id}/profile.pdf": {"senco"},
    "/staff/council": {"la_officer"},
    "/staff/council.csv": {"la_officer"},
    "/staff/council/partners": {"la_officer"},
    "/staff/council/partners/slips?invite={partner_invite_id}": {"la_officer"},
    "/staff/admin/accounts": {"admin"},
    "/staff/admin/schools": {"admin"},
    "/staff/admin/councils": {"admin"},
    "/staff/admin/audit": {"admin"},
}
# POST route -> (the roles that may send it, a form that the right role's send would carry out).
FORMS = {
    "/staff/pupils": ({"senco"}, {"name": "New Pupil", "year_group": "Year 3", "class_name": "3A"}),
    "/staff/pupils/invites": ({"senco"}, {"group": "year:Year 6", "framework": "york", "question_set": "core",
                                          "days": "28"}),
    "/staff/pupils/{pupil_id}/invites": ({"senco"}, {"framework": "york", "question_set": "core", "days": "28"}),
    "/staff/pupils/{pupil_id}/parent-carer-invites": ({"senco"}, {"framework": "shropshire", "question_set": "core",
                                                                   "days": "28"}),
    "/staff/pupils/{pupil_id}/erase": ({"senco"}, {"confirm": "yes"}),
    "/staff/checkins/{session_id}/actions": ({"senco"}, {"said": "answer-{answer_id}", "what": "A quiet lunch",
                                                         "who": "Mrs Patel", "due_on": "2030-01-31",
                                                         "child_words": "you can eat in the quiet room"}),
    "/staff/checkins/{session_id}/actions/{action_id}/done": ({"senco"}, {}),
    "/staff/checkins/{session_id}/comments/{comment_id}/area": ({"senco"}, {"area_id": "york.included"}),
    "/staff/alerts/{alert_id}": ({"dsl"}, {"step": "seen"}),
    "/staff/admin/accounts": ({"admin"}, {"action": "create", "email": "new.senco@school.example",
                                          "role": "senco", "school_id": "{school_id}"}),
    "/staff/admin/schools": ({"admin"}, {"name": "A New School", "urn": "999999"}),
    "/staff/admin/councils": ({"admin"}, {"name": "A New Council"}),
    "/staff/council/partners": ({"la_officer"}, {"partner_role": "health", "count": "2", "framework": "shropshire",
                                                 "question_set": "core", "days": "28"}),
}
# Open to anyone: signing in and out, the sign-in's code step, changing one's own password and
# setting up one's own two-factor sign-in (tests/unit/test_staff_auth.py, test_staff_two_factor.py).
PUBLIC = {("GET", "/staff/login"), ("POST", "/staff/login"), ("POST", "/staff/logout"), ("POST", "/staff/password"),
          ("GET", "/staff/two-factor"), ("POST", "/staff/two-factor"), ("POST", "/staff/two-factor/setup")}


@dataclass
class School_:
    school_id: int
    pupil_id: int
    session_id: int
    alert_id: int
    invite_id: int
    pupil_name: str
    answer_id: int
    action_id: int  # a "you said, we did" plan about that answer, not done yet
    partner_invite_id: int = 0  # the council's partner code; "another school's" is a pupil's code instead
    comment_id: int = 0  # a comment of the check-in, filed where Heard put it

    def fill(self, template: str) -> str:
        return template.format(**{k: v for k, v in vars(self).items() if k != "pupil_name"})


@pytest.fixture
def world(staff_site: StaffSite) -> dict[str, School_]:
    """Two schools, each in its own council, each with a senco and a dsl, a pupil who checked in
    (typed words), an alert and an invite; one admin, and one council officer of the own school's council."""
    york_core = load_framework("york").questions("children_young_people", "core")
    schools = {}
    for key in ("own", "other"):
        school_id = staff_site.school(f"{key.title()} School", staff_site.council(f"{key.title()} Council"))
        staff_site.account("senco", school_id, f"senco.{key}@school.example")
        staff_site.account("dsl", school_id, f"dsl.{key}@school.example")
        name = f"Pupil Of {key.title()}"
        pupil_id = staff_site.pupil(school_id, name, year_group="Year 6")
        session_id = staff_site.checkin(pupil_id, words={york_core[0].id: f"{CHILD_WORDS} ({key})"},
                                        consent=("school_family_and_council",))
        alert_id = staff_site.alert(school_id, f"{ALERT_WORDS} ({key})", pupil=f"Alerted {key}")
        with staff_site.sessions.begin() as db:
            invite_id = db.scalar(select(Invite.id).where(Invite.pupil_id == pupil_id))
            session = db.get(SurveySession, session_id)
            answer = repo.current_answers(db, session)[0]
            senco = repo.find_staff_by_email(db, f"senco.{key}@school.example")
            action = we_did.record(db, senco, session, answer=answer, what="A plan", who="Me", due_on=date(2030, 1, 1),
                                   child_words="we did a thing")
            answer_id, action_id = answer.id, action.id
            comment_id = repo.record_comment(db, session, "york.safe", "anything_else", f"a comment ({key})").id
        schools[key] = School_(school_id, pupil_id, session_id, alert_id, invite_id, name, answer_id, action_id,
                               comment_id=comment_id)
    staff_site.account("admin", None, "admin@council.example")
    with staff_site.sessions() as db:
        own_council = db.get(School, schools["own"].school_id).council_id
    staff_site.account("la_officer", None, "officer@council.example", council_id=own_council)
    with staff_site.sessions.begin() as db:
        officer = repo.find_staff_by_email(db, "officer@council.example")
        schools["own"].partner_invite_id = repo.create_partner_invite(db, "shropshire", "health", created_by=officer).id
    schools["other"].partner_invite_id = schools["other"].invite_id  # not a partner's: never a council slip
    return schools


def email_for(role: str) -> str:
    return {"senco": "senco.own@school.example", "dsl": "dsl.own@school.example",
            "admin": "admin@council.example", "la_officer": "officer@council.example"}[role]


def counts(site: StaffSite) -> dict[str, int]:
    with site.sessions() as db:
        return {
            "pupils": db.scalar(select(func.count()).select_from(Pupil)),
            "invites": db.scalar(select(func.count()).select_from(Invite)),
            "staff": db.scalar(select(func.count()).select_from(StaffUser)),
            "schools": db.scalar(select(func.count()).select_from(School)),
            "councils": db.scalar(select(func.count()).select_from(Council)),
            "alerts_moved_on": db.scalar(select(func.count()).select_from(SafeguardingAlert)
                                         .where(SafeguardingAlert.status != "open")),
            "comments_moved": db.scalar(select(func.count()).select_from(Comment)
                                        .where(Comment.moved_to_area_id.is_not(None))),
            "school_actions": db.scalar(select(func.count()).select_from(SchoolAction)),
            "school_actions_done": db.scalar(select(func.count()).select_from(SchoolAction)
                                             .where(SchoolAction.done_at.is_not(None))),
        }


def private_words(school: School_) -> list[str]:
    key = "own" if "Own" in school.pupil_name else "other"
    return [school.pupil_name, f"{CHILD_WORDS} ({key})", f"{ALERT_WORDS} ({key})"]


def test_the_matrix_covers_every_staff_route():
    routes = {(method, route.path) for module in (staff, two_factor, alerts, pupils, summaries, school_actions, council,
                                                  admin)
              for route in module.router.routes for method in route.methods if method != "HEAD"}
    listed = {("GET", path.split("?")[0]) for path in PAGES} | {("POST", path) for path in FORMS} | PUBLIC
    assert routes == listed


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PAGES)
def test_each_role_sees_only_its_own_pages_and_only_its_own_school(staff_site, world, role, path):
    own, other = world["own"], world["other"]
    staff_site.sign_in(email_for(role))
    page = staff_site.client.get(own.fill(path))
    if role in PAGES[path]:
        assert page.status_code == 200, own.fill(path)
    else:
        assert page.status_code in (403, 404), f"{role} reached {own.fill(path)}"
        shown = page.text
        for words in private_words(own) + private_words(other):
            assert words not in shown
    if "{" in path:
        elsewhere = staff_site.client.get(other.fill(path))
        assert elsewhere.status_code in ((404,) if role in PAGES[path] else (403, 404)), other.fill(path)
        for words in private_words(other):
            assert words not in elsewhere.text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", FORMS)
def test_a_form_sent_by_the_wrong_role_or_for_another_school_changes_nothing(staff_site, world, role, path):
    allowed, form = FORMS[path]
    own, other = world["own"], world["other"]
    staff_site.sign_in(email_for(role))
    token = staff_site.token("/staff")
    if "{" in path or role not in allowed:
        target = other if "{" in path else own
        before = counts(staff_site)
        sent = staff_site.client.post(target.fill(path), data={"csrf_token": token,
                                                               **{k: own.fill(v) for k, v in form.items()}})
        assert sent.status_code in (403, 404), f"{role} sent {target.fill(path)}: HTTP {sent.status_code}"
        assert counts(staff_site) == before
    if role in allowed:  # and the same form, for their own school, does work: the refusal was the point
        before = counts(staff_site)
        done = staff_site.client.post(own.fill(path), data={"csrf_token": token,
                                                            **{k: own.fill(v) for k, v in form.items()}})
        assert done.status_code == 200 and counts(staff_site) != before, own.fill(path)


@pytest.mark.parametrize("path", [p for p in PAGES if p != "/staff"])
def test_signed_out_visitors_see_nothing_and_are_sent_to_sign_in(staff_site, world, path):
    page = staff_site.client.get(world["own"].fill(path), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login?next=")
