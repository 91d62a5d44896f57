"""The safeguarding lead's queue: who sees which alert, every view and step audited, words inert."""
from __future__ import annotations

import html
import re

import pytest

from bot.auth.headers import CONTENT_SECURITY_POLICY
from tests.unit.staff_site import hours_ago, staff_site, type_code  # noqa: F401

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


@pytest.fixture
def staff_db_url(db_url) -> str:
    """The queue on SQLite and on PostgreSQL."""
    return db_url


@pytest.fixture
def two_schools(staff_site):
    """Oak's lead, with two open alerts (the older one first made); Elm's, with one."""
    oak, elm = staff_site.school("Oak School"), staff_site.school("Elm School")
    alerts = {
        "oak_old": staff_site.alert(oak, "my step dad hurts me", pupil="Amy Oak", at=hours_ago(3),
                                    context=(("out", "How is home?"), ("in", "not good"))),
        "oak_new": staff_site.alert(oak, "I want to die", pupil="Ben Oak", at=hours_ago(1),
                                    categories=("self_harm_suicide",), evidence=("want to die",)),
        "elm": staff_site.alert(elm, "someone at the park touches me", pupil="Cat Elm"),
    }
    return oak, elm, alerts


def lead_signed_in(site, school: int) -> str:
    email = site.account("dsl", school)
    assert site.sign_in(email).url.path == "/staff"
    return email


def words_in(page: str) -> list[str]:
    return [html.unescape(w) for w in re.findall(r'<blockquote class="child-words">(.*?)</blockquote>', page, re.S)]


def test_a_lead_sees_their_schools_open_alerts_newest_first_with_words_and_context(staff_site, two_schools):
    oak, _, _ = two_schools
    lead_signed_in(staff_site, oak)
    page = staff_site.client.get("/staff/alerts")
    assert page.status_code == 200
    assert words_in(page.text) == ["I want to die", "my step dad hurts me"]
    for shown in ("How is home?", "not good", "Amy Oak (Year 6)", "Ben Oak", "Self-harm or suicide",
                  "Physical abuse", "want to die"):
        assert shown in page.text
    assert "Cat Elm" not in page.text and "park" not in page.text
    assert '<span class="count" aria-label="2 open">2</span>' in page.text  # in the navigation


def test_a_lead_gets_not_found_for_another_schools_alert(staff_site, two_schools):
    oak, _, alerts = two_schools
    lead_signed_in(staff_site, oak)
    for alert_id in (alerts["elm"], 99999, "abc", "9" * 30):
        page = staff_site.client.get(f"/staff/alerts/{alert_id}")
        assert page.status_code == 404
        assert "Page not found" in page.text and "park" not in page.text and "Cat Elm" not in page.text
    step = staff_site.client.post(f"/staff/alerts/{alerts['elm']}",
                                  data={"csrf_token": staff_site.token("/staff"), "step": "seen"})
    assert step.status_code == 404 and staff_site.stored_alert(alerts["elm"]).status == "open"
    assert len(staff_site.audit("view_alert_refused")) == 5


@pytest.mark.parametrize("role", ["senco", "admin", "la_officer"])
def test_other_roles_see_no_queue_and_no_alert(staff_site, two_schools, role):
    oak, _, alerts = two_schools
    email = staff_site.account(role, None if role == "la_officer" else oak)
    staff_site.sign_in(email)
    queue = staff_site.client.get("/staff/alerts")
    assert queue.status_code == 403 and "Only safeguarding leads can see this page" in queue.text
    alert = staff_site.client.get(f"/staff/alerts/{alerts['oak_old']}")
    assert alert.status_code == 404
    for page in (queue, alert):
        assert "hurts me" not in page.text and "Amy Oak" not in page.text
    assert "Safeguarding alerts" not in staff_site.client.get("/staff").text  # not in their navigation


def test_the_queue_and_each_alert_view_are_audited(staff_site, two_schools):
    oak, _, alerts = two_schools
    email = lead_signed_in(staff_site, oak)
    staff_site.client.get("/staff/alerts")
    staff_site.client.get(f"/staff/alerts/{alerts['oak_old']}")
    lead = staff_site.staff_user(email)
    [queue_view] = staff_site.audit("view_alert_queue")
    assert queue_view.actor_id == lead.id
    assert queue_view.detail["alert_ids"] == [alerts["oak_new"], alerts["oak_old"]]
    [alert_view] = staff_site.audit("view_alert")
    assert alert_view.actor_id == lead.id and alert_view.object_id == str(alerts["oak_old"])
    assert alert_view.pupil_id == staff_site.stored_alert(alerts["oak_old"]).pupil_id


def test_seen_then_action_then_close_each_saved_and_audited(staff_site, two_schools):
    oak, _, alerts = two_schools
    alert_id = alerts["oak_old"]
    lead = staff_site.staff_user(lead_signed_in(staff_site, oak))
    path = f"/staff/alerts/{alert_id}"

    seen = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "step": "seen"})
    assert seen.url.path == path and "Marked as seen." in seen.text
    assert staff_site.stored_alert(alert_id).seen_by_id == lead.id

    note = "Spoke with Amy.\nReferred to children's social care."
    actioned = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "step": "actioned",
                                                  "action_taken": note})
    assert "The action taken is saved." in actioned.text
    stored = staff_site.stored_alert(alert_id)
    assert (stored.status, stored.action_taken, stored.actioned_by_id) == ("actioned", note, lead.id)

    closed = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "step": "closed",
                                                "action_taken": "Social care visited. No further action."})
    assert "The alert is closed." in closed.text and "Spoke with Amy." in closed.text  # history keeps each note
    stored = staff_site.stored_alert(alert_id)
    assert (stored.status, stored.closed_by_id) == ("closed", lead.id)
    assert 'name="step"' not in closed.text  # nothing more to do on a closed alert
    assert words_in(staff_site.client.get("/staff/alerts").text) == ["I want to die"]

    steps = [(e.action, e.actor_id, (e.detail or {}).get("action_taken"))
             for a in ("alert_seen", "alert_actioned", "alert_closed") for e in staff_site.audit(a)]
    assert steps == [("alert_seen", lead.id, None), ("alert_actioned", lead.id, note),
                     ("alert_closed", lead.id, "Social care visited. No further action.")]


def test_closing_without_saying_what_was_done_is_refused_and_nothing_changes(staff_site, two_schools):
    oak, _, alerts = two_schools
    lead_signed_in(staff_site, oak)
    path = f"/staff/alerts/{alerts['oak_old']}"
    page = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "step": "closed",
                                              "action_taken": "   "})
    assert page.status_code == 422 and "Please write what action was taken" in page.text
    assert staff_site.stored_alert(alerts["oak_old"]).status == "open"


def test_an_alert_cannot_go_back_a_step(staff_site, two_schools):
    oak, _, alerts = two_schools
    lead_signed_in(staff_site, oak)
    path = f"/staff/alerts/{alerts['oak_old']}"
    staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "step": "closed", "action_taken": "Done."})
    again = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "step": "seen"})
    assert again.status_code == 409 and "already marked 'closed'" in html.unescape(again.text)
    assert staff_site.stored_alert(alerts["oak_old"]).status == "closed"


def test_a_stale_form_keeps_the_note_and_saves_nothing(staff_site, two_schools):
    oak, _, alerts = two_schools
    lead_signed_in(staff_site, oak)
    note = "Called the social worker & left a message <urgent>"
    page = staff_site.client.post(f"/staff/alerts/{alerts['oak_old']}",
                                  data={"csrf_token": "from-an-old-page", "step": "actioned", "action_taken": note})
    assert page.status_code == 403 and "This page was open too long, so nothing was saved" in page.text
    assert f">{html.escape(note, quote=False)}</textarea>" in page.text
    assert staff_site.stored_alert(alerts["oak_old"]).action_taken is None


def test_a_note_sent_after_the_sign_in_ran_out_is_put_back_after_signing_in(staff_site, two_schools):
    oak, _, alerts = two_schools
    email = lead_signed_in(staff_site, oak)
    path = f"/staff/alerts/{alerts['oak_old']}"
    token = staff_site.token(path)
    staff_site.client.cookies.clear()  # the sign-in runs out (or the browser was closed)
    note = "Phoned mum; she will come in at 3pm."
    page = staff_site.client.post(path, data={"csrf_token": token, "step": "actioned", "action_taken": note})
    assert page.status_code == 401 and "Please sign in to carry on. What you typed is kept below." in page.text
    assert html.escape(note, quote=False) in page.text
    assert staff_site.stored_alert(alerts["oak_old"]).action_taken is None

    login_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    code_page = staff_site.client.post("/staff/login", data={
        "csrf_token": login_token, "email": email, "password": "correct horse battery staple",
        "next": path, "draft.action_taken": note})
    assert f">{html.escape(note, quote=False)}</textarea>" in code_page.text  # carried on by the code form
    back = type_code(staff_site.client, staff_site.sessions, email, code_page)
    assert back.status_code == 200 and "You are signed in again. Nothing was saved yet" in back.text
    assert f">{html.escape(note, quote=False)}</textarea>" in back.text
    assert staff_site.stored_alert(alerts["oak_old"]).action_taken is None  # saved only when they press again


def test_a_childs_markup_is_shown_as_text(staff_site):
    school = staff_site.school("Oak School")
    alert_id = staff_site.alert(school, XSS, pupil=XSS, context=(("in", XSS),), evidence=(XSS,))
    lead_signed_in(staff_site, school)
    for path in ("/staff/alerts", f"/staff/alerts/{alert_id}"):
        page = staff_site.client.get(path)
        assert page.status_code == 200
        assert "<script" not in page.text and "<img" not in page.text and "onerror=alert(1)>" not in page.text
        assert html.escape(XSS, quote=False) in page.text
        assert XSS in words_in(page.text)
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_staff_pages_have_a_strict_content_security_policy(staff_site, two_schools):
    oak, _, alerts = two_schools
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    pages = [staff_site.client.get("/staff/login")]
    lead_signed_in(staff_site, oak)
    pages += [staff_site.client.get(p) for p in ("/staff", "/staff/alerts", f"/staff/alerts/{alerts['oak_old']}")]
    for page in pages:
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
        assert "<script" not in page.text and " style=" not in page.text  # nothing inline to allow
    css = staff_site.client.get("/staff/static/staff.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
