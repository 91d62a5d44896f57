"""Every staff page in Chromium, signed in through the real sign-in form as each role:
axe-core (WCAG 2.2 AA tags) finds nothing, the keyboard reaches the main content first,
nothing scrolls sideways at 320 px, and no page breaks its own Content-Security-Policy
(Chromium reports a refused inline script or style as a console error, which fails the test)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from framework import we_did
from framework.db import repository as repo
from framework.db.models import Comment, Invite, School, StaffUser, SurveySession, utcnow
from framework.loader import load_framework
from tests.browser.widget import assert_axe_clean
from bot.auth import two_factor
from tests.unit.staff_site import PASSWORD, code_now, forget_last_code, password_hash, record_checkin, set_up_two_factor

pytestmark = pytest.mark.browser

REFUSAL_LOGGED = "console: Failed to load resource: the server responded with a status of 4"
CHILD_WORDS = 'my teacher <b>never</b> lisens <script>alert("x")</script> 👎'


@dataclass
class StaffWorld:
    school_id: int
    pupil_id: int
    checkin_id: int
    alert_id: int
    invite_id: int
    emails: dict[str, str]
    standard_checkin_id: int  # a longer check-in: an area at a time, with charts
    beside_id: int  # a pupil's Shropshire check-in, with their parent carer's beside it
    parent_carer_checkin_id: int
    parent_carer_invite_id: int
    partner_invite_id: int


@pytest.fixture(scope="module")
def staff_world(stack) -> StaffWorld:
    """One school with a pupil who did two check-ins (typed words, comments), an alert, an invite."""
    york = load_framework("york")
    core = york.questions("children_young_people", "core")
    with stack.sessions.begin() as db:
        council = repo.create_council(db, "Browser Test Council")
        school = repo.create_school(db, "Browser Test Academy", council=council)
        emails = {}
        for role in ("senco", "dsl", "la_officer", "admin"):
            email = f"{role}@browser.example"
            staff = repo.create_staff(db, email, password_hash(), role, None if role in ("la_officer", "admin") else school,
                                      council if role == "la_officer" else None)
            if two_factor.required(staff):
                set_up_two_factor(staff)
            emails[role] = email
        pupil = repo.create_pupil(db, school, "Robin <i>Browser</i>", year_group="Year 5", class_name="5B")
        school_id, pupil_id = school.id, pupil.id
    earlier = record_checkin(stack.sessions, pupil_id, {q.id: "no" for q in core}, at=utcnow() - timedelta(days=365),
                             consent=("school_family_and_council",))
    standard = record_checkin(stack.sessions, pupil_id, None, question_set="standard",
                              at=utcnow() - timedelta(days=200))
    checkin_id = record_checkin(stack.sessions, pupil_id, {q.id: v for q, v in zip(core, ["yes", "sometimes", "no",
                                "dont_know", "skipped", "yes", "yes"])}, words={core[0].id: CHILD_WORDS},
                                comments=((york.area_of(core[0].id).id, "what_would_help",
                                           "more breaks <img src=x onerror=alert(1)>"),
                                          (york.area_of(core[0].id).id, "anything_else", "my friends help me")),
                                input_mode="type", read_aloud=True, who_with="with_support",
                                consent=("school_and_family",))
    with stack.sessions.begin() as db:
        # "You said, we did": a plan on the earlier check-in, told at the latest and answered; one not done yet.
        senco = repo.find_staff_by_email(db, emails["senco"])
        for session_id, done in ((earlier, True), (checkin_id, False)):
            session = db.get(SurveySession, session_id)
            action = we_did.record(db, senco, session, answer=repo.current_answers(db, session)[0],
                                   what="Lunch in the quiet room", who="Mrs Patel", due_on=date(2030, 1, 31),
                                   child_words="you can eat in the quiet room")
            if done:
                we_did.mark_done(db, action, senco)
                action.told_session_id = checkin_id
                we_did.mark_told(db, action)
                we_did.record_reply(db, action, "a_bit", "typed", "a bit <b>yes</b>")
        school = db.get(School, school_id)
        # a comment the SENCO moved to another outcome shows who moved it
        moved = db.scalars(select(Comment).where(Comment.session_id == checkin_id, Comment.kind == "anything_else")).one()
        senco = db.scalars(select(StaffUser).where(StaffUser.email == emails["senco"])).one()
        repo.move_comment(db, moved, "york.included", senco)
        session = repo.start_or_resume_session(db, repo.create_invite(db, repo.create_pupil(
            db, school, "Kai Alert", year_group="Year 5"), "york")).session
        message, _ = repo.add_message(db, session, "in", "my step dad hurts me")
        alert, _ = repo.raise_alert(db, session, "my step dad hurts me", ["abuse_physical"], ["hurts"], "screen",
                                    message=message)
        invite_id = db.scalar(select(Invite.id).where(Invite.pupil_id == pupil_id).order_by(Invite.id.desc()))
        alert_id = alert.id
    # The same pupil with Shropshire, and their parent carer (who answered one question differently).
    shropshire = load_framework("shropshire")
    beside_id = record_checkin(stack.sessions, pupil_id, {"shropshire.heard.cyp2": "sometimes"},
                               framework_id="shropshire", comments=(("shropshire.heard", "anything_else", CHILD_WORDS),),
                               consent=("school_family_and_council",))
    parent_carer_checkin_id = record_checkin(
        stack.sessions, pupil_id, {s.id: "no" for s in shropshire.questions("parent_carers", "core")},
        framework_id="shropshire", perspective="parent_carers", words={"shropshire.heard.pc5": CHILD_WORDS})
    with stack.sessions.begin() as db:
        parent_carer_invite_id = db.scalar(select(Invite.id).where(Invite.pupil_id == pupil_id,
                                                                   Invite.perspective == "parent_carers"))
        officer = repo.find_staff_by_email(db, emails["la_officer"])
        partner_invite_id = repo.create_partner_invite(db, "shropshire", "education", created_by=officer).id
    for _ in range(5):  # enough partners for their figures to show in the council view
        with stack.sessions.begin() as db:
            officer = repo.find_staff_by_email(db, emails["la_officer"])
            session = repo.start_or_resume_session(db, repo.create_partner_invite(
                db, "shropshire", "health", created_by=officer)).session
            repo.record_answer(db, session, "shropshire.safe.p2", "shropshire.safe", "yes", "tapped")
            repo.record_consent(db, session, ["school_family_and_council"])
    return StaffWorld(school_id, pupil_id, checkin_id, alert_id, invite_id, emails, standard, beside_id,
                      parent_carer_checkin_id, parent_carer_invite_id, partner_invite_id)


@pytest.fixture
def staff_page(browser, web_url, stack) -> Iterator:
    """A signed-in staff page in a fresh browser context: `staff_page("senco", width=320)`."""
    opened: list[tuple[Page, list[str]]] = []

    def open_as(email: str | None, width: int = 1280) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        opened.append((page, problems))
        if email is not None:
            page.goto(f"{web_url}/staff/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(re.compile(r".*/staff(/two-factor)?$"))
            if page.url.endswith("/two-factor"):  # safeguarding leads and administrators
                forget_last_code(stack.sessions, email)
                page.fill("input[name=code]", code_now())
                page.click("main button[type=submit]")
                page.wait_for_url(re.compile(r".*/staff$"))
        return page

    yield open_as
    # Refusals and form problems (4xx) are answers these tests ask for; anything else is a fault.
    problems = [p for _, found in opened for p in found if not p.startswith(REFUSAL_LOGGED)]
    for page, _ in opened:
        page.context.close()
    assert not problems, "the pages reported errors:\n" + "\n".join(problems)


def pages_for(world: StaffWorld) -> dict[str, list[str]]:
    pupil, checkin = world.pupil_id, world.checkin_id
    return {
        "senco": ["/staff", "/staff/pupils", "/staff/pupils?year=Year+5", f"/staff/pupils/{pupil}",
                  f"/staff/pupils/{pupil}/invites", "/staff/pupils/invites?group=year:Year+5",
                  f"/staff/pupils/slips?invite={world.invite_id}", f"/staff/checkins/{checkin}",
                  f"/staff/checkins/{world.standard_checkin_id}",
                  f"/staff/pupils/{pupil}/over-time", "/staff/alerts", "/staff/pupils/999999",
                  f"/staff/pupils/{pupil}/parent-carer-invites", f"/staff/checkins/{world.beside_id}",
                  f"/staff/checkins/{world.parent_carer_checkin_id}",
                  f"/staff/pupils/slips?invite={world.parent_carer_invite_id}"],
        "dsl": ["/staff", "/staff/alerts", f"/staff/alerts/{world.alert_id}", "/staff/pupils"],
        "la_officer": ["/staff", "/staff/council", "/staff/council?framework=york&year_group=Year+5",
                       "/staff/council?framework=shropshire", "/staff/council/partners",
                       f"/staff/council/partners/slips?invite={world.partner_invite_id}"],
        "admin": ["/staff", "/staff/admin/accounts", "/staff/admin/schools", "/staff/admin/audit", "/staff/password"],
    }


@pytest.mark.parametrize("role", ["senco", "dsl", "la_officer", "admin"])
def test_axe_finds_nothing_on_any_staff_page(staff_page, staff_world, web_url, role):
    page = staff_page(staff_world.emails[role])
    for path in pages_for(staff_world)[role]:
        page.goto(web_url + path)
        assert_axe_clean(page, f"{role} page {path}")
        main = page.locator("main h1")
        assert main.count() == 1, f"{path} should have one main heading"


def test_axe_finds_nothing_on_sign_in_and_its_problems(staff_page, web_url):
    page = staff_page(None)
    page.goto(f"{web_url}/staff/login")
    assert_axe_clean(page, "sign-in page")
    page.fill("input[name=email]", "nobody@browser.example")
    page.fill("input[name=password]", "wrong password")
    page.click("main button[type=submit]")
    assert "not right" in page.locator("[role=alert]").inner_text()
    assert_axe_clean(page, "sign-in page with a wrong password")


def test_a_form_with_a_problem_is_accessible_and_keeps_what_was_typed(staff_page, staff_world, web_url):
    page = staff_page(staff_world.emails["senco"])
    page.goto(f"{web_url}/staff/pupils")
    page.click("#add-pupil summary")
    adding = page.locator("form[action='/staff/pupils'][method=post]")
    adding.locator("input[name=name]").fill("Ash Example")  # no year group: a problem
    adding.evaluate("form => { form.noValidate = true; }")  # past the browser's own check, to the server's
    adding.locator("button[type=submit]").click()
    assert page.locator("form[action='/staff/pupils'][method=post] input[name=name]").input_value() == "Ash Example"
    assert page.locator("[role=alert]").count() >= 1
    assert_axe_clean(page, "add-pupil form with a problem")


def test_a_plan_with_a_problem_is_accessible_and_keeps_what_was_typed(staff_page, staff_world, web_url):
    page = staff_page(staff_world.emails["senco"])
    page.goto(f"{web_url}/staff/checkins/{staff_world.checkin_id}")
    assert "They said: It helped a bit" in page.locator("#we-did").inner_text()
    form = page.locator("form.we-did-form")
    form.locator("select[name=said]").select_option(index=1)
    form.locator("textarea[name=what]").fill("A quiet space at lunch")
    form.locator("input[name=who]").fill("Mr Jones")
    form.locator("input[name=due_on]").fill("2030-02-01")
    form.locator("input[name=child_words]").fill("the designated practitioner will facilitate provision")
    form.locator("button[type=submit]").click()
    assert page.locator("#child_words-error").inner_text().startswith("These words may be hard")
    assert page.locator("input[name=child_words]").input_value() == "the designated practitioner will facilitate provision"
    assert_axe_clean(page, "a plan with a problem")


def test_the_childs_words_show_as_text_and_run_nothing(staff_page, staff_world, web_url):
    page = staff_page(staff_world.emails["senco"])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{web_url}/staff/checkins/{staff_world.checkin_id}")
    text = page.locator("main").inner_text()
    assert 'my teacher <b>never</b> lisens <script>alert("x")</script> 👎' in text
    assert "more breaks <img src=x onerror=alert(1)>" in text
    assert "Robin <i>Browser</i>" in text
    assert page.locator("main script, main img[src=x], main b, main i").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("role,path", [("senco", "/staff/pupils"), ("senco", "checkin"), ("senco", "over-time"),
                                       ("dsl", "alert"), ("la_officer", "/staff/council"),
                                       ("admin", "/staff/admin/audit")])
def test_staff_pages_reflow_at_320_px(staff_page, staff_world, web_url, role, path):
    path = {"checkin": f"/staff/checkins/{staff_world.checkin_id}",
            "over-time": f"/staff/pupils/{staff_world.pupil_id}/over-time",
            "alert": f"/staff/alerts/{staff_world.alert_id}"}.get(path, path)
    page = staff_page(staff_world.emails[role], width=320)
    page.goto(web_url + path)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 320 px"


def test_the_keyboard_reaches_skip_link_then_every_link_and_button_shows_focus(staff_page, staff_world, web_url):
    page = staff_page(staff_world.emails["senco"])
    page.goto(f"{web_url}/staff/pupils/{staff_world.pupil_id}")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    seen = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {tag: el.tagName, text: (el.textContent || el.value || '').trim().slice(0, 40),
                    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                    shadow: style.boxShadow !== 'none'};
        }""")
        if focused["tag"] == "BODY":
            break
        assert focused["outline"] or focused["shadow"], f"no visible focus on {focused}"
        seen.add(focused["text"])
    assert any("over time" in text.lower() for text in seen), f"change over time not reachable: {sorted(seen)}"
