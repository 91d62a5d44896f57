"""Two-factor sign-in (TOTP): safeguarding leads and administrators need a code from an app
after their password, set up at their first sign-in; anyone else may turn it on; a code works
once; wrong codes are limited; an administrator's reset is audited and told to the school."""
from __future__ import annotations

import html
import re

import pyotp
from sqlalchemy import select

from framework.db import repository as repo
from framework.db.models import OutboxEmail, StaffUser
from tests.unit.staff_site import (  # noqa: F401  (the fixtures)
    CSRF_IN_PAGE,
    PASSWORD,
    TOTP_SECRET,
    code_now,
    password_hash,
    staff_db_url,
    staff_site,
)

CODE_PAGE, SETUP = "/staff/two-factor", "/staff/two-factor/setup"
WRONG = "That code is not right, or it was already used"
SECRET_SHOWN = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')


def password_step(site, email: str, next_path: str = "/staff"):
    return site.client.post("/staff/login", data={"csrf_token": site.token(), "email": email, "password": PASSWORD,
                                                  "next": next_path})


def send_code(site, code: str, path: str = CODE_PAGE):
    return site.client.post(path, data={"csrf_token": site.token(path), "code": code})


def lead_without_two_factor(site) -> str:
    """A safeguarding lead as an administrator makes one: no two-factor set-up yet."""
    school = site.school("Oak School")
    with site.sessions.begin() as db:
        return repo.create_staff(db, "new.lead@oak.example", password_hash(), "dsl", db.get(repo.School, school)).email


def test_a_safeguarding_lead_without_a_valid_code_cannot_get_in(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    alert = staff_site.alert(staff_site.staff_user(email).school_id, "my step dad hurts me")
    asked = password_step(staff_site, email, f"/staff/alerts/{alert}")
    assert asked.url.path == CODE_PAGE and "Type your sign-in code" in asked.text
    # The right password alone opens nothing.
    for path in ("/staff", "/staff/alerts", f"/staff/alerts/{alert}"):
        assert staff_site.client.get(path).url.path == "/staff/login"
    assert staff_site.audit("sign_in") == []
    for wrong in ("000000", "12345", "abcdef", pyotp.TOTP(pyotp.random_base32()).now()):  # fewer than make it wait
        refused = send_code(staff_site, wrong)
        assert refused.status_code == 401 and WRONG in html.unescape(refused.text)
        assert staff_site.client.get("/staff/alerts").url.path == "/staff/login"
    assert len(staff_site.audit("two_factor_failed")) == 4

    signed_in = send_code(staff_site, code_now())
    assert signed_in.status_code == 200 and signed_in.url.path == f"/staff/alerts/{alert}"
    assert "my step dad hurts me" in signed_in.text
    assert [e.actor_id for e in staff_site.audit("sign_in")] == [staff_site.staff_user(email).id]


def test_a_code_is_refused_the_second_time(staff_site):
    """A code seen over someone's shoulder, or replayed from a log, does not sign in again."""
    email = staff_site.account("admin", email="admin@council.example")
    code = code_now()
    password_step(staff_site, email)
    assert send_code(staff_site, code).url.path == "/staff"
    staff_site.client.cookies.clear()
    password_step(staff_site, email)
    replayed = send_code(staff_site, code)
    assert replayed.status_code == 401 and WRONG in html.unescape(replayed.text)
    assert staff_site.client.get("/staff/admin/accounts").url.path == "/staff/login"
    # The code before it (still within its time) is refused too: only later codes count.
    earlier = pyotp.TOTP(TOTP_SECRET).at(staff_site.staff_user(email).totp_last_step * 30 - 30)
    assert send_code(staff_site, earlier).status_code == 401


def test_wrong_codes_are_limited_like_wrong_passwords(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    password_step(staff_site, email)
    assert [send_code(staff_site, "000000").status_code for _ in range(5)] == [401] * 5
    waiting = send_code(staff_site, code_now())  # even the right code waits, for now
    assert waiting.status_code == 429 and "too many wrong codes" in waiting.text
    assert staff_site.client.get("/staff").url.path == "/staff/login"


def test_a_new_safeguarding_lead_sets_it_up_before_any_page(staff_site):
    email = lead_without_two_factor(staff_site)
    first = password_step(staff_site, email)
    assert first.url.path == SETUP and "Set up two-factor sign-in" in first.text
    assert staff_site.client.get("/staff/alerts").url.path == SETUP
    secret = SECRET_SHOWN.search(first.text).group(1).replace(" ", "")
    assert secret == staff_site.staff_user(email).totp_secret and len(secret) >= 32
    uri = html.unescape(re.search(r'<code class="secret">(otpauth://[^<]+)</code>', first.text).group(1))
    assert pyotp.parse_uri(uri).secret == secret and "issuer=Heard" in uri
    assert '<svg role="img"' in first.text and "authenticator app" in first.text  # the QR code, drawn here
    assert SECRET_SHOWN.search(staff_site.client.get(SETUP).text).group(1).replace(" ", "") == secret  # same again

    assert send_code(staff_site, "123456", SETUP).status_code == 401
    assert staff_site.staff_user(email).totp_confirmed_at is None
    turned_on = send_code(staff_site, pyotp.TOTP(secret).now(), SETUP)
    assert turned_on.url.path == "/staff" and "Two-factor sign-in is on" in turned_on.text
    assert staff_site.client.get("/staff/alerts").status_code == 200
    assert len(staff_site.audit("two_factor_set_up")) == 1

    staff_site.client.cookies.clear()
    assert password_step(staff_site, email).url.path == CODE_PAGE  # from now on, a code every time


def test_other_staff_may_turn_it_on(staff_site):
    email = staff_site.account("senco", staff_site.school("Oak School"))
    assert staff_site.sign_in(email).url.path == "/staff"  # no code needed yet
    page = staff_site.client.get(SETUP)
    assert page.status_code == 200 and "A stolen password alone is then not enough" in page.text
    secret = SECRET_SHOWN.search(page.text).group(1).replace(" ", "")
    assert send_code(staff_site, pyotp.TOTP(secret).now(), SETUP).url.path == "/staff"
    staff_site.client.cookies.clear()
    assert password_step(staff_site, email).url.path == CODE_PAGE


def test_an_administrator_resets_a_lost_phone_audited_and_told_to_the_school(staff_site):
    school = staff_site.school("Oak School")
    lead = staff_site.account("dsl", school)
    staff_site.account("senco", school)
    admin = staff_site.account("admin", email="admin@council.example")
    staff_site.sign_in(admin)
    lead_id = staff_site.staff_user(lead).id
    reset = staff_site.client.post("/staff/admin/accounts", data={
        "csrf_token": staff_site.token("/staff/admin/accounts"), "action": "reset_two_factor",
        "account_id": str(lead_id)})
    assert reset.url.path == "/staff/admin/accounts" and "will set up two-factor sign-in again" in reset.text
    stored = staff_site.staff_user(lead)
    assert stored.totp_secret is None and stored.totp_confirmed_at is None
    [entry] = staff_site.audit("account_two_factor_reset")
    assert entry.object_id == str(lead_id) and entry.actor_id == staff_site.staff_user(admin).id
    with staff_site.sessions() as db:
        told = {e.to_address for e in db.scalars(select(OutboxEmail))
                if "reset the two-factor sign-in of" in e.body}
    assert told == {lead, f"senco{school}@school.example"}

    staff_site.client.cookies.clear()
    assert password_step(staff_site, lead).url.path == SETUP  # a new secret, set up again
    with staff_site.sessions() as db:
        assert db.get(StaffUser, lead_id).totp_secret not in (None, TOTP_SECRET)


def test_both_code_forms_are_checked_for_their_token(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    password_step(staff_site, email)
    forged = staff_site.client.post(CODE_PAGE, data={"csrf_token": "forged", "code": code_now()})
    assert forged.status_code == 401 and staff_site.client.get("/staff").url.path == "/staff/login"
    senco = staff_site.account("senco", staff_site.school("Elm School"))
    staff_site.client.cookies.clear()
    staff_site.sign_in(senco)
    secret = SECRET_SHOWN.search(staff_site.client.get(SETUP).text).group(1).replace(" ", "")
    forged = staff_site.client.post(SETUP, data={"csrf_token": "forged", "code": pyotp.TOTP(secret).now()})
    assert forged.status_code == 403 and staff_site.staff_user(senco).totp_confirmed_at is None
