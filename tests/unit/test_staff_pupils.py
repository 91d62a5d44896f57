"""The SENCO's pupil pages: the list, adding a pupil, a pupil's page, invite codes and their
printable slips. Only a SENCO, only their own school; alerts as a number only; typed input
never lost; every view and new code audited."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.reports.invites import qr_svg, start_url
from bot.routers.pupils import TICK_TO_ERASE
from bot.staff.wording import SCHOOL_TIME
from framework.db import repository as repo
from framework.db.models import Invite, Pupil, SafeguardingAlert, SurveySession, utcnow
from framework.settings import get_settings
from tests.unit.staff_site import CSRF_IN_PAGE, PASSWORD, hours_ago, staff_db_url, staff_site  # noqa: F401

ALERT_WORDS = "my uncle hurts me when mum is out"


@pytest.fixture
def oak(staff_site):
    """Oak School with pupils in different states, Elm School with one pupil; Oak's SENCO signed in."""
    site = staff_site
    school, elm = site.school("Oak School"), site.school("Elm School")
    pupils = {
        "amy": site.pupil(school, "Amy Ash", "Year 6", "Willow"),
        "cat": site.pupil(school, "Cat Cedar", "Year 5", "Hazel"),
        "dan": site.pupil(school, "Dan Dale", "Year 6", "Hazel"),
        "eve": site.pupil(elm, "Eve Elm", "Year 6", "Willow"),
    }
    site.checkin(pupils["amy"], at=hours_ago(24 * 30))
    pupils["amy_latest"] = site.checkin(pupils["amy"], at=hours_ago(26))
    site.alert(school, ALERT_WORDS, pupil="Ben Birch")  # Ben: a check-in under way, and an open alert
    site.checkin(pupils["eve"])
    site.alert(elm, "elm words", pupil="Fay Elm")
    email = site.account("senco", school)
    assert site.sign_in(email).url.path == "/staff"
    return {"school": school, "elm": elm, "email": email, **pupils}


def table(page: str, index: int = 0) -> dict[str, list[str]]:
    """A table's body rows as text, keyed by the row's first cell."""
    body = re.findall(r"<tbody>(.*?)</tbody>", page, re.S)[index]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", cell)).split())
                 for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def input_value(page: str, name: str) -> str:
    return html.unescape(re.search(rf'<input id="{name}" name="{name}"[^>]*value="([^"]*)"', page).group(1))


def stored_pupils(site, school: int) -> list[Pupil]:
    with site.sessions() as db:
        return list(db.scalars(select(Pupil).where(Pupil.school_id == school).order_by(Pupil.id)))


def stored_invites(site, pupil_ids) -> list[Invite]:
    with site.sessions() as db:
        return list(db.scalars(select(Invite).where(Invite.pupil_id.in_(pupil_ids)).order_by(Invite.id)))


# ---- the list ------------------------------------------------------------------------------------


def test_the_list_shows_the_schools_pupils_with_status_last_checkin_and_alerts_as_a_number(staff_site, oak):
    page = staff_site.client.get("/staff/pupils")
    assert page.status_code == 200
    rows = table(page.text)
    assert list(rows) == ["Amy Ash", "Ben Birch", "Cat Cedar", "Dan Dale"]
    amy, ben, cat = rows["Amy Ash"], rows["Ben Birch"], rows["Cat Cedar"]
    yesterday = (utcnow() - timedelta(hours=26)).astimezone(SCHOOL_TIME)
    assert amy[:3] == ["Year 6", "Willow", "Finished"] and f"{yesterday.day} {yesterday:%b %Y}" in amy[3]
    assert amy[4:6] == ["2", "0"]
    assert ben[2] == "In progress" and ben[4:6] == ["0", "1"] and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", ben[6])
    assert cat[2:7] == ["Not started", "None yet", "0", "0", "None"]
    assert ALERT_WORDS not in page.text and "uncle" not in page.text  # the words are for the safeguarding lead
    assert "Eve Elm" not in page.text and "Fay Elm" not in page.text
    assert f'href="/staff/pupils/{oak["amy"]}"' in page.text
    [entry] = staff_site.audit("view_pupil_list")
    assert entry.detail["pupil_count"] == 4


@pytest.mark.parametrize(("query", "names"), [
    ("year=Year+6", ["Amy Ash", "Ben Birch", "Dan Dale"]),
    ("class=Hazel", ["Cat Cedar", "Dan Dale"]),
    ("year=Year+6&class=Hazel", ["Dan Dale"]),
    ("name=dal", ["Dan Dale"]),
    ("name=ELM", []),
])
def test_the_list_filters_by_year_group_class_and_name(staff_site, oak, query, names):
    page = staff_site.client.get(f"/staff/pupils?{query}")
    assert page.status_code == 200
    assert (list(table(page.text)) if names else []) == names
    if not names:
        assert "No pupils match" in page.text
    assert staff_site.audit("view_pupil_list")[0].detail["filters"]


def test_a_list_of_one_year_group_offers_codes_for_all_of_it(staff_site, oak):
    page = staff_site.client.get("/staff/pupils?year=Year+6")
    assert 'href="/staff/pupils/invites?group=year%3AYear%206"' in page.text
    assert "Make invite codes for everyone in Year 6 (3 pupils)" in page.text
    form = staff_site.client.get("/staff/pupils/invites?group=year%3AYear%206")
    assert '<option value="year:Year 6" selected>Year 6 (3 pupils)</option>' in form.text


# ---- adding a pupil ------------------------------------------------------------------------------


def test_a_senco_adds_a_pupil(staff_site, oak):
    page = staff_site.client.post("/staff/pupils", data={
        "csrf_token": staff_site.token("/staff/pupils"), "name": "  Zoë  O'Brien ", "year_group": "Year 3",
        "class_name": "Rowan"})
    assert page.status_code == 200 and page.history[0].status_code == 303
    assert "Zoë O&#39;Brien is added." in page.text
    assert table(page.text)["Zoë O'Brien"][:3] == ["Year 3", "Rowan", "Not started"]
    assert input_value(page.text, "name") == "" and input_value(page.text, "year_group") == "Year 3"
    added = stored_pupils(staff_site, oak["school"])[-1]
    assert (added.display_name, added.year_group, added.class_name) == ("Zoë O'Brien", "Year 3", "Rowan")
    [entry] = staff_site.audit("add_pupil")
    assert entry.pupil_id == added.id


def test_a_pupil_with_something_missing_is_not_added_and_what_was_typed_stays(staff_site, oak):
    before = len(stored_pupils(staff_site, oak["school"]))
    page = staff_site.client.post("/staff/pupils", data={
        "csrf_token": staff_site.token("/staff/pupils"), "name": "", "year_group": "Year 4",
        "class_name": "<b>Class & co</b>"})
    assert page.status_code == 422
    assert "The pupil is not added yet. Please check the details below." in page.text
    assert "Please type the pupil&#39;s name." in page.text
    assert input_value(page.text, "year_group") == "Year 4"
    assert input_value(page.text, "class_name") == "<b>Class & co</b>" and "<b>Class" not in page.text
    assert re.search(r'<details class="panel add-pupil" id="add-pupil" open>', page.text)
    assert len(stored_pupils(staff_site, oak["school"])) == before


def test_a_stale_add_pupil_form_keeps_what_was_typed_and_adds_nothing(staff_site, oak):
    before = len(stored_pupils(staff_site, oak["school"]))
    page = staff_site.client.post("/staff/pupils", data={
        "csrf_token": "from-an-old-page", "name": "Gus Grey", "year_group": "Year 1", "class_name": "Ash"})
    assert page.status_code == 403
    assert "This page was open too long, so nothing was saved." in page.text
    assert [input_value(page.text, f) for f in ("name", "year_group", "class_name")] == ["Gus Grey", "Year 1", "Ash"]
    assert len(stored_pupils(staff_site, oak["school"])) == before


def test_a_pupil_typed_after_the_sign_in_ran_out_is_put_back_after_signing_in(staff_site, oak):
    token = staff_site.token("/staff/pupils")
    staff_site.client.cookies.clear()  # the sign-in runs out
    typed = {"name": "Hal Holly", "year_group": "Year 2", "class_name": "Elder"}
    page = staff_site.client.post("/staff/pupils", data={"csrf_token": token, **typed})
    assert page.status_code == 401 and "What you typed is kept below." in page.text
    assert "Hal Holly" in page.text
    back = staff_site.client.post("/staff/login", data={
        "csrf_token": CSRF_IN_PAGE.search(page.text).group(1), "email": oak["email"], "password": PASSWORD,
        "next": "/staff/pupils", **{f"draft.{k}": v for k, v in typed.items()}})
    assert back.status_code == 200 and "You are signed in again. Nothing was saved yet" in back.text
    assert {f: input_value(back.text, f) for f in typed} == typed
    assert "Hal Holly" not in [p.display_name for p in stored_pupils(staff_site, oak["school"])]


# ---- a pupil's page ------------------------------------------------------------------------------


def test_a_pupils_page_lists_their_checkins_and_invites_and_is_audited(staff_site, oak):
    page = staff_site.client.get(f"/staff/pupils/{oak['amy']}")
    assert page.status_code == 200 and "<h1>Amy Ash</h1>" in page.text
    checkins = table(page.text, 0)
    assert len(checkins) == 2
    assert all(row[:2] == ["The pupil", "York SEND Outcomes Framework"] and row[3:] == ["Finished", "7 of 7"]
               for row in checkins.values())
    assert f'href="/staff/checkins/{oak["amy_latest"]}"' in page.text
    for link in (f"/staff/pupils/{oak['amy']}/over-time", f"/staff/pupils/{oak['amy']}/answers.csv"):
        assert f'href="{link}"' in page.text
    invites = table(page.text, 1)
    assert len(invites) == 2 and all(row[0] == "The pupil" and row[4] == "Used: check-in finished"
                                     for row in invites.values())
    [entry] = staff_site.audit("view_pupil")
    assert entry.pupil_id == oak["amy"]


def test_a_pupils_page_says_when_a_checkin_was_picked_up_again_with_its_code(staff_site, oak):
    with staff_site.sessions.begin() as db:
        pupil = db.get(Pupil, oak["cat"])
        invite = repo.create_invite(db, pupil, "york")
        session = repo.start_or_resume_session(db, invite).session
        repo.set_status(db, session, "paused")
        repo.start_or_resume_session(db, invite)
    page = staff_site.client.get(f"/staff/pupils/{oak['cat']}")
    [row] = table(page.text, 0).values()
    assert row[3].startswith("In progress Picked up again with its code 1 time, last ")


def test_a_pupil_with_an_alert_shows_no_alert_words_on_their_page(staff_site, oak):
    ben = next(p.id for p in stored_pupils(staff_site, oak["school"]) if p.display_name == "Ben Birch")
    page = staff_site.client.get(f"/staff/pupils/{ben}")
    assert page.status_code == 200 and table(page.text, 0)
    assert ALERT_WORDS not in page.text and "uncle" not in page.text


def test_another_schools_pupil_or_no_pupil_is_not_found(staff_site, oak):
    for pupil_id in (oak["eve"], 99999, "abc", "9" * 30):
        for path in (f"/staff/pupils/{pupil_id}", f"/staff/pupils/{pupil_id}/invites"):
            page = staff_site.client.get(path)
            assert page.status_code == 404 and "Page not found" in page.text and "Eve Elm" not in page.text
    made = staff_site.client.post(f"/staff/pupils/{oak['eve']}/invites", data={
        "csrf_token": staff_site.token("/staff"), "framework": "york", "question_set": "core", "days": "28"})
    assert made.status_code == 404
    assert len(stored_invites(staff_site, [oak["eve"]])) == 1  # only the one from her check-in
    elm_invite = stored_invites(staff_site, [oak["eve"]])[0].id
    assert staff_site.client.get(f"/staff/pupils/slips?invite={elm_invite}").status_code == 404
    assert staff_site.client.get("/staff/pupils/slips?invite=abc").status_code == 404
    assert staff_site.client.get("/staff/pupils/slips").status_code == 404
    assert len(staff_site.audit("view_pupil_refused")) == 9


# ---- erasing a pupil's data -----------------------------------------------------------------------


def test_a_senco_erases_a_pupils_data_after_ticking_to_confirm_and_it_is_audited(staff_site, oak):
    form = staff_site.client.get(f"/staff/pupils/{oak['amy']}/erase")
    assert form.status_code == 200 and "It cannot be undone." in form.text and "2 check-ins" in form.text
    token = staff_site.token(f"/staff/pupils/{oak['amy']}/erase")
    path = f"/staff/pupils/{oak['amy']}/erase"
    unticked = staff_site.client.post(path, data={"csrf_token": token})
    assert unticked.status_code == 422 and html.escape(TICK_TO_ERASE, quote=True) in unticked.text
    stale = staff_site.client.post(path, data={"csrf_token": "from-an-old-page", "confirm": "yes"})
    assert stale.status_code == 403
    with staff_site.sessions() as db:
        assert db.scalar(select(func.count(SurveySession.id)).where(SurveySession.pupil_id == oak["amy"])) == 2

    done = staff_site.client.post(path, data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 200 and done.url.path == "/staff/pupils"
    assert "Everything Amy Ash said in Heard is erased." in done.text
    with staff_site.sessions() as db:
        assert db.get(Pupil, oak["amy"]) is None
        assert db.scalar(select(func.count(SurveySession.id)).where(SurveySession.pupil_id == oak["amy"])) == 0
    [entry] = staff_site.audit("erase_pupil")
    assert (entry.pupil_id, entry.actor_id) == (oak["amy"], staff_site.staff_user(oak["email"]).id)
    assert entry.detail["checkins"]["sessions"] == 2


def test_erasing_keeps_the_pupils_alerts_and_another_schools_pupil_cannot_be_erased(staff_site, oak):
    ben = next(p.id for p in stored_pupils(staff_site, oak["school"]) if p.display_name == "Ben Birch")
    done = staff_site.client.post(f"/staff/pupils/{ben}/erase",
                                  data={"csrf_token": staff_site.token("/staff"), "confirm": "yes"})
    assert "Their safeguarding alerts are kept for the safeguarding lead." in done.text
    with staff_site.sessions() as db:
        assert db.scalar(select(SafeguardingAlert.words).where(SafeguardingAlert.pupil_id == ben)) == ALERT_WORDS
    refused = staff_site.client.post(f"/staff/pupils/{oak['eve']}/erase",
                                     data={"csrf_token": staff_site.token("/staff"), "confirm": "yes"})
    assert refused.status_code == 404
    assert staff_site.client.get(f"/staff/pupils/{oak['eve']}/erase").status_code == 404
    with staff_site.sessions() as db:
        assert db.scalar(select(func.count(SurveySession.id)).where(SurveySession.pupil_id == oak["eve"])) == 1


# ---- invite codes and slips ----------------------------------------------------------------------


def test_an_invite_for_one_pupil_makes_a_code_and_a_printable_slip(staff_site, oak, monkeypatch):
    monkeypatch.setenv("HEARD_PUBLIC_URL", "https://heard.oak.example")
    get_settings.cache_clear()
    path = f"/staff/pupils/{oak['cat']}/invites"
    form = staff_site.client.get(path)
    assert form.status_code == 200 and "Make an invite code for Cat Cedar" in form.text
    assert "Short: one question about each area" in form.text and 'value="28"' in form.text
    slips = staff_site.client.post(path, data={"csrf_token": CSRF_IN_PAGE.search(form.text).group(1),
                                               "framework": "york", "question_set": "core", "days": "14"})
    assert slips.status_code == 200 and slips.history[0].status_code == 303
    [invite] = stored_invites(staff_site, [oak["cat"]])
    assert (invite.framework_id, invite.question_set) == ("york", "core")
    assert invite.created_by_id == staff_site.staff_user(oak["email"]).id
    assert timedelta(days=14) - timedelta(minutes=1) < invite.expires_at - utcnow() <= timedelta(days=14)
    code = f"{invite.code[:4]}-{invite.code[4:]}"
    assert "An invite code is ready." in slips.text
    assert "Cat, this is your Heard code" in slips.text and "Cedar" not in slips.text.split('<ul class="slips">')[1]
    assert f'<p class="slip-code">{code}</p>' in slips.text
    assert "Go to <strong class=\"slip-url\">https://heard.oak.example</strong> and type this code." in slips.text
    assert slips.text.count("<svg") == 1
    assert str(qr_svg(f"https://heard.oak.example/?code={code}")) in slips.text  # the QR opens Heard with the code
    assert start_url("https://heard.oak.example", invite.code) == f"https://heard.oak.example/?code={code}"
    assert '<link rel="stylesheet" href="/staff/static/print.css" media="print">' in slips.text
    [entry] = staff_site.audit("create_invites")
    assert entry.detail["pupil_ids"] == [oak["cat"]] and entry.detail["count"] == 1 and entry.pupil_id == oak["cat"]
    assert staff_site.audit("view_invite_slips")[0].detail["invite_ids"] == [invite.id]
    pupil_page = staff_site.client.get(f"/staff/pupils/{oak['cat']}")
    assert table(pupil_page.text, 0)[code][4:] == ["Not used yet", "Print slip for " + code]
    again = staff_site.client.get(f"/staff/pupils/slips?invite={invite.id}")
    assert again.status_code == 200 and f'<p class="slip-code">{code}</p>' in again.text
    assert table(staff_site.client.get("/staff/pupils").text)["Cat Cedar"][6] == code


def test_invites_for_a_class_make_a_code_and_a_slip_for_each_pupil_in_it(staff_site, oak):
    path = "/staff/pupils/invites"
    slips = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "group": "class:Hazel",
                                               "framework": "shropshire", "question_set": "full", "days": "28"})
    assert slips.status_code == 200 and "2 invite codes are ready." in slips.text
    invites = stored_invites(staff_site, [oak["cat"], oak["dan"], oak["amy"]])
    assert [(i.pupil_id, i.framework_id, i.question_set) for i in invites if i.framework_id == "shropshire"] == [
        (oak["cat"], "shropshire", "full"), (oak["dan"], "shropshire", "full")]
    made = [i for i in invites if i.framework_id == "shropshire"]
    for invite, first_name in zip(made, ("Cat", "Dan")):
        code = f"{invite.code[:4]}-{invite.code[4:]}"
        assert f"{first_name}, this is your Heard code" in slips.text and f'<p class="slip-code">{code}</p>' in slips.text
        assert str(qr_svg(start_url(get_settings().public_url, invite.code))) in slips.text
    assert slips.text.count('<li class="slip">') == 2 and slips.text.count("<svg") == 2
    [entry] = staff_site.audit("create_invites")
    assert entry.detail["pupil_ids"] == [oak["cat"], oak["dan"]] and entry.detail["count"] == 2


def test_invite_choices_that_are_not_right_are_explained_and_kept(staff_site, oak):
    path = "/staff/pupils/invites"
    page = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "group": "class:Hazel",
                                              "framework": "york", "question_set": "", "days": "120"})
    assert page.status_code == 422 and "No codes are made yet." in page.text
    assert "Please choose how many questions to ask." in page.text
    assert "Please type a number of days from 1 to 90, for example 28." in page.text
    assert '<option value="class:Hazel" selected>' in page.text and 'value="york" checked' in page.text
    assert 'value="120"' in page.text
    empty = staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "group": "class:Nowhere",
                                               "framework": "york", "question_set": "core", "days": "28"})
    assert empty.status_code == 422 and "There are no pupils in Nowhere yet." in empty.text
    stale = staff_site.client.post(path, data={"csrf_token": "old", "group": "year:Year 6",
                                               "framework": "york", "question_set": "full", "days": "30"})
    assert stale.status_code == 403 and "This page was open too long, so nothing was saved." in stale.text
    assert '<option value="year:Year 6" selected>' in stale.text and 'value="full" checked' in stale.text
    stale_one = staff_site.client.post(f"/staff/pupils/{oak['cat']}/invites", data={
        "csrf_token": "old", "framework": "york", "question_set": "full", "days": "30"})
    assert stale_one.status_code == 403 and 'value="30"' in stale_one.text
    assert stored_invites(staff_site, [oak["cat"], oak["dan"]]) == []
    assert staff_site.audit("create_invites") == []


def test_invite_choices_sent_after_the_sign_in_ran_out_come_back_after_signing_in(staff_site, oak):
    path = f"/staff/pupils/{oak['cat']}/invites"
    token = staff_site.token(path)
    staff_site.client.cookies.clear()
    chosen = {"framework": "york", "question_set": "full", "days": "45"}
    page = staff_site.client.post(path, data={"csrf_token": token, **chosen})
    assert page.status_code == 401
    back = staff_site.client.post("/staff/login", data={
        "csrf_token": CSRF_IN_PAGE.search(page.text).group(1), "email": oak["email"], "password": PASSWORD,
        "next": path, **{f"draft.{k}": v for k, v in chosen.items()}})
    assert back.status_code == 200 and "Make an invite code for Cat Cedar" in back.text
    assert 'value="full" checked' in back.text and 'value="45"' in back.text
    assert stored_invites(staff_site, [oak["cat"]]) == []


# ---- who may see these pages ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["dsl", "admin", "la_officer"])
def test_other_roles_are_told_these_pages_are_not_for_them(staff_site, oak, role):
    staff_site.client.cookies.clear()
    staff_site.sign_in(staff_site.account(role, None if role in ("admin", "la_officer") else oak["school"]))
    token = staff_site.token("/staff")
    for path in ("/staff/pupils", f"/staff/pupils/{oak['amy']}", "/staff/pupils/invites",
                 f"/staff/pupils/{oak['amy']}/invites", "/staff/pupils/slips?invite=1"):
        page = staff_site.client.get(path)
        assert page.status_code == 403 and "Only SENCOs can see this page" in page.text
        assert "Amy Ash" not in page.text
    posts = {"/staff/pupils": {"name": "X", "year_group": "Year 1"},
             "/staff/pupils/invites": {"group": "class:Hazel", "framework": "york", "question_set": "core", "days": "28"},
             f"/staff/pupils/{oak['amy']}/invites": {"framework": "york", "question_set": "core", "days": "28"}}
    for path, data in posts.items():
        assert staff_site.client.post(path, data={"csrf_token": token, **data}).status_code == 403
    assert len(stored_pupils(staff_site, oak["school"])) == 4
    assert staff_site.audit("create_invites") == [] and len(staff_site.audit("page_refused")) == 8


def test_signed_out_visitors_are_sent_to_sign_in(staff_site, oak):
    staff_site.client.cookies.clear()
    page = staff_site.client.get(f"/staff/pupils/{oak['amy']}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login?next=")


def test_names_are_shown_as_text_and_pages_have_nothing_inline(staff_site, oak):
    markup = "<script>alert(1)</script>"
    pupil = staff_site.pupil(oak["school"], f"Ivy {markup}", "Year 6", markup)
    path = f"/staff/pupils/{pupil}/invites"
    staff_site.client.post(path, data={"csrf_token": staff_site.token(path), "framework": "york",
                                       "question_set": "core", "days": "28"})
    [invite] = stored_invites(staff_site, [pupil])
    for page_path in ("/staff/pupils", f"/staff/pupils/{pupil}", path, "/staff/pupils/invites",
                      f"/staff/pupils/slips?invite={invite.id}"):
        page = staff_site.client.get(page_path)
        assert page.status_code == 200
        assert "<script" not in page.text and " style=" not in page.text and "data:" not in page.text
    assert html.escape(markup, quote=False) in staff_site.client.get(f"/staff/pupils/{pupil}").text
    for css in ("pupils.css", "print.css"):
        assert staff_site.client.get(f"/staff/static/{css}").status_code == 200
