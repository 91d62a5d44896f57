"""Staff sign-in: argon2 passwords, lockout, rate limits, session cookies, CSRF, expiry."""
from __future__ import annotations

import json
import time
from base64 import b64encode
from datetime import timedelta

import itsdangerous
import pytest
from argon2 import PasswordHasher
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.app import create_app
from bot.auth.passwords import needs_rehash, verify_password
from bot.auth.sessions import COOKIE_NAME
from bot.auth.signin import SignInGuard
from bot.chat.limits import SlidingWindow
from bot.routers import alerts, staff
from bot.staff.pages import safe_next
from framework.db.models import StaffUser, utcnow
from tests.unit.staff_site import PASSWORD, staff_db_url, staff_settings_env, staff_site  # noqa: F401

WRONG = "That email or password is not right"
LOCKED = "too many wrong passwords for this account, so it is locked for now"
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


def test_five_wrong_passwords_lock_the_account_for_15_minutes(staff_site):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    for _ in range(4):
        assert WRONG in staff_site.sign_in(email, "guess").text
    locked = staff_site.sign_in(email, "guess")
    assert locked.status_code == 429
    assert LOCKED in locked.text and "try again in 15 minutes" in locked.text
    assert "ask your Heard administrator" in locked.text
    account = staff_site.staff_user(email)
    assert timedelta(minutes=14) < account.locked_until - utcnow() <= timedelta(minutes=15)
    # While locked, even the right password is not tried.
    assert LOCKED in staff_site.sign_in(email).text
    assert len(staff_site.audit("sign_in_locked")) == 1

    with staff_site.sessions.begin() as db:  # the 15 minutes pass
        db.execute(update(StaffUser).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert staff_site.sign_in(email).url.path == "/staff"
    assert staff_site.staff_user(email).failed_logins == 0


def test_an_email_without_an_account_gets_the_same_answers(staff_site):
    answers = [staff_site.sign_in("nobody@school.example", "guess") for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert WRONG in answers[0].text and LOCKED in answers[-1].text


def test_too_many_failures_from_one_address_are_stopped(staff_site):
    staff_site.app.state.sign_in_guard = SignInGuard(per_address=SlidingWindow(3, 900))
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    for n in range(3):
        staff_site.sign_in(f"someone{n}@school.example", "guess")
    stopped = staff_site.sign_in(email)  # even the right password, for now
    assert stopped.status_code == 429
    assert "too many wrong sign-ins from this network" in stopped.text


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
    assert posts == {"/staff/login", "/staff/logout", "/staff/alerts/{alert_id}"}
    school = staff_site.school("Oak School")
    alert_id = staff_site.alert(school, "he hits me")
    staff_site.sign_in(staff_site.account("dsl", school))
    refused = staff_site.client.post(f"/staff/alerts/{alert_id}", data={"step": "seen", "csrf_token": "forged"})
    assert refused.status_code == 403 and staff_site.stored_alert(alert_id).status == "open"
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


def test_a_sign_in_unused_for_an_hour_runs_out_with_a_clear_message(staff_site, monkeypatch):
    email = staff_site.account("dsl", staff_site.school("Oak School"))
    two_hours_ago = int(time.time()) - 7200
    with monkeypatch.context() as patch:  # the cookie is signed as if two hours ago
        patch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: two_hours_ago)
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
