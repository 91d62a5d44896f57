"""While an alert may not have reached a person, staff pages say so: every page of that school's
staff while its alert email is undelivered for over 15 minutes, and every admin page about such
schools and about schools with no active safeguarding lead. The alert page shows who was emailed."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from bot.staff.pages import NO_LEAD_FOR_ADMIN, UNDELIVERED_FOR_ADMIN, UNDELIVERED_FOR_SCHOOL
from framework.db import repository as repo
from framework.db.models import SafeguardingAlert, utcnow
from tests.unit.staff_site import staff_db_url, staff_site  # noqa: F401


def warnings_on(page: str) -> list[str]:
    return [html.unescape(w).strip() for w in
            re.findall(r'<div class="problem" role="alert"><p><strong>Safeguarding:</strong>(.*?)</p></div>', page, re.S)]


def alert_email(site, alert_id: int, minutes_ago: float, *, sent: bool = False) -> None:
    with site.sessions.begin() as db:
        alert = db.get(SafeguardingAlert, alert_id)
        email = repo.enqueue_email(db, "lead@oak.example", "Heard: a concern", "Please sign in.",
                                   now=utcnow() - timedelta(minutes=minutes_ago), alert=alert)
        email.attempts, email.last_error = 3, "mail server 127.0.0.1:25: ConnectionRefusedError"
        if sent:
            repo.mark_sent(db, email)


def test_a_schools_staff_see_a_banner_while_its_alert_email_is_undelivered(staff_site):
    oak, elm = staff_site.school("Oak School"), staff_site.school("Elm School")
    staff_site.account("dsl", oak)
    staff_site.account("dsl", elm)
    recent = staff_site.alert(oak, "he hurts me", pupil="Amy Oak")
    alert_email(staff_site, recent, minutes_ago=5)  # not yet long enough to worry anyone
    assert staff_site.sign_in(staff_site.account("senco", oak)).url.path == "/staff"
    assert warnings_on(staff_site.client.get("/staff/pupils").text) == []

    stuck = staff_site.alert(oak, "she hits me", pupil="Ben Oak")
    alert_email(staff_site, stuck, minutes_ago=16)
    for page in ("/staff", "/staff/pupils"):
        assert warnings_on(staff_site.client.get(page).text) == [UNDELIVERED_FOR_SCHOOL]

    staff_site.client.post("/staff/logout", data={"csrf_token": staff_site.token("/staff")})
    assert staff_site.sign_in(staff_site.account("senco", elm)).url.path == "/staff"
    assert warnings_on(staff_site.client.get("/staff/pupils").text) == []


def test_admins_see_schools_without_a_lead_and_undelivered_alert_emails(staff_site):
    oak, elm = staff_site.school("Oak School"), staff_site.school("Elm School")
    staff_site.account("dsl", oak)
    alert_email(staff_site, staff_site.alert(oak, "he hurts me"), minutes_ago=20)
    assert staff_site.sign_in(staff_site.account("admin")).url.path == "/staff"
    assert warnings_on(staff_site.client.get("/staff/admin/schools").text) == [
        NO_LEAD_FOR_ADMIN.format(school="Elm School"), UNDELIVERED_FOR_ADMIN.format(school="Oak School", minutes=15)]


def test_an_alert_page_shows_which_emails_were_delivered(staff_site):
    oak = staff_site.school("Oak School")
    alert_id = staff_site.alert(oak, "he hurts me")
    alert_email(staff_site, alert_id, minutes_ago=30)
    alert_email(staff_site, alert_id, minutes_ago=30, sent=True)
    assert staff_site.sign_in(staff_site.account("dsl", oak)).url.path == "/staff"
    page = staff_site.client.get(f"/staff/alerts/{alert_id}").text
    section = " ".join(re.sub(r"<[^>]+>", " ", page.split('id="emails-heading"')[1].split("</section>")[0]).split())
    # (The app's own sender keeps trying it, against a closed port.)
    assert re.search(r"lead@oak\.example: not delivered \(\d+ tries so far; the mail server said: .*ConnectionRefusedError", section)
    assert "lead@oak.example: delivered" in section
