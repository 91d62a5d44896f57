"""The SENCO's pupil-voice summary of a check-in and the change-over-time page: the child's
exact words (always inert), counts that match the database, consent and preferences shown,
own school only, SENCOs only, every view audited."""
from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.auth.headers import CONTENT_SECURITY_POLICY
from framework.db import repository as repo
from framework.db.models import Answer, Comment, SurveySession, utcnow
from framework.loader import load_framework
from tests.unit.staff_site import CSRF_IN_PAGE, PASSWORD, staff_db_url, staff_site  # noqa: F401

YORK = load_framework("york")
SAFE, SAFE_TELL, INDEPENDENT, HEARD = "york.safe.cyp1", "york.safe.cyp3", "york.independent.cyp1", "york.heard.cyp1"
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"


def senco_signed_in(site, school: int) -> str:
    email = site.account("senco", school)
    assert site.sign_in(email).url.path == "/staff"
    return email


def child_words(page: str) -> list[str]:
    quoted = re.findall(r'<blockquote class="child-words[^"]*">(.*?)</blockquote>', page, re.S)
    return [html.unescape(words) for words in quoted]


def answer_words(page: str) -> list[str]:
    """Words typed as an answer, shown with the answer they gave."""
    quoted = re.findall(r'<q class="answer-words[^"]*">(.*?)</q>', page, re.S)
    return [html.unescape(words) for words in quoted]


def chart_tables(page: str) -> dict[str, dict[str, int]]:
    """Each area's answer counts as the page's data tables show them, by area title."""
    tables = re.findall(r"<caption[^>]*>Answers in (.*?), as a table</caption>(.*?)</table>", page, re.S)
    return {html.unescape(area): {html.unescape(label): int(count) for label, count in
                                  re.findall(r'<th scope="row">(.*?)</th><td>(\d+)</td>', rows)}
            for area, rows in tables}


@pytest.fixture
def oak(staff_site):
    """Oak School's SENCO, signed in, and Amy's check-in: typed words (markup among them), a
    changed answer, a skip, a comment mapped to two statements, consent for school only."""
    school = staff_site.school("Oak School")
    pupil = staff_site.pupil(school, "Amy Oak")
    checkin = staff_site.checkin(
        pupil, {SAFE: "no", SAFE_TELL: "skipped", INDEPENDENT: "sometimes", HEARD: "yes"}, question_set="standard",
        words={INDEPENDENT: SCRIPT, HEARD: IMAGE + " they listen… mostly"}, input_mode="type", read_aloud=True,
        who_with="with_support")
    with staff_site.sessions.begin() as db:
        session = db.get(SurveySession, checkin)
        repo.record_answer(db, session, SAFE, "york.safe", "sometimes", "typed", words="sometimes at lunch")
        repo.record_comment(db, session, "york.safe", "what_would_help", "a calm space  \n& less noise",
                            [{"statement_id": SAFE, "area_id": "york.safe", "score": 0.8},
                             {"statement_id": SAFE_TELL, "area_id": "york.safe", "score": 0.5}])
    email = senco_signed_in(staff_site, school)
    return school, pupil, checkin, email


def test_the_summary_shows_the_childs_exact_words_inert_under_a_strict_policy(staff_site, oak):
    _, _, checkin, _ = oak
    page = staff_site.client.get(f"/staff/checkins/{checkin}")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert SCRIPT not in page.text and IMAGE not in page.text  # never live markup
    assert html.escape(SCRIPT, quote=False) in page.text
    # Comments are quoted as their views; words typed as an answer go with the answer given.
    assert child_words(page.text) == ["a calm space  \n& less noise"]
    assert answer_words(page.text) == ["sometimes at lunch", SCRIPT, IMAGE + " they listen… mostly"]


def test_the_summary_has_the_header_each_statement_and_how_it_was_given(staff_site, oak):
    _, _, checkin, _ = oak
    text = staff_site.client.get(f"/staff/checkins/{checkin}").text
    asked = len(YORK.questions("children_young_people", "standard"))
    assert "Pupil voice: Amy Oak" in text and YORK.title in text and "Finished" in text
    assert f"3 of {asked} questions, 1 skipped" in text
    for statement in (SAFE, SAFE_TELL, INDEPENDENT, HEARD):
        assert html.escape(YORK.statement(statement).text) in text
    assert "changed from No" in text
    assert "Typed; Heard checked what they meant" not in text and "Tapped a button" in text
    # The comment's mapped statements, under it.
    comment_part = text.split("a calm space")[1]
    assert "Heard matched this to:" in comment_part
    assert html.escape(YORK.statement(SAFE_TELL).text) in comment_part
    assert "Heard is not sure of this: please check." in comment_part  # scored 0.8


def test_a_chart_sums_up_each_area_with_more_than_one_answer_and_matches_the_database(staff_site, oak):
    _, _, checkin, _ = oak
    tables = chart_tables(staff_site.client.get(f"/staff/checkins/{checkin}").text)
    with staff_site.sessions() as db:
        stored = Counter((a.area_id, a.value) for a in db.scalars(
            select(Answer).where(Answer.session_id == checkin, Answer.is_current)))
    labels = {"yes": "Yes", "sometimes": "Sometimes", "no": "No", "dont_know": "I don't know", "skipped": "Skipped"}
    asked_areas = [a for a in YORK.areas if a.asked("children_young_people", "standard")]
    # One answer needs no chart: "Doing things myself" and "Being heard" have one each.
    charted = [a for a in asked_areas if sum(stored[(a.id, value)] for value in labels) > 1]
    assert list(tables) == [a.plain_title for a in charted] == ["Being safe"]
    for area in charted:
        assert tables[area.plain_title] == {label: stored[(area.id, value)] for value, label in labels.items()}
    assert tables["Being safe"]["Sometimes"] == 1 and tables["Being safe"]["No"] == 0  # the change counts once


def test_the_charts_are_labelled_images_not_colour_alone(staff_site, oak):
    _, _, checkin, _ = oak
    text = staff_site.client.get(f"/staff/checkins/{checkin}").text
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", text, re.S)
    assert svgs and all('role="img"' in svg and "<title id=" in svg for svg in svgs)
    assert "Answers in Being safe: Yes 0, Sometimes 1, No 0, I don&#39;t know 0, Skipped 1" in text
    assert " style=" not in text


def test_consent_and_preferences_are_shown(staff_site, oak):
    school, pupil, checkin, _ = oak
    text = staff_site.client.get(f"/staff/checkins/{checkin}").text
    assert "They chose: <strong>“Only my school”</strong>" in text
    assert "“Type”" in text and "The young person, with someone helping" in text
    assert "<dt>Read aloud</dt><dd>On" in text
    paused = staff_site.checkin(pupil, consent=None, status="paused")
    text = staff_site.client.get(f"/staff/checkins/{paused}").text
    assert "Not asked yet." in text and "Paused" in text


def test_the_summary_says_when_they_chose_fewer_questions_or_stopped_before_choosing_who_may_see(staff_site, oak):
    school, pupil, checkin, _ = oak  # invited to the standard set, and kept it
    assert "chose the shorter set" not in staff_site.client.get(f"/staff/checkins/{checkin}").text
    shorter = staff_site.checkin(pupil, question_set="standard", consent=None, status="stopped")
    with staff_site.sessions.begin() as db:
        db.get(SurveySession, shorter).question_set = "core"  # the child chose "A few"
    text = staff_site.client.get(f"/staff/checkins/{shorter}").text
    assert "<strong>They chose the shorter set</strong>: the invite was for Standard" in text
    assert "Not chosen.</strong> They stopped before choosing, so only the school sees their answers" in text


def test_another_schools_check_in_is_not_found(staff_site, oak):
    elm = staff_site.school("Elm School")
    elm_checkin = staff_site.checkin(staff_site.pupil(elm, "Cat Elm"), words={SAFE: "elm secret"})
    for session_id in (elm_checkin, 99999, "abc", "9" * 30):
        for path in (f"/staff/checkins/{session_id}", f"/staff/checkins/{session_id}/profile.pdf"):
            page = staff_site.client.get(path)
            assert page.status_code == 404 and "Page not found" in page.text
            assert "elm secret" not in page.text and "Cat Elm" not in page.text
    assert len(staff_site.audit("view_checkin_refused")) == 8
    assert staff_site.audit("view_checkin") == []


@pytest.mark.parametrize("role", ["dsl", "la_officer", "admin"])
def test_other_roles_are_told_the_pages_are_not_for_them(staff_site, oak, role):
    school, pupil, checkin, _ = oak
    staff_site.client.cookies.clear()
    staff_site.sign_in(staff_site.account(role, None if role in ("la_officer", "admin") else school))
    for path in (f"/staff/checkins/{checkin}", f"/staff/pupils/{pupil}/over-time"):
        page = staff_site.client.get(path)
        assert page.status_code == 403 and "Only SENCOs can see this page" in page.text
        assert "Amy Oak" not in page.text and "listen" not in page.text
    assert len(staff_site.audit("page_refused")) == 2
    assert staff_site.audit("view_checkin") == [] and staff_site.audit("view_over_time") == []


def test_signed_out_the_summary_asks_for_a_sign_in(staff_site, oak):
    _, _, checkin, _ = oak
    staff_site.client.cookies.clear()
    page = staff_site.client.get(f"/staff/checkins/{checkin}")
    assert page.url.path == "/staff/login" and "Amy Oak" not in page.text


def test_each_view_is_audited_with_who_and_which_pupil(staff_site, oak):
    _, pupil, checkin, email = oak
    staff_site.client.get(f"/staff/checkins/{checkin}")
    staff_site.client.get(f"/staff/pupils/{pupil}/over-time")
    senco = staff_site.staff_user(email)
    [view] = staff_site.audit("view_checkin")
    assert (view.actor_id, view.pupil_id, view.object_id) == (senco.id, pupil, str(checkin))
    [over_time] = staff_site.audit("view_over_time")
    assert (over_time.actor_id, over_time.pupil_id, over_time.detail) == (senco.id, pupil, {"checkins": [checkin]})


def over_time_cells(page: str, caption_start: str) -> list[list[str]]:
    """The body rows of one over-time table, as the text of each cell."""
    table = re.search(rf"<caption[^>]*>{caption_start}.*?</caption>(.*?)</table>", page, re.S).group(1)
    head = re.findall(r'<th scope="col">(.*?)</th>', table)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</th>(.*?)</tr>", table, re.S)
    cells = [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
             for r in rows]
    return [head, *cells]


def test_over_time_shows_each_answer_by_date_with_the_change_in_words(staff_site, oak):
    _, pupil, first, _ = oak  # Being safe: Sometimes (changed from No); Being heard: Yes
    now = utcnow()
    with staff_site.sessions.begin() as db:
        db.get(SurveySession, first).started_at = now - timedelta(days=60)
    # Made out of date order on purpose: columns follow the dates.
    third = staff_site.checkin(pupil, {SAFE: "no", HEARD: "yes"}, at=now - timedelta(days=5))
    second = staff_site.checkin(pupil, {SAFE: "yes", HEARD: "dont_know"}, at=now - timedelta(days=30))
    page = staff_site.client.get(f"/staff/pupils/{pupil}/over-time")
    assert page.status_code == 200
    links = re.findall(r'<a href="/staff/checkins/(\d+)">Check-in \d', page.text)
    assert links == [str(first), str(second), str(third)]
    head, safe, tell = over_time_cells(page.text, "Being safe")
    assert head[0] == "I statement" and len(head) == 4
    assert safe == ["Sometimes", "Yes (better)", "No (worse)"]
    assert tell == ["Skipped", "Not asked", "Not asked"]
    _, heard = over_time_cells(page.text, "Being heard")
    assert heard == ["Yes", "I don&#39;t know", "Yes (same)"]
    assert "Average answer in Being safe" in page.text


def test_over_time_for_another_schools_pupil_is_not_found(staff_site, oak):
    elm = staff_site.school("Elm School")
    elm_pupil = staff_site.pupil(elm, "Cat Elm")
    staff_site.checkin(elm_pupil)
    page = staff_site.client.get(f"/staff/pupils/{elm_pupil}/over-time")
    assert page.status_code == 404 and "Cat Elm" not in page.text
    assert staff_site.audit("view_over_time") == []


def test_over_time_with_nothing_answered_says_so(staff_site, oak):
    school, _, _, _ = oak
    newcomer = staff_site.pupil(school, "Dan New")
    page = staff_site.client.get(f"/staff/pupils/{newcomer}/over-time")
    assert page.status_code == 200 and "Dan New has not answered any questions yet" in page.text


def test_comment_cards_show_as_the_cards_chosen_in_the_summary_pdf_and_csv(staff_site, oak):
    school, pupil, checkin, _ = oak
    with staff_site.sessions.begin() as db:
        session = db.get(SurveySession, checkin)
        repo.record_comment(db, session, "york.independent", "anything_else", "I like it; I need more help",
                            cards=["I like it", "I need more help"])
    page = staff_site.client.get(f"/staff/checkins/{checkin}").text
    said = re.search(r'<p class="child-cards">(.*?)</p>', page, re.S)[1]
    assert html.unescape(said) == "They chose the cards \u201cI like it\u201d and \u201cI need more help\u201d."
    assert "I like it; I need more help" not in child_words(page)  # cards are not typed words
    rows = list(csv.DictReader(io.StringIO(staff_site.client.get(f"/staff/pupils/{pupil}/answers.csv")
                                           .content.decode("utf-8-sig"))))
    [cards] = [r for r in rows if r["How given"] == "Chose cards"]
    assert (cards["Record"], cards["Exact words"]) == ("Comment: anything else", "I like it; I need more help")


def test_words_passed_to_the_safeguarding_lead_stay_in_the_childs_voice(staff_site, oak):
    """Bullying is quoted, marked as shared with the lead; an abuse disclosure is the lead's
    alone: the SENCO reads that something was passed on, never the words."""
    _, _, checkin, _ = oak
    bullied, hurt = "they laugh at me on the bus every day", "my uncle hurts me"
    with staff_site.sessions.begin() as db:
        session = db.get(SurveySession, checkin)
        for words, categories in ((bullied, ["bullying_threats"]), (hurt, ["abuse_physical", "bullying_threats"])):
            message, _ = repo.add_message(db, session, "in", words)
            repo.raise_alert(db, session, words, categories, [], "screen", message=message)
    page = staff_site.client.get(f"/staff/checkins/{checkin}").text
    assert bullied in child_words(page) and "Shared with the safeguarding lead." in page
    assert hurt not in page and "uncle" not in page
    assert "Seen by the safeguarding lead only." in page


def test_beside_each_statement_is_the_question_they_heard(staff_site, oak):
    _, _, checkin, _ = oak
    text = staff_site.client.get(f"/staff/checkins/{checkin}").text
    for statement in (SAFE, SAFE_TELL, INDEPENDENT, HEARD):
        shown = text.split(html.escape(YORK.statement(statement).text), 1)[1]
        assert shown.lstrip().startswith("</p>\n      <p class=\"question-heard\">They heard: "
                                         f"“{html.escape(YORK.statement(statement).question)}”")


def glance_rows(page: str) -> list[list[str]]:
    """The one-line-per-area table, as the text of each row's cells."""
    body = re.search(r'<table class="glance">.*?<tbody>(.*?)</tbody>', page, re.S)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def test_a_short_checkin_is_one_line_per_area_without_charts(staff_site, oak):
    school, _, _, _ = oak
    core = YORK.questions("children_young_people", "core")
    pupil = staff_site.pupil(school, "Bea Oak")
    checkin = staff_site.checkin(pupil, {s.id: "yes" for s in core} | {SAFE: "no"}, words={SAFE: "not at lunch " + SCRIPT},
                                 comments=(("york.safe", "what_would_help", "a quiet room"),))
    page = staff_site.client.get(f"/staff/checkins/{checkin}").text
    rows = glance_rows(page)
    assert [row[0] for row in rows] == [YORK.area_of(s.id).plain_title for s in core]
    safe = rows[0]
    assert safe[1:4] == [YORK.statement(SAFE).text, f"“{YORK.statement(SAFE).question}”", "No · Typed"]
    assert safe[4].startswith("not at lunch " + SCRIPT) and "a quiet room" in safe[4]
    assert 'src="/symbols/' + YORK.area("york.safe").symbol + '.svg"' in page
    assert "<svg" not in page and SCRIPT not in page  # one answer an area: no charts; words inert
    assert answer_words(page) == ["not at lunch " + SCRIPT] and child_words(page) == ["a quiet room"]


# ---- moving a misfiled comment ------------------------------------------------------------------


def area_of_comment(page: str, comment_id: int) -> str:
    """The title of the area section the comment is shown in."""
    for title, section in re.findall(r'<section class="area"[^>]*>\s*<h3 id="[^"]+">(.*?) <span.*?</h3>(.*?)</section>',
                                     page, re.S):
        if f'id="comment-{comment_id}"' in section:
            return html.unescape(re.sub(r"<[^>]+>", "", title)).strip()  # the area's symbol is an <img>
    raise AssertionError(f"comment {comment_id} is not on the page")


def oak_comment(site) -> Comment:
    with site.sessions() as db:
        return db.scalars(select(Comment).options(selectinload(Comment.mappings))).one()


def move(site, checkin: int, comment_id: int, area_id: str, token: str | None = None):
    token = site.token(f"/staff/checkins/{checkin}") if token is None else token
    return site.client.post(f"/staff/checkins/{checkin}/comments/{comment_id}/area",
                            data={"csrf_token": token, "area_id": area_id})


def test_a_senco_moves_a_misfiled_comment_and_the_summary_says_staff_moved_it(staff_site, oak):
    _, pupil, checkin, email = oak
    comment = oak_comment(staff_site)
    page = staff_site.client.get(f"/staff/checkins/{checkin}")
    assert area_of_comment(page.text, comment.id) == YORK.area("york.safe").plain_title
    assert "Moved here by staff" not in page.text

    page = move(staff_site, checkin, comment.id, "york.included")
    assert page.status_code == 200 and page.url.path == f"/staff/checkins/{checkin}"
    included = YORK.area("york.included").plain_title
    assert f"The comment is now under \u201c{included}\u201d" in page.text
    assert area_of_comment(page.text, comment.id) == included
    assert f"Moved here by staff: {email}" in page.text
    assert f"Heard had filed it under \u201c{YORK.area('york.safe').plain_title}\u201d" in page.text
    assert "a calm space  \n&amp; less noise" in page.text  # the child's words, as they were
    # the form now shows where it is filed
    assert re.search(rf'<option value="york.included" selected>', page.text)

    stored = oak_comment(staff_site)
    assert stored.text == "a calm space  \n& less noise" and stored.area_id == "york.safe"
    assert [(m.statement_id, m.area_id, m.score) for m in stored.mappings] == \
        [(SAFE, "york.safe", 0.8), (SAFE_TELL, "york.safe", 0.5)]  # Heard's own filing is kept
    senco = staff_site.staff_user(email)
    assert (stored.moved_to_area_id, stored.moved_by_id) == ("york.included", senco.id)
    [entry] = staff_site.audit("move_comment")
    assert (entry.actor_id, entry.pupil_id, entry.object_id) == (senco.id, pupil, str(comment.id))
    assert entry.detail == {"from": "york.safe", "to": "york.included", "heard_filed": "york.safe"}


def test_moving_a_comment_back_where_heard_filed_it_clears_the_move_and_both_are_audited(staff_site, oak):
    _, _, checkin, _ = oak
    comment = oak_comment(staff_site)
    move(staff_site, checkin, comment.id, "york.included")
    page = move(staff_site, checkin, comment.id, "york.safe")
    assert area_of_comment(page.text, comment.id) == YORK.area("york.safe").plain_title
    assert "Moved here by staff" not in page.text
    stored = oak_comment(staff_site)
    assert (stored.moved_to_area_id, stored.moved_by_id, stored.moved_at) == (None, None, None)
    assert [e.detail["to"] for e in staff_site.audit("move_comment")] == ["york.included", "york.safe"]
    # choosing where it already is changes nothing
    page = move(staff_site, checkin, comment.id, "york.safe")
    assert "Nothing was changed" in page.text and len(staff_site.audit("move_comment")) == 2


def test_a_move_without_the_forms_token_or_to_no_outcome_changes_nothing(staff_site, oak):
    _, _, checkin, _ = oak
    comment = oak_comment(staff_site)
    page = move(staff_site, checkin, comment.id, "york.included", token="forged")
    assert page.status_code == 403 and "nothing was saved" in page.text
    # the outcome chosen is still chosen, to press the button again
    assert re.search(r'<option value="york.included" selected>', page.text)
    for area_id in ("york.nowhere", "shropshire.safe", ""):
        page = move(staff_site, checkin, comment.id, area_id)
        assert page.status_code == 422 and "choose one of the outcomes" in page.text
    assert oak_comment(staff_site).moved_to_area_id is None and staff_site.audit("move_comment") == []


def test_only_the_schools_senco_can_move_a_comment_of_that_check_in(staff_site, oak):
    school, pupil, checkin, _ = oak
    comment = oak_comment(staff_site)
    elm = staff_site.school("Elm School")
    elm_checkin = staff_site.checkin(staff_site.pupil(elm, "Cat Elm"),
                                     comments=(("york.safe", "anything_else", "elm words"),))
    own_other = staff_site.checkin(pupil)
    token = staff_site.token(f"/staff/checkins/{checkin}")
    with staff_site.sessions() as db:
        elm_comment = db.scalars(select(Comment).where(Comment.session_id == elm_checkin)).one()
    for session_id, comment_id in ((elm_checkin, elm_comment.id), (checkin, elm_comment.id),
                                   (own_other, comment.id), (checkin, 99999), (checkin, "abc")):
        page = move(staff_site, session_id, comment_id, "york.included", token=token)
        assert page.status_code == 404 and "elm words" not in page.text
    staff_site.client.cookies.clear()
    staff_site.sign_in(staff_site.account("dsl", school))
    page = move(staff_site, checkin, comment.id, "york.included", token=staff_site.token("/staff"))
    assert page.status_code == 403 and "Only SENCOs can see this page" in page.text
    assert staff_site.audit("move_comment") == []
    with staff_site.sessions() as db:
        assert db.scalars(select(Comment.moved_to_area_id)).all() == [None, None]


def test_a_move_sent_after_the_sign_in_ran_out_is_shown_again_once_signed_in(staff_site, oak):
    _, _, checkin, email = oak
    comment = oak_comment(staff_site)
    token = staff_site.token(f"/staff/checkins/{checkin}")
    staff_site.client.cookies.clear()
    page = move(staff_site, checkin, comment.id, "york.included", token=token)
    assert page.status_code == 401
    page = staff_site.client.post("/staff/login", data={
        "csrf_token": CSRF_IN_PAGE.search(page.text).group(1), "email": email, "password": PASSWORD,
        "next": f"/staff/checkins/{checkin}/comments/{comment.id}/area", "draft.area_id": "york.included"})
    assert page.status_code == 200 and "You are signed in again" in page.text
    assert re.search(r'<option value="york.included" selected>', page.text)
    assert oak_comment(staff_site).moved_to_area_id is None  # not saved until they press the button
