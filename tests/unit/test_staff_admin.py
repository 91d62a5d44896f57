"""Administrators' pages: accounts (make, deactivate, reactivate, unlock, new password), schools,
and the audit log. Administrators only; every change audited; no child's words anywhere."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.auth.headers import CONTENT_SECURITY_POLICY
from bot.staff.wording import SCHOOL_TIME
from framework.db import repository as repo
from framework.db.models import OutboxEmail, SafeguardingAlert, School, StaffUser, utcnow
from tests.unit.staff_site import PASSWORD, staff_db_url, staff_site, type_code  # noqa: F401

ACCOUNTS, SCHOOLS, AUDIT = "/staff/admin/accounts", "/staff/admin/schools", "/staff/admin/audit"
COUNCILS = "/staff/admin/councils"
SHOWN_PASSWORD = re.compile(r'<p class="password"><code>([^<]+)</code></p>')


@pytest.fixture
def oak(staff_site) -> int:
    return staff_site.school("Oak Primary")


@pytest.fixture
def admin(staff_site) -> str:
    email = staff_site.account("admin", email="admin@council.example")
    assert staff_site.sign_in(email).url.path == "/staff"
    return email


def post(site, path: str, **fields) -> object:
    return site.client.post(path, data={"csrf_token": site.token(path), **fields})


def sign_in_afresh(site, email: str, password: str = PASSWORD):
    site.client.cookies.clear()
    return site.sign_in(email, password)


def make_account(site, email: str, role: str, school_id: int | str = "",
                 council_id: int | str = "") -> tuple[object, str | None]:
    page = post(site, ACCOUNTS, action="create", email=email, role=role, school_id=str(school_id),
                council_id=str(council_id))
    shown = SHOWN_PASSWORD.search(page.text)
    return page, html.unescape(shown.group(1)) if shown else None


def test_an_admin_makes_a_senco_account_who_signs_in_with_the_password_shown_once(staff_site, oak, admin):
    page, password = make_account(staff_site, " New.SENCO@Oak.example ", "senco", oak)
    assert page.status_code == 200 and password and len(password) >= 12
    assert "The account for new.senco@oak.example is made." in page.text
    assert "Heard does not show it again" in page.text
    stored = staff_site.staff_user("new.senco@oak.example")
    assert (stored.role, stored.school_id, stored.active) == ("senco", oak, True)
    assert password not in stored.password_hash
    assert password not in staff_site.client.get(ACCOUNTS).text  # shown once only
    [entry] = staff_site.audit("account_created")
    assert entry.actor_id == staff_site.staff_user(admin).id and entry.object_id == str(stored.id)
    assert entry.detail == {"email": "new.senco@oak.example", "role": "senco", "school_id": oak}
    assert password not in str(entry.detail)

    signed_in = sign_in_afresh(staff_site, "new.senco@oak.example", password)
    # The administrator has seen it: the SENCO chooses their own before any page.
    assert signed_in.url.path == "/staff/password" and "new.senco@oak.example" in signed_in.text


def test_an_officer_account_has_a_council_and_no_school(staff_site, oak, admin):
    north = staff_site.council("Northshire Council")
    page, password = make_account(staff_site, "officer@council.example", "la_officer", oak, north)
    assert page.status_code == 422 and password is None
    assert "Local authority officers and administrators work across schools" in html.unescape(page.text)
    page, password = make_account(staff_site, "officer@council.example", "la_officer")
    assert page.status_code == 422 and "please choose their council" in page.text and password is None
    page, password = make_account(staff_site, "senco@oak.example", "senco", oak, north)
    assert page.status_code == 422 and "Only local authority officers belong to a council" in html.unescape(page.text)
    page, password = make_account(staff_site, "officer@council.example", "la_officer", "", north)
    officer = staff_site.staff_user("officer@council.example")
    assert password and officer.school_id is None and officer.council_id == north
    [entry] = staff_site.audit("account_created")
    assert entry.detail == {"email": "officer@council.example", "role": "la_officer", "school_id": None,
                            "council_id": north}


@pytest.mark.parametrize(("email", "role", "school", "status", "says"), [
    ("not-an-email", "senco", "oak", 422, "Please type the person's email address"),
    ("x@oak.example", "", "oak", 422, "Please choose what the person does"),
    ("x@oak.example", "headteacher", "oak", 422, "Please choose what the person does"),
    ("x@oak.example", "dsl", "", 422, "A SENCO or safeguarding lead needs a school"),
    ("x@oak.example", "dsl", "99999", 422, "A SENCO or safeguarding lead needs a school"),
    ("admin@council.example", "admin", "", 409, "There is already an account for admin@council.example"),
])
def test_a_new_account_that_cannot_be_made_keeps_what_was_typed(staff_site, oak, admin, email, role, school, status,
                                                               says):
    school_id = str(oak) if school == "oak" else school
    page, password = make_account(staff_site, email, role, school_id)
    assert page.status_code == status and password is None
    assert says in html.unescape(page.text) and "Nothing was saved" in page.text
    assert f'name="email" type="email" autocomplete="off" maxlength="254" required value="{email}"' in page.text
    if school == "oak":
        assert f'<option value="{oak}" selected>Oak Primary</option>' in page.text
    assert staff_site.audit("account_created") == []


def test_a_stale_form_keeps_what_was_typed_and_saves_nothing(staff_site, oak, admin):
    page = staff_site.client.post(ACCOUNTS, data={"csrf_token": "from-an-old-page", "action": "create",
                                                  "email": "kept@oak.example", "role": "dsl", "school_id": str(oak)})
    assert page.status_code == 403 and "This page was open too long, so nothing was saved" in page.text
    assert 'value="kept@oak.example"' in page.text and '<option value="dsl" selected>' in page.text
    assert f'<option value="{oak}" selected>' in page.text
    assert staff_site.staff_user("kept@oak.example") is None
    school = staff_site.client.post(SCHOOLS, data={"csrf_token": "old", "name": "Birch & Co <School>", "urn": "123456"})
    assert school.status_code == 403 and 'value="Birch &amp; Co &lt;School&gt;"' in school.text
    assert 'value="123456"' in school.text


def test_a_new_account_sent_after_the_sign_in_ran_out_is_put_back(staff_site, oak, admin):
    token = staff_site.token(ACCOUNTS)
    staff_site.client.cookies.clear()
    page = staff_site.client.post(ACCOUNTS, data={"csrf_token": token, "action": "create", "email": "late@oak.example",
                                                  "role": "senco", "school_id": str(oak)})
    assert page.status_code == 401 and "late@oak.example" in page.text
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    back = type_code(staff_site.client, staff_site.sessions, admin, staff_site.client.post("/staff/login", data={
        "csrf_token": login_token, "email": admin, "password": PASSWORD, "next": ACCOUNTS,
        "draft.email": "late@oak.example", "draft.role": "senco", "draft.school_id": str(oak)}))
    assert back.status_code == 200 and "You are signed in again. Nothing was saved yet" in back.text
    assert 'value="late@oak.example"' in back.text and '<option value="senco" selected>' in back.text
    assert f'<option value="{oak}" selected>' in back.text
    assert staff_site.staff_user("late@oak.example") is None


def account_action(site, email: str, action: str):
    return post(site, ACCOUNTS, action=action, account_id=str(site.staff_user(email).id))


def test_deactivating_stops_sign_in_and_reactivating_allows_it(staff_site, oak, admin):
    dsl = staff_site.account("dsl", oak)
    page = account_action(staff_site, dsl, "deactivate")
    assert page.url.path == ACCOUNTS and f"{dsl} can no longer sign in" in page.text
    assert not staff_site.staff_user(dsl).active
    refused = sign_in_afresh(staff_site, dsl)
    assert refused.status_code == 401 and "That email or password is not right" in refused.text

    sign_in_afresh(staff_site, admin)
    again = account_action(staff_site, dsl, "reactivate")
    assert f"{dsl} can sign in again" in again.text and staff_site.staff_user(dsl).active
    assert sign_in_afresh(staff_site, dsl).url.path == "/staff"
    admin_id = staff_site.staff_user(admin).id
    assert [(e.actor_id, e.detail["email"]) for e in staff_site.audit("account_deactivated")] == [(admin_id, dsl)]
    assert [(e.actor_id, e.detail["email"]) for e in staff_site.audit("account_reactivated")] == [(admin_id, dsl)]


def test_a_deactivated_account_already_signed_in_is_signed_out(staff_site, oak, admin):
    senco = staff_site.account("senco", oak)
    with staff_site.sessions.begin() as db:
        repo.find_staff_by_email(db, senco).active = False
    sign_in_afresh(staff_site, senco)
    assert staff_site.client.get("/staff", follow_redirects=False).headers["location"] == "/staff/login"


def test_an_admin_cannot_deactivate_themselves(staff_site, admin):
    page = account_action(staff_site, admin, "deactivate")
    assert page.status_code == 409 and "You cannot deactivate your own account" in page.text
    assert staff_site.staff_user(admin).active and staff_site.audit("account_deactivated") == []
    assert 'value="deactivate"' not in staff_site.client.get(ACCOUNTS).text  # no button for it either


def test_unlocking_a_locked_account_lets_them_sign_in_at_once(staff_site, oak, admin):
    dsl = staff_site.account("dsl", oak)
    with staff_site.sessions.begin() as db:
        account = repo.find_staff_by_email(db, dsl)
        account.locked_until, account.failed_logins = utcnow() + timedelta(minutes=15), 3
    listing = staff_site.client.get(ACCOUNTS).text
    assert "Locked until" in listing and 'value="unlock"' in listing
    page = account_action(staff_site, dsl, "unlock")
    assert f"{dsl} is unlocked" in page.text and "Locked until" not in page.text
    stored = staff_site.staff_user(dsl)
    assert stored.locked_until is None and stored.failed_logins == 0
    assert len(staff_site.audit("account_unlocked")) == 1
    assert sign_in_afresh(staff_site, dsl).url.path == "/staff"


def test_a_new_password_is_shown_once_and_the_old_one_stops_working(staff_site, oak, admin):
    senco = staff_site.account("senco", oak)
    page = account_action(staff_site, senco, "reset_password")
    password = html.unescape(SHOWN_PASSWORD.search(page.text).group(1))
    assert f"The password for {senco}" in page.text
    [entry] = staff_site.audit("account_password_reset")
    assert entry.detail == {"email": senco} and password not in str(entry.detail)
    assert sign_in_afresh(staff_site, senco).status_code == 401  # the old password
    assert sign_in_afresh(staff_site, senco, password).url.path == "/staff/password"


def test_an_unknown_account_or_button_changes_nothing(staff_site, admin):
    for account_id, action in (("99999", "deactivate"), ("abc", "unlock"), (str(staff_site.staff_user(admin).id), "delete")):
        page = post(staff_site, ACCOUNTS, action=action, account_id=account_id)
        assert page.status_code == 404 and "That account could not be found, so nothing was changed" in page.text


def test_the_accounts_list_shows_each_account(staff_site, oak, admin):
    staff_site.account("senco", oak)
    page = staff_site.client.get(ACCOUNTS)
    assert page.status_code == 200 and "senco" + str(oak) + "@school.example" in page.text
    assert "SENCO" in page.text and "Oak Primary" in page.text and "Never" in page.text
    assert f"{admin} (you)" in page.text


def test_schools_listed_with_counts_and_added(staff_site, oak, admin):
    for name in ("Zebedee Quux", "Yolanda Frimp"):
        staff_site.pupil(oak, name)
    staff_site.account("senco", oak)
    page = staff_site.client.get(SCHOOLS)
    row = re.search(r'<th scope="row">Oak Primary</th>(.*?)</tr>', page.text, re.S).group(1)
    assert re.findall(r'<td class="number">(\d+)</td>', row) == ["2", "1"]
    assert "Zebedee" not in page.text and "Yolanda" not in page.text

    added = post(staff_site, SCHOOLS, name="  Birch   Academy ", urn="100234")
    assert added.url.path == SCHOOLS and "Birch Academy is added" in added.text
    with staff_site.sessions() as db:
        school = repo.find_school_by_urn(db, "100234")
        assert school.name == "Birch Academy"
    [entry] = staff_site.audit("school_created")
    assert entry.object_id == str(school.id) and entry.detail == {"name": "Birch Academy", "urn": "100234"}

    twice = post(staff_site, SCHOOLS, name="Another", urn="100234")
    assert twice.status_code == 409 and "Birch Academy already has URN 100234" in twice.text
    assert 'value="Another"' in twice.text
    for name, urn, says in (("", "", "Please type the school's name"), ("Cedar", "12-34", "A URN is")):
        refused = post(staff_site, SCHOOLS, name=name, urn=urn)
        assert refused.status_code == 422 and says in html.unescape(refused.text)
    with staff_site.sessions() as db:
        assert db.query(School).count() == 2


def test_the_audit_log_shows_who_did_what_with_pupil_ids_and_no_childs_words_or_staff_notes(staff_site, oak, admin):
    pupil = staff_site.pupil(oak, "Zebedee Quux")
    staff_site.checkin(pupil, {"york.safe.cyp1": "no"}, words={"york.safe.cyp1": "my secret trampoline"},
                       comments=(("york.safe", "anything_else", "the wobbly gazebo"),))
    alert_id = staff_site.alert(oak, "flamingo marmalade hurts", pupil="Yolanda Frimp",
                                context=(("in", "xylophone biscuit"),))
    lead = staff_site.account("dsl", oak)
    with staff_site.sessions.begin() as db:
        lead_user = repo.find_staff_by_email(db, lead)
        alert = db.get(SafeguardingAlert, alert_id)
        repo.audit(db, lead_user, "view_alert", "safeguarding_alert", alert_id, pupil=alert.pupil)
        repo.audit(db, lead_user, "alert_actioned", "safeguarding_alert", alert_id, pupil=alert.pupil,
                   detail={"action_taken": "Phoned the family."})
        # A SENCO's search for a pupil's name is theirs, not the administrator's.
        repo.audit(db, None, "view_pupil_list", "school", oak, detail={"filters": {"name": "Quentin"}, "pupil_count": 1})
        # A detail that should never hold a child's words is not shown even if it did.
        repo.audit(db, None, "odd_entry", "pupil", detail={"words": "flamingo marmalade", "nested": {"text": "gazebo"}})
        alert_pupil = alert.pupil_id
    make_account(staff_site, "new@oak.example", "senco", oak)

    page = staff_site.client.get(AUDIT)
    assert page.status_code == 200
    text = html.unescape(page.text)
    for secret in ("trampoline", "gazebo", "flamingo", "marmalade", "xylophone", "biscuit", "Zebedee", "Yolanda",
                   "Phoned the family", "Quentin"):
        assert secret not in text
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    first = rows[1]  # newest first: this very view
    assert "view audit log" in first and admin in first
    alert_row = next(r for r in rows if "alert actioned" in r)
    assert lead in alert_row and f"safeguarding alert {alert_id}" in alert_row
    assert f"<td>{alert_pupil}</td>" in alert_row
    assert any("account created" in r and "new@oak.example" in r for r in rows)
    assert any("odd entry" in r and "Heard itself" in r for r in rows)
    [view] = staff_site.audit("view_audit_log")
    assert view.detail == {"action": "", "actor": "", "day": "", "page": 1}


def test_the_schools_staff_are_told_when_an_administrator_changes_its_safeguarding_lead(staff_site, oak, admin):
    """An administrator could give a lead's account a new password and read every worry with it."""
    birch = staff_site.school("Birch Academy")
    lead, senco, elsewhere = (staff_site.account("dsl", oak), staff_site.account("senco", oak),
                              staff_site.account("senco", birch))
    account_action(staff_site, senco, "reset_password")  # not a lead: nobody told
    assert outbox(staff_site) == []
    account_action(staff_site, lead, "reset_password")
    told = outbox(staff_site)
    assert sorted(e.to_address for e in told) == sorted([lead, senco])
    assert all(lead in e.body and "Oak Primary" in e.body and "gave a new password" in e.body and "{" not in e.body
               for e in told)
    assert elsewhere not in [e.to_address for e in told]
    make_account(staff_site, "new.lead@oak.example", "dsl", oak)
    made = outbox(staff_site)[len(told):]
    assert sorted(e.to_address for e in made) == sorted([lead, senco, "new.lead@oak.example"])
    assert all("administrator made the safeguarding lead account new.lead@oak.example at Oak Primary" in e.body
               for e in made)


def outbox(site):
    with site.sessions() as db:
        return list(db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_the_audit_log_filters_by_action_actor_and_day(staff_site, oak, admin):
    lead = staff_site.account("dsl", oak, email="lead@oak.example")
    with staff_site.sessions.begin() as db:
        lead_user = repo.find_staff_by_email(db, lead)
        old = repo.audit(db, lead_user, "view_alert_queue", "safeguarding_alert")
        old.created_at = utcnow() - timedelta(days=3)
    by_action = staff_site.client.get(AUDIT, params={"action": "sign_in"}).text
    assert "sign in" in by_action and "view alert queue" not in by_action.split("<tbody>")[1]
    by_actor = staff_site.client.get(AUDIT, params={"actor": "LEAD@oak"}).text.split("<tbody>")[1]
    assert "view alert queue" in by_actor and admin not in by_actor
    today = utcnow().astimezone(SCHOOL_TIME).date()
    by_day = staff_site.client.get(AUDIT, params={"day": today.isoformat()}).text.split("<tbody>")[1]
    assert "view alert queue" not in by_day and "sign in" in by_day
    bad = staff_site.client.get(AUDIT, params={"day": "31/02/2025"})
    assert bad.status_code == 200 and "That date could not be read" in bad.text


def test_the_audit_log_is_paged_a_hundred_at_a_time(staff_site, admin):
    with staff_site.sessions.begin() as db:
        for i in range(150):
            repo.audit(db, None, "bulk_entry", "thing", i)
    first = staff_site.client.get(AUDIT, params={"action": "bulk_entry"}).text
    assert first.count("bulk entry</td>") == 100 and "thing 149" in first and "Older entries" in first
    older = staff_site.client.get(AUDIT, params={"action": "bulk_entry", "page": "2"}).text
    assert older.count("bulk entry</td>") == 50 and "thing 0<" in older and "Newer entries" in older
    assert "Older entries" not in older


@pytest.mark.parametrize("role", ["senco", "dsl", "la_officer"])
def test_other_roles_are_refused_every_admin_page(staff_site, oak, role):
    email = staff_site.account(role, None if role == "la_officer" else oak)
    staff_site.sign_in(email)
    for path in (ACCOUNTS, SCHOOLS, COUNCILS, AUDIT):
        page = staff_site.client.get(path)
        assert page.status_code == 403 and "Only Heard administrators can see this page" in page.text
    token = staff_site.token("/staff")
    made = staff_site.client.post(ACCOUNTS, data={"csrf_token": token, "action": "create",
                                                  "email": "sneaky@oak.example", "role": "admin"})
    assert made.status_code == 403 and staff_site.staff_user("sneaky@oak.example") is None
    added = staff_site.client.post(SCHOOLS, data={"csrf_token": token, "name": "Sneaky School"})
    assert added.status_code == 403
    council = staff_site.client.post(COUNCILS, data={"csrf_token": token, "name": "Sneaky Council"})
    assert council.status_code == 403
    with staff_site.sessions() as db:
        assert db.query(School).filter_by(name="Sneaky School").count() == 0
        assert db.query(StaffUser).count() == 1
    assert len(staff_site.audit("page_refused")) == 7 and staff_site.audit("view_audit_log") == []
    with staff_site.sessions() as db:
        assert repo.list_councils(db) == []


def test_admin_pages_have_a_strict_content_security_policy(staff_site, admin):
    for path in (ACCOUNTS, SCHOOLS, COUNCILS, AUDIT):
        page = staff_site.client.get(path)
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "<script" not in page.text and " style=" not in page.text
    assert staff_site.client.get("/staff/static/admin.css").status_code == 200


def test_councils_are_added_and_schools_and_officers_put_in_them(staff_site, oak, admin):
    added = post(staff_site, COUNCILS, name="  Northshire   Council ")
    assert added.url.path == COUNCILS and "Northshire Council is added" in added.text
    with staff_site.sessions() as db:
        north = repo.find_council_by_name(db, "northshire council").id
    assert post(staff_site, COUNCILS, name="NORTHSHIRE COUNCIL").status_code == 409
    assert post(staff_site, COUNCILS, name="   ").status_code == 422
    [entry] = staff_site.audit("council_created")
    assert entry.object_id == str(north) and entry.detail == {"name": "Northshire Council"}

    # A school is put in a council when it is added, or later; and taken out again.
    birch = post(staff_site, SCHOOLS, name="Birch Academy", urn="", council_id=str(north))
    assert birch.url.path == SCHOOLS
    moved = post(staff_site, SCHOOLS, action="set_council", school_id=str(oak), council_id=str(north))
    assert moved.url.path == SCHOOLS and "Oak Primary is now in Northshire Council" in moved.text
    with staff_site.sessions() as db:
        assert {s.name: s.council_id for s in repo.list_schools(db)} == {"Birch Academy": north, "Oak Primary": north}
    row = re.search(r'<th scope="row">Northshire Council</th>(.*?)</tr>', staff_site.client.get(COUNCILS).text, re.S)
    assert re.findall(r'<td class="number">(\d+)</td>', row.group(1)) == ["2", "0"]
    out = post(staff_site, SCHOOLS, action="set_council", school_id=str(oak), council_id="")
    assert "Oak Primary is now in no council" in out.text
    assert post(staff_site, SCHOOLS, action="set_council", school_id="99999", council_id=str(north)).status_code == 404
    assert post(staff_site, SCHOOLS, action="set_council", school_id=str(oak), council_id="99999").status_code == 422
    changes = staff_site.audit("school_council_changed")
    assert [e.detail for e in changes] == [{"name": "Oak Primary", "council_id": north},
                                           {"name": "Oak Primary", "council_id": None}]

    # An officer's council is changed from the accounts page; only an officer's.
    south = staff_site.council("Southshire Council")
    officer = staff_site.account("la_officer", email="officer@council.example", council_id=north)
    officer_id = staff_site.staff_user(officer).id
    changed = post(staff_site, ACCOUNTS, action="set_council", account_id=str(officer_id), council_id=str(south))
    assert changed.url.path == ACCOUNTS and "officer@council.example now sees the figures of Southshire Council" in changed.text
    assert staff_site.staff_user(officer).council_id == south
    senco = staff_site.staff_user(staff_site.account("senco", oak)).id
    refused = post(staff_site, ACCOUNTS, action="set_council", account_id=str(senco), council_id=str(south))
    assert refused.status_code == 422 and staff_site.staff_user("senco" + str(oak) + "@school.example").council_id is None
    [entry] = staff_site.audit("account_council_changed")
    assert entry.detail == {"email": "officer@council.example", "council_id": south}
