"""The council view: local authority officers only, figures equal to a hand count, only
council-consented check-ins, small numbers hidden, never a name, a word or a pupil id, and
every view and download audited."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.auth.headers import CONTENT_SECURITY_POLICY
from bot.reports.council import COUNCIL_CONSENT, SUPPRESSED_TEXT
from framework.db import repository as repo
from framework.db.models import Pupil
from tests.unit.staff_site import staff_db_url, staff_site  # noqa: F401

SAFE = "york.safe.cyp1"
HOME = "york.independent.cyp1"
COUNCIL = (COUNCIL_CONSENT,)
WORDS = "purple elephant trampoline"
COMMENT = "zxqv banana spaceship"
NORTHSHIRE = "Northshire Council"
AUTUMN_2024 = datetime(2024, 10, 1, 12, tzinfo=timezone.utc)
SPRING_2025 = datetime(2025, 2, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
def area_data(staff_site):
    """Council-consented pupils: Oak 6 (4 yes, 2 no to SAFE, each typing words), Ash 5 (all
    "I don't know"), Elm 3 (all sometimes, in the spring); and one Oak pupil who said only the
    school may see. Distinctive names and words throughout."""
    council = staff_site.council(NORTHSHIRE)
    oak, ash, elm = (staff_site.school(name, council) for name in ("Oak Primary", "Ash Academy", "Elm Academy"))
    names = []
    for i, value in enumerate(["yes", "yes", "yes", "yes", "no", "no"]):
        names.append(f"Xanthippe Quigley{i}")
        pupil = staff_site.pupil(oak, names[-1])
        staff_site.checkin(pupil, {SAFE: value, HOME: "yes"}, words={SAFE: f"{WORDS} {i}"},
                           comments=(("york.safe", "anything_else", COMMENT),), consent=COUNCIL, at=AUTUMN_2024)
    private = staff_site.pupil(oak, "Bartholomew Private")
    staff_site.checkin(private, {SAFE: "no", HOME: "no"}, consent=("school",), at=AUTUMN_2024)
    for i in range(5):
        names.append(f"Peregrine Ashworth{i}")
        staff_site.checkin(staff_site.pupil(ash, names[-1]), {SAFE: "dont_know"}, consent=COUNCIL, at=AUTUMN_2024)
    for i in range(3):
        names.append(f"Ottoline Zebedee{i}")
        staff_site.checkin(staff_site.pupil(elm, names[-1]), {SAFE: "sometimes"}, consent=COUNCIL, at=SPRING_2025)
    return oak, elm, names + ["Bartholomew Private"]


def officer_signed_in(site, council: str = NORTHSHIRE, email: str = "officer@council.example") -> str:
    """An officer of `council` (made if new), signed in."""
    with site.sessions() as db:
        found = repo.find_council_by_name(db, council)
    email = site.account("la_officer", email=email, council_id=found.id if found else site.council(council))
    assert site.sign_in(email).url.path == "/staff"
    return email


def table(page: str, caption: str) -> dict[str, list[str]]:
    """A table's rows by their heading, each the cells' text."""
    found = re.search(rf"<caption[^>]*>{re.escape(html.escape(caption))}</caption>(.*?)</table>", page, re.S)
    assert found, caption
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S):
        heading = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if heading:
            cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            rows[html.unescape(heading.group(1))] = [html.unescape(c) for c in cells]
    return rows


def test_an_officer_sees_figures_equal_to_a_hand_count(staff_site, area_data):
    officer_signed_in(staff_site)
    page = staff_site.client.get("/staff/council")
    assert page.status_code == 200
    assert "Only check-ins where the young person said the council may see their answers" in page.text
    assert "Council view: York" in page.text  # no framework chosen: the one the check-ins used
    page = staff_site.client.get("/staff/council", params={"framework": "york"})
    text = page.text
    assert "Council view: York" in text
    statement = "I am safe"  # the area
    rows = table(text, f"{statement}: answers by school")
    assert list(rows) == ["Ash Academy", "Elm Academy", "Oak Primary", "All schools"]
    # Oak: 6 pupils (the one who chose "only my school" is not counted): 4 yes, 2 no, each
    # count under 5, so hidden with its percentage.
    assert rows["Oak Primary"] == ["6", "6", "hidden", "0 (0%)", "hidden", "0 (0%)", "0 (0%)"]
    # Elm has 3 pupils: hidden. So that all schools minus the others cannot give Elm away,
    # the smallest other school (Ash, 5 pupils) is hidden too.
    assert rows["Elm Academy"] == [SUPPRESSED_TEXT] and rows["Ash Academy"] == [SUPPRESSED_TEXT]
    # All schools: 4 yes, 3 sometimes, 2 no, 5 "I don't know".
    assert rows["All schools"] == ["14", "14", "hidden", "hidden", "hidden", "5 (36%)", "0 (0%)"]
    over_time = table(text, f"{statement}: answers by academic year")
    assert over_time["2024/25"] == rows["All schools"] and over_time["All years"] == rows["All schools"]
    assert 'role="img" aria-label="I am safe: answers by school. Ash Academy: fewer than 5' in text
    assert ("Oak Primary: Yes hidden, Sometimes 0%, No hidden, I don&#39;t know 0%, Skipped 0% "
            "(6 answers from 6 pupils)") in text
    assert "Northshire Council" in text and "count up to" in text


def test_the_page_holds_no_names_words_or_pupil_ids(staff_site, area_data):
    officer_signed_in(staff_site)
    with staff_site.sessions() as db:
        refs = list(db.scalars(select(Pupil.pupil_ref)))
    for query in ({}, {"framework": "york", "academic_year": "2024"}, {"framework": "york", "year_group": "Year 6"}):
        page = staff_site.client.get("/staff/council", params=query)
        assert page.status_code == 200
        for secret in [*area_data[2], "Xanthippe", "Zebedee", WORDS, "elephant", COMMENT, "banana", *refs]:
            assert secret not in page.text
        assert "/staff/pupils" not in page.text
        download = staff_site.client.get("/staff/council.csv", params=query)
        for secret in ["Xanthippe", "Zebedee", "elephant", "banana", *refs]:
            assert secret not in download.text


def test_a_school_with_five_pupils_is_shown(staff_site, area_data):
    _, elm, _ = area_data
    for i in range(2):
        staff_site.checkin(staff_site.pupil(elm, f"Extra {i}"), {SAFE: "sometimes"}, consent=COUNCIL, at=SPRING_2025)
    officer_signed_in(staff_site)
    rows = table(staff_site.client.get("/staff/council?framework=york").text, "I am safe: answers by school")
    assert rows["Elm Academy"] == ["5", "5", "0 (0%)", "5 (100%)", "0 (0%)", "0 (0%)", "0 (0%)"]
    assert rows["Ash Academy"][0] == "5" and rows["Oak Primary"][0] == "6"


def test_filters_pick_an_academic_year_and_show_its_terms(staff_site, area_data):
    officer_signed_in(staff_site)
    page = staff_site.client.get("/staff/council", params={"framework": "york", "academic_year": "2024"})
    terms = table(page.text, "I am safe: answers by term")
    assert list(terms) == ["Autumn term 2024/25", "Spring term 2024/25", "Summer term 2024/25", "All of 2024/25"]
    # Spring has 3 pupils, so autumn (11) is hidden too: the year minus autumn would give spring away.
    assert terms["Spring term 2024/25"] == terms["Autumn term 2024/25"] == [SUPPRESSED_TEXT]
    assert terms["Summer term 2024/25"] == ["No answers"] and terms["All of 2024/25"][:2] == ["14", "14"]
    assert '<option value="2024" selected>2024/25</option>' in page.text
    empty = staff_site.client.get("/staff/council", params={"framework": "york", "academic_year": "2019"})
    assert "There are no answers to count for these choices yet" in empty.text
    year7 = staff_site.client.get("/staff/council", params={"framework": "york", "year_group": "Year 7"})
    assert "There are no answers to count for these choices yet" in year7.text


def test_a_framework_that_does_not_exist_is_said_and_the_default_is_shown(staff_site, area_data):
    officer_signed_in(staff_site)
    page = staff_site.client.get("/staff/council", params={"framework": "<nope>", "academic_year": "soon"})
    assert page.status_code == 200 and "There is no framework called that, so the figures below are for York" in page.text
    assert "<nope>" not in page.text


def test_each_view_and_download_is_audited_with_the_filters(staff_site, area_data):
    officer = staff_site.staff_user(officer_signed_in(staff_site))
    staff_site.client.get("/staff/council", params={"framework": "york", "year_group": "Year 6",
                                                    "academic_year": "2024"})
    download = staff_site.client.get("/staff/council.csv", params={"framework": "york"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    [view] = staff_site.audit("view_council")
    assert view.actor_id == officer.id and view.pupil_id is None
    assert view.detail == {"framework": "york", "year_group": "Year 6", "academic_year": 2024,
                           "council_id": officer.council_id}
    [export] = staff_site.audit("export_council_csv")
    assert export.detail == {"framework": "york", "year_group": None, "academic_year": None,
                             "council_id": officer.council_id}
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    elm = next(r for r in rows if r["Row"] == "Elm Academy" and r["Statement id"] == SAFE)
    assert elm["Suppressed"] == "suppressed" and elm["Pupils"] == ""
    everyone = next(r for r in rows if r["Row"] == "All schools" and r["Statement id"] == SAFE)
    assert (everyone["Pupils"], everyone["Yes (answers)"], everyone["Sometimes (answers)"]) == ("14", "", "")
    assert (everyone["I don't know (answers)"], everyone["Suppressed"]) == ("5", "some counts hidden")


@pytest.mark.parametrize("role", ["senco", "dsl", "admin"])
def test_other_roles_are_refused(staff_site, area_data, role):
    oak, _, _ = area_data
    staff_site.sign_in(staff_site.account(role, oak))
    for path in ("/staff/council", "/staff/council.csv?framework=york"):
        page = staff_site.client.get(path)
        assert page.status_code == 403 and "Only local authority officers can see this page" in page.text
        assert "Oak Primary" not in page.text.split("</header>")[1]
    assert staff_site.audit("view_council") == [] and len(staff_site.audit("page_refused")) == 2
    assert "Council view" not in staff_site.client.get("/staff").text


def test_signed_out_goes_to_sign_in(staff_site):
    page = staff_site.client.get("/staff/council?framework=york", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login?next=")


def test_the_page_has_a_strict_content_security_policy_and_nothing_inline(staff_site, area_data):
    officer_signed_in(staff_site)
    page = staff_site.client.get("/staff/council?framework=york")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script" not in page.text and " style=" not in page.text and "data:" not in page.text
    css = staff_site.client.get("/staff/static/council.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_an_officer_sees_only_their_own_councils_schools(staff_site, area_data):
    """Another council's officer sees none of Northshire's schools or figures; an officer whose
    account has no council yet sees no figures at all (not the schools that have no council)."""
    south = staff_site.council("Southshire Council")
    pine = staff_site.school("Pine Primary", south)
    for i in range(6):
        staff_site.checkin(staff_site.pupil(pine, f"Southern {i}"), {SAFE: "no"}, consent=COUNCIL, at=AUTUMN_2024)
    unlinked = staff_site.school("Unlinked School")
    for i in range(6):
        staff_site.checkin(staff_site.pupil(unlinked, f"Unlinked {i}"), {SAFE: "yes"}, consent=COUNCIL, at=AUTUMN_2024)
    officer_signed_in(staff_site, "Southshire Council", "south@council.example")
    page = staff_site.client.get("/staff/council", params={"framework": "york"}).text
    assert list(table(page, "I am safe: answers by school")) == ["Pine Primary", "All schools"]
    assert table(page, "I am safe: answers by school")["All schools"][:2] == ["6", "6"]
    download = staff_site.client.get("/staff/council.csv", params={"framework": "york"}).text
    for other in ("Oak Primary", "Ash Academy", "Elm Academy", "Unlinked School"):
        assert other not in page and other not in download

    staff_site.client.cookies.clear()
    email = staff_site.account("la_officer", email="nowhere@council.example")
    staff_site.sign_in(email)
    page = staff_site.client.get("/staff/council", params={"framework": "york"})
    assert page.status_code == 200 and "Your account is not linked to a council yet" in page.text
    assert "There are no answers to count for these choices yet" in page.text
    for school in ("Oak Primary", "Pine Primary", "Unlinked School"):
        assert school not in page.text
