"""Staff sign-in: argon2 passwords, lockout, rate limits, session cookies, CSRF, expiry."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from base64 import b64encode
from datetime import timedelta

import itsdangerous
import pytest
from argon2 import PasswordHasher
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.app import create_app
from bot.auth.passwords import hash_password, needs_rehash, verify_password
from bot.auth.sessions import COOKIE_NAME
from bot.auth.signin import back_off, check_sign_in, sign_in_tries
from bot.routers import alerts, staff
from bot.staff.pages import safe_next
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory
from framework.db.models import StaffUser, utcnow
from tests.databases import migrate_fresh
from tests.unit.staff_site import (  # noqa: F401
    CSRF_IN_PAGE,
    PASSWORD,
    staff_db_url,
    staff_settings_env,
    staff_site,
    type_code,
)

WRONG = "That email or password is not right"
WAIT = "too many wrong passwords, so signing in is paused to keep the account safe"
SIGNED_OUT = "You were signed out because the page was not used for a while"


def test_the_right_password_signs_in_and_is_audited(staff_site):
    school = staff_site.school("Oak School")
    email = staff_site.account("dsl", school)
    response = staff_site.sign_in(email.upper())  # any case
    assert response.status_code == 200 and response.url.path == "/staff"
    assert "You are signed in as dsl" in response.text and "Oak School" in response.text
    assert staff_site.staff_user(email).last_login_at is not None
    assert [e.actor_id for e in staff_site.audit("sign_in")] == [staff_site.staff_user(email).id]


def test_a_wrong_password_is_refused_kindly_and_keeps_the_email(staff_site):
    email = staff_site.account("senco", staff_site.school("Oak School"))
    response = staff_site.sign_in(email, "not-the-password")
    assert response.status_code == 401
    assert WRONG in response.text
    assert f'value="{email}"' in response.text and "not-the-password" not in response.text
    assert staff_site.client.get("/staff", follow_redirects=False).status_code == 303  # still signed out
    assert staff_site.staff_user(email).failed_logins == 1
    assert len(staff_site.audit("sign_in_failed")) == 1


def test_five_wrong_passwords_make_that_address_wait(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    answers = [staff_site.sign_in(email, "guess") for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5 and WRONG in answers[-1].text
    waiting = staff_site.sign_in(email)  # even the right password is not tried, for now
    assert waiting.status_code == 429
    assert WAIT in waiting.text and "try again in 15 minutes" in waiting.text
    assert "ask your Heard administrator" in waiting.text
    account = staff_site.staff_user(email)
    assert account.failed_logins == 5 and timedelta(0) < account.locked_until - utcnow() <= timedelta(minutes=1)
    assert len(staff_site.audit("sign_in_slowed")) == 1


def test_an_email_without_an_account_gets_the_same_answers(staff_site):
    answers = [staff_site.sign_in("nobody@school.example", "guess") for _ in range(6)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 401, 429]
    assert WRONG in answers[0].text and WAIT in answers[-1].text


def test_the_wait_grows_with_wrong_passwords_in_a_row_up_to_15_minutes():
    assert [back_off(n).total_seconds() / 60 for n in range(1, 12)] == [0, 0, 0, 0, 1, 2, 4, 8, 15, 15, 15]


def client_at(staff_site, address: str) -> TestClient:
    return TestClient(staff_site.app, client=(address, 50000))


def sign_in_at(client: TestClient, email: str, password: str = PASSWORD, *, sessions=None):
    token = CSRF_IN_PAGE.search(client.get("/staff/login").text).group(1)
    response = client.post("/staff/login", data={"csrf_token": token, "email": email, "password": password})
    return type_code(client, sessions, email, response) if sessions is not None else response


def test_wrong_passwords_from_elsewhere_never_keep_the_owner_out_where_they_sign_in(staff_site):
    """Anyone who knows a safeguarding lead's email could keep them out all day; not from school."""
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    school, stranger, another = (client_at(staff_site, a) for a in ("192.0.2.20", "198.51.100.9", "198.51.100.10"))
    with school, stranger, another:
        assert sign_in_at(school, email, sessions=staff_site.sessions).url.path == "/staff"
        assert [sign_in_at(stranger, email, "guess").status_code for _ in range(6)] == [401] * 5 + [429]
        assert sign_in_at(another, email, "guess").status_code == 429  # the account waits for strangers
        assert staff_site.staff_user(email).locked_until > utcnow()
        # but not where its owner signs in
        assert sign_in_at(school, email, sessions=staff_site.sessions).url.path == "/staff"


def test_wrong_passwords_sent_at_once_all_count(db_url):
    """`failed_logins += 1` in Python let parallel guesses overwrite each other's count."""
    migrate_fresh(db_url)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    email = "dsl@school.example"
    with sessions.begin() as db:
        repo.create_staff(db, email, hash_password(PASSWORD), "dsl", repo.create_school(db, "Oak School"))
    tries = sign_in_tries(sessions, "test-secret")

    def guess(n: int) -> None:
        attempt = tries.begin(f"203.0.113.{n}", subject=email)
        with sessions.begin() as db:
            check_sign_in(db, attempt, email, f"guess {n}")

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:  # fewer than make the account wait
            list(pool.map(guess, range(4)))
        with sessions() as db:
            assert repo.find_staff_by_email(db, email).failed_logins == 4
    finally:
        engine.dispose()


def test_an_inactive_account_cannot_sign_in_and_a_signed_in_one_is_signed_out(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    assert staff_site.sign_in(email).url.path == "/staff"
    with staff_site.sessions.begin() as db:
        db.execute(update(StaffUser).values(active=False))
    assert staff_site.client.get("/staff").url.path == "/staff/login"
    assert WRONG in staff_site.sign_in(email).text


def test_an_old_password_hash_is_upgraded_on_sign_in(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with staff_site.sessions.begin() as db:
        db.execute(update(StaffUser).values(password_hash=weak))
    assert needs_rehash(weak)
    staff_site.sign_in(email)
    stored = staff_site.staff_user(email).password_hash
    assert stored != weak and not needs_rehash(stored) and verify_password(stored, PASSWORD)


def test_the_session_cookie_is_httponly_samesite_and_only_for_staff_pages(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    response = staff_site.client.post("/staff/login", follow_redirects=False, data={
        "csrf_token": staff_site.token(), "email": email, "password": PASSWORD})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert {"httponly", "samesite", "path", "max-age"} <= flags and "secure" not in flags  # plain http here
    assert "samesite=lax" in cookie.lower() and "path=/staff;" in cookie.lower()
    assert staff_site.staff_user(email).email not in cookie and PASSWORD not in cookie


def test_the_session_cookie_is_secure_when_heard_is_served_over_https(staff_site, monkeypatch, sqlite_url, tmp_path):
    staff_settings_env(monkeypatch, sqlite_url, tmp_path, HEARD_PUBLIC_URL="https://heard.example.org")
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    with TestClient(create_app(), base_url="https://testserver") as client:
        page = client.get("/staff/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/staff/login", follow_redirects=False,
                               data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 303
    assert "; secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_signing_in_without_the_right_form_token_is_refused_and_keeps_the_email(staff_site, token):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    staff_site.token()  # the browser has a session, but the form does not match it
    data = {"email": email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = staff_site.client.post("/staff/login", data=data)
    assert response.status_code == 403
    assert "This sign-in page was open too long" in response.text
    assert f'value="{email}"' in response.text and PASSWORD not in response.text
    assert staff_site.audit("sign_in") == []


def test_every_staff_form_is_checked_for_its_token(staff_site):
    """Adding a form to the staff pages fails this test until it is covered here."""
    posts = {route.path for route in [*staff.router.routes, *alerts.router.routes]
             if isinstance(route, APIRoute) and "POST" in route.methods}
    assert posts == {"/staff/login", "/staff/logout", "/staff/password", "/staff/alerts/{alert_id}"}
    school = staff_site.school("Oak School")
    alert_id = staff_site.alert(school, "he hits me")
    staff_site.sign_in(staff_site.account("dsl", school))
    refused = staff_site.client.post(f"/staff/alerts/{alert_id}", data={"step": "seen", "csrf_token": "forged"})
    assert refused.status_code == 403 and staff_site.stored_alert(alert_id).status == "open"
    lead = f"dsl{school}@school.example"
    before = staff_site.staff_user(lead).password_hash
    refused = staff_site.client.post("/staff/password", data={"password": "a long new password",
                                                              "again": "a long new password", "csrf_token": "forged"})
    assert refused.status_code == 403 and staff_site.staff_user(lead).password_hash == before
    staff_site.client.post("/staff/logout", data={"csrf_token": "forged"})
    assert staff_site.client.get("/staff").url.path == "/staff"  # still signed in
    # (/staff/login: test_signing_in_without_the_right_form_token_is_refused_and_keeps_the_email)


def test_signing_out_ends_the_session(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    staff_site.sign_in(email)
    response = staff_site.client.post("/staff/logout", data={"csrf_token": staff_site.token("/staff")})
    assert response.url.path == "/staff/login" and "You are signed out." in response.text
    assert staff_site.client.get("/staff").url.path == "/staff/login"
    assert len(staff_site.audit("sign_out")) == 1


def test_a_page_asked_for_signed_out_comes_back_after_signing_in(staff_site):
    school = staff_site.school("Oak School")
    email = staff_site.account("dsl", school)
    first = staff_site.client.get("/staff/alerts")
    assert first.url.path == "/staff/login" and 'name="next" value="/staff/alerts"' in first.text
    assert staff_site.sign_in(email, next_path="/staff/alerts").url.path == "/staff/alerts"


@pytest.mark.parametrize("target, expected", [
    ("/staff/alerts/3", "/staff/alerts/3"),
    ("/staff", "/staff"),
    ("https://evil.example/staff", "/staff"),
    ("//evil.example/staff", "/staff"),
    ("/\\evil.example", "/staff"),
    ("/api/sessions", "/staff"),
    ("/staff/../api/sessions", "/staff"),
    ("/staffroom", "/staff"),
    ("/staff/logout", "/staff"),
    ("", "/staff"),
])
def test_after_signing_in_only_staff_pages_of_this_site_are_visited(target, expected):
    assert safe_next(target) == expected


def test_a_sign_in_unused_for_30_minutes_runs_out_with_a_clear_message(staff_site, monkeypatch):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    half_an_hour_ago = int(time.time()) - 31 * 60
    with monkeypatch.context() as patch:  # the cookie is signed as if 31 minutes ago
        patch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: half_an_hour_ago)
        staff_site.sign_in(email)
    page = staff_site.client.get("/staff/alerts")
    assert page.url.path == "/staff/login" and SIGNED_OUT in page.text
    assert SIGNED_OUT not in staff_site.client.get("/staff/login").text  # said once


def test_a_sign_in_runs_out_after_12_hours_however_busy(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    staff_id = staff_site.staff_user(email).id
    now = int(time.time())
    session = {"staff_id": staff_id, "signed_in_at": now - 13 * 3600, "active_at": now, "csrf": "x"}
    cookie = itsdangerous.TimestampSigner("test-secret").sign(b64encode(json.dumps(session).encode())).decode()
    staff_site.client.cookies.set(COOKIE_NAME, cookie, domain="testserver.local", path="/staff")
    page = staff_site.client.get("/staff")
    assert page.url.path == "/staff/login" and SIGNED_OUT in page.text


def test_signing_out_ends_every_copy_of_the_sign_in(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    staff_site.sign_in(email)
    copied = staff_site.client.cookies.get(COOKIE_NAME)
    home = staff_site.client.get("/staff")
    token = CSRF_IN_PAGE.search(home.text).group(1)
    assert staff_site.client.post("/staff/logout", data={"csrf_token": token}).url.path == "/staff/login"
    with TestClient(staff_site.app, cookies={COOKIE_NAME: copied}) as elsewhere:
        assert elsewhere.get("/staff").url.path == "/staff/login"


def test_a_new_password_signs_the_account_out_everywhere(staff_site):
    school = staff_site.school("Oak School")
    senco = staff_site.account("senco", school)
    admin = staff_site.account("admin")
    staff_site.sign_in(senco)
    assert staff_site.client.get("/staff").url.path == "/staff"
    with client_at(staff_site, "192.0.2.30") as admins:
        assert sign_in_at(admins, admin, sessions=staff_site.sessions).url.path == "/staff"
        page = admins.get("/staff/admin/accounts")
        token = CSRF_IN_PAGE.search(page.text).group(1)
        account_id = staff_site.staff_user(senco).id
        reset = admins.post("/staff/admin/accounts", data={
            "csrf_token": token, "action": "reset_password", "account_id": str(account_id)})
        assert reset.status_code == 200
    assert staff_site.client.get("/staff").url.path == "/staff/login"


def change_password(site, password: str, again: str | None = None):
    return site.client.post("/staff/password", data={"csrf_token": site.token("/staff/password"),
                                                      "password": password, "again": password if again is None else again})


def test_a_password_an_administrator_set_must_be_changed_before_any_page(staff_site):
    school = staff_site.school("Oak School")
    email = staff_site.account("dsl", school)
    with staff_site.sessions.begin() as db:
        db.execute(update(StaffUser).values(must_change_password=True))
    assert staff_site.sign_in(email).url.path == "/staff/password"
    assert staff_site.client.get("/staff/alerts").url.path == "/staff/password"
    for password, again, says in ((" short ", None, "at least 12 characters"), ("a long new password", "another one",
                                  "not the same"), (PASSWORD, None, "not the one you were given")):
        refused = change_password(staff_site, password, again)
        assert refused.status_code == 422 and says in refused.text
    elsewhere = staff_site.client.cookies.get(COOKIE_NAME)
    changed = change_password(staff_site, "three quiet otters swim")
    assert changed.url.path == "/staff" and "Your password is changed" in changed.text
    assert staff_site.client.get("/staff/alerts").status_code == 200
    with TestClient(staff_site.app, cookies={COOKIE_NAME: elsewhere}) as old:
        assert old.get("/staff/alerts").url.path == "/staff/login"
    staff_site.client.cookies.clear()
    assert staff_site.sign_in(email, "three quiet otters swim").url.path == "/staff"
    assert staff_site.staff_user(email).must_change_password is False
    assert len(staff_site.audit("password_changed")) == 1


def test_a_cookie_not_signed_by_heard_is_ignored(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    session = {"staff_id": staff_site.staff_user(email).id, "signed_in_at": int(time.time())}
    forged = itsdangerous.TimestampSigner("guessed-secret").sign(b64encode(json.dumps(session).encode())).decode()
    staff_site.client.cookies.set(COOKIE_NAME, forged, domain="testserver.local", path="/staff")
    page = staff_site.client.get("/staff")
    assert page.url.path == "/staff/login" and SIGNED_OUT not in page.text


def test_the_web_app_serves_the_staff_pages():
    app = create_app()
    assert app.url_path_for("sign_in_form") == "/staff/login"
    assert app.url_path_for("alert_step", alert_id="7") == "/staff/alerts/7"
    assert app.url_path_for("staff-static", path="staff.css") == "/staff/static/staff.css"


def test_the_chat_and_the_staff_pages_share_one_database_connection_pool(staff_site):
    state = staff_site.app.state
    assert state.chat.sessions is state.sessions
    assert staff_site.client.get("/staff/login").status_code == 200
