"""The council's figures (bot.reports.council), on SQLite and PostgreSQL: counts equal a
hand count of the rows made, only the council's own schools, council-consented check-ins and
current answers count, only whole terms are counted, rows from fewer than 5 pupils and counts
under 5 are hidden, and no sum gives a hidden row or count away."""
from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.reports import council as council_module
from bot.reports.council import (
    COUNCIL_CONSENT,
    NOT_RECORDED,
    SOME_COUNTS_HIDDEN_MARK,
    SUPPRESSED_MARK,
    CommentCount,
    CouncilFigures,
    Figures,
    UnitFigures,
    council_figures,
    default_framework,
    framework_options,
    WHOLE_ROW,
    suppressed_cells,
    term_start,
    to_csv,
)
from bot.reports.we_did import council_we_did
from framework import we_did
from framework.db import repository as repo
from framework.loader import load_framework

SAFE = "york.safe.cyp1"  # the core statement of York's "I am safe"
SAFE_MORE = "york.safe.cyp3"  # another statement in the same area (standard set)
HOME = "york.independent.cyp1"
AUTUMN_2024 = datetime(2024, 10, 1, 12, tzinfo=timezone.utc)
SPRING_2025 = datetime(2025, 2, 1, 12, tzinfo=timezone.utc)
AUTUMN_2023 = datetime(2023, 11, 1, 12, tzinfo=timezone.utc)
COUNCIL = (COUNCIL_CONSENT,)
VALUES = ("yes", "sometimes", "no", "dont_know", "skipped")


def checkin(db, pupil, answers: dict[str, str], *, consent=COUNCIL, at=AUTUMN_2024, framework_id="york"):
    framework = load_framework(framework_id)
    session = repo.start_or_resume_session(db, repo.create_invite(db, pupil, framework_id, now=at)).session
    session.started_at = at
    for statement_id, value in answers.items():
        repo.record_answer(db, session, statement_id, framework.area_of(statement_id).id, value, "tapped", now=at)
    if consent is not None:
        repo.record_consent(db, session, consent, now=at)
    repo.set_status(db, session, "finished", now=at)
    return session


def pupils(db, school, count: int, year_group: str | None = "Year 6"):
    return [repo.create_pupil(db, school, f"Zebedee {school.name} {i}", year_group=year_group) for i in range(count)]


def counts(row) -> dict[str, int] | None:
    return None if row.figures is None else dict(zip(VALUES, row.figures.counts))


def unit(figures: CouncilFigures, unit_id: str) -> UnitFigures:
    for area in figures.areas:
        for candidate in (area.area, *area.statements):
            if candidate.unit_id == unit_id:
                return candidate
    raise KeyError(unit_id)


def by_label(rows) -> dict[str, object]:
    return {row.label: row for row in rows}


@pytest.fixture
def council(db):
    return repo.create_council(db, "Northshire Council")


@pytest.fixture
def schools(db, council):
    return (repo.create_school(db, "Oak Primary", urn="100001", council=council),
            repo.create_school(db, "Elm Academy", council=council))


def test_figures_equal_a_hand_count_of_the_answers(db, council, schools):
    oak, elm = schools
    oak_values = ["yes", "yes", "no", "sometimes", "dont_know"]
    for pupil, value in zip(pupils(db, oak, 5), oak_values):
        checkin(db, pupil, {SAFE: value, HOME: "yes"})
    elm_values = ["no", "no", "yes", "skipped", "yes", "sometimes"]
    for pupil, value in zip(pupils(db, elm, 6), elm_values):
        checkin(db, pupil, {SAFE: value, HOME: "no"})

    figures = council_figures(db, council.id, "york")
    safe = unit(figures, SAFE)
    rows = by_label(safe.by_school)
    assert list(rows) == ["Elm Academy", "Oak Primary (URN 100001)"]  # by name
    assert counts(rows["Oak Primary (URN 100001)"]) == {"yes": 2, "sometimes": 1, "no": 1, "dont_know": 1, "skipped": 0}
    assert counts(rows["Elm Academy"]) == {"yes": 2, "sometimes": 1, "no": 2, "dont_know": 0, "skipped": 1}
    assert counts(safe.all_schools) == {"yes": 4, "sometimes": 2, "no": 3, "dont_know": 1, "skipped": 1}
    assert safe.all_schools.figures.pupils == 11 and safe.all_schools.figures.answers == 11
    shares = {s.value: (s.count, s.percent) for s in safe.all_schools.figures.shares()}
    assert shares["yes"] == (4, 36) and shares["no"] == (3, 27)
    # The area puts its statements together: 11 answers to SAFE; HOME is another area.
    assert counts(unit(figures, "york.safe").all_schools) == counts(safe.all_schools)
    assert counts(unit(figures, HOME).all_schools) == {"yes": 5, "sometimes": 0, "no": 6, "dont_know": 0, "skipped": 0}
    assert [(r.label, r.figures.answers) for r in safe.over_time] == [("2024/25", 11)]
    assert unit(figures, "york.goals").all_schools.figures is None  # nobody answered: no answers, not hidden
    assert not unit(figures, "york.goals").all_schools.suppressed


def area_figures(figures: CouncilFigures, area_id: str):
    return next(area for area in figures.areas if area.area.unit_id == area_id)


def test_comments_count_under_the_area_they_are_filed_under_now(db, council, schools):
    oak, elm = schools
    senco = repo.create_staff(db, "senco@oak.example", "not-a-real-hash", "senco", oak)
    written = []
    for pupil in pupils(db, oak, 3) + pupils(db, elm, 3):
        session = checkin(db, pupil, {SAFE: "no"})
        # Heard filed it under "independent"; it was asked under "safe"
        written.append(repo.record_comment(db, session, "york.safe", "anything_else", "kids laugh at me on the bus",
                                           [{"statement_id": HOME, "area_id": "york.independent", "score": 0.7}]))
    repo.record_comment(db, checkin(db, pupils(db, oak, 1)[0], {SAFE: "no"}, consent=("school",)),
                        "york.safe", "anything_else", "not for the council", [])
    figures = council_figures(db, council.id, "york")
    assert area_figures(figures, "york.independent").comments == CommentCount(6, 6)
    assert area_figures(figures, "york.safe").comments == CommentCount(0, 0)

    for comment in written[:5]:  # a SENCO moves five of them: only the final filing counts
        repo.move_comment(db, comment, "york.safe", senco)
    figures = council_figures(db, council.id, "york")
    assert area_figures(figures, "york.safe").comments == CommentCount(5, 5)
    moved_away = area_figures(figures, "york.independent").comments
    assert moved_away == CommentCount(1, 1) and moved_away.suppressed  # one pupil: hidden
    assert not area_figures(figures, "york.safe").comments.suppressed


def test_only_checkins_whose_latest_consent_includes_the_council_count(db, council, schools):
    oak, _ = schools
    counted = pupils(db, oak, 5)
    for pupil in counted:
        checkin(db, pupil, {SAFE: "yes"})
    others = pupils(db, oak, 4)
    checkin(db, others[0], {SAFE: "no"}, consent=("school",))
    checkin(db, others[1], {SAFE: "no"}, consent=("school_and_family",))
    checkin(db, others[2], {SAFE: "no"}, consent=None)  # stopped before the consent question
    withdrawn = checkin(db, others[3], {SAFE: "no"})
    repo.record_consent(db, withdrawn, ["school"], now=SPRING_2025)  # changed their mind: latest counts
    changed_to_council = checkin(db, counted[0], {SAFE: "sometimes"}, consent=("school",))
    repo.record_consent(db, changed_to_council, list(COUNCIL), now=SPRING_2025)

    safe = unit(council_figures(db, council.id, "york"), SAFE)
    assert counts(safe.all_schools) == {"yes": 5, "sometimes": 1, "no": 0, "dont_know": 0, "skipped": 0}
    assert safe.all_schools.figures.pupils == 5  # counted[0] checked in twice: one pupil, two answers


def test_a_changed_answer_counts_once_as_changed(db, council, schools):
    oak, _ = schools
    for pupil in pupils(db, oak, 5):
        session = checkin(db, pupil, {SAFE: "no"})
        repo.record_answer(db, session, SAFE, "york.safe", "yes", "tapped", now=AUTUMN_2024)
    assert counts(unit(council_figures(db, council.id, "york"), SAFE).all_schools)["no"] == 0
    assert counts(unit(council_figures(db, council.id, "york"), SAFE).all_schools)["yes"] == 5


def test_four_pupils_are_hidden_five_are_shown(db, council, schools):
    oak, elm = schools
    for pupil in pupils(db, oak, 5):
        checkin(db, pupil, {SAFE: "yes"})
    for pupil in pupils(db, elm, 4):
        checkin(db, pupil, {SAFE: "yes"})
        checkin(db, pupil, {SAFE: "yes"}, at=SPRING_2025)  # many answers, still 4 pupils

    figures = council_figures(db, council.id, "york")
    rows = by_label(unit(figures, SAFE).by_school)
    assert rows["Elm Academy"].suppressed and rows["Elm Academy"].figures is None
    # Oak alone has 5 pupils, but with Elm hidden, all schools minus Oak would give Elm away:
    # so Oak is hidden too, and all schools (9 pupils) is shown.
    assert rows["Oak Primary (URN 100001)"].suppressed
    assert unit(figures, SAFE).all_schools.figures.answers == 13


def test_five_pupils_alone_are_shown(db, council, schools):
    oak, _ = schools
    for pupil in pupils(db, oak, 5):
        checkin(db, pupil, {SAFE: "yes"})
    safe = unit(council_figures(db, council.id, "york"), SAFE)
    assert not safe.all_schools.suppressed and safe.all_schools.figures.pupils == 5
    assert not safe.by_school[0].suppressed


def test_with_one_small_school_the_smallest_other_school_is_hidden_too(db, council):
    big, middle, small = (repo.create_school(db, name, council=council) for name in ("Ash", "Beech", "Cedar"))
    for school, count in ((big, 9), (middle, 6), (small, 2)):
        for pupil in pupils(db, school, count):
            checkin(db, pupil, {SAFE: "yes"})
    safe = unit(council_figures(db, council.id, "york"), SAFE)
    hidden = {row.label: row.suppressed for row in safe.by_school}
    assert hidden == {"Ash": False, "Beech": True, "Cedar": True}
    assert safe.all_schools.figures.pupils == 17


def test_a_row_is_hidden_whatever_the_filter_so_filters_cannot_be_subtracted(db, council, schools):
    oak, elm = schools
    for pupil in pupils(db, oak, 6, "Year 6") + pupils(db, oak, 2, "Year 7") + pupils(db, elm, 6, "Year 6"):
        checkin(db, pupil, {SAFE: "yes"})
    everyone = by_label(unit(council_figures(db, council.id, "york"), SAFE).by_school)
    assert not everyone["Oak Primary (URN 100001)"].suppressed  # 8 pupils
    year6 = by_label(unit(council_figures(db, council.id, "york", year_group="Year 6"), SAFE).by_school)
    # Oak's Year 6 has 6 pupils, but Oak (8) minus it would give Oak's Year 7 (2) away.
    assert year6["Oak Primary (URN 100001)"].suppressed
    year7 = by_label(unit(council_figures(db, council.id, "york", year_group="Year 7"), SAFE).by_school)
    assert year7["Oak Primary (URN 100001)"].suppressed


def test_filters_pick_year_group_and_academic_year_with_terms(db, council, schools):
    oak, elm = schools
    for pupil in pupils(db, oak, 5, "Year 6"):
        checkin(db, pupil, {SAFE: "yes"}, at=AUTUMN_2024)
        checkin(db, pupil, {SAFE: "no"}, at=SPRING_2025)
    for pupil in pupils(db, elm, 5, None):
        checkin(db, pupil, {SAFE: "sometimes"}, at=AUTUMN_2023)
    # UK midnight: 23:30 UTC on 31 August 2024 is 00:30 on 1 September, so 2024/25.
    for pupil in pupils(db, elm, 5, "Year 6"):
        checkin(db, pupil, {SAFE: "dont_know"}, at=datetime(2024, 8, 31, 23, 30, tzinfo=timezone.utc))

    figures = council_figures(db, council.id, "york")
    assert [(o.value, o.label) for o in figures.year_groups] == [("Year 6", "Year 6"), (NOT_RECORDED, "Not recorded")]
    assert [(o.value, o.label) for o in figures.academic_years] == [("2024", "2024/25"), ("2023", "2023/24")]
    safe = unit(figures, SAFE)
    assert [(r.label, r.figures.answers) for r in safe.over_time] == [("2023/24", 5), ("2024/25", 15)]

    year_2024 = unit(council_figures(db, council.id, "york", academic_year=2024), SAFE)
    assert counts(year_2024.all_schools) == {"yes": 5, "sometimes": 0, "no": 5, "dont_know": 5, "skipped": 0}
    terms = [(r.label, None if r.figures is None else r.figures.answers) for r in year_2024.over_time]
    assert terms == [("Autumn term 2024/25", 10), ("Spring term 2024/25", 5), ("Summer term 2024/25", None)]

    not_recorded = unit(council_figures(db, council.id, "york", year_group=NOT_RECORDED), SAFE)
    assert counts(not_recorded.all_schools)["sometimes"] == 5 and not_recorded.all_schools.figures.answers == 5
    year6_2023 = unit(council_figures(db, council.id, "york", year_group="Year 6", academic_year=2023), SAFE)
    assert year6_2023.all_schools.figures is None


def test_other_frameworks_and_other_perspectives_are_not_counted(db, council, schools):
    oak, _ = schools
    shropshire = load_framework("shropshire").questions("children_young_people", "core")[0].id
    for pupil in pupils(db, oak, 5):
        checkin(db, pupil, {SAFE: "yes"})
        checkin(db, pupil, {shropshire: "no"}, framework_id="shropshire")
    assert counts(unit(council_figures(db, council.id, "york"), SAFE).all_schools)["no"] == 0
    assert counts(unit(council_figures(db, council.id, "shropshire"), shropshire).all_schools)["no"] == 5


def test_the_default_framework_is_the_one_with_the_most_council_consented_checkins(db, council, schools):
    oak, _ = schools
    first = framework_options()[0].value
    assert first != "york"  # else this test could not tell "most check-ins" from "first"
    assert default_framework(db, council.id) == first  # no check-ins at all
    first_statement = load_framework(first).questions("children_young_people", "core")[0].id
    for pupil in pupils(db, oak, 3):  # more check-ins with the first framework, but not for the council
        checkin(db, pupil, {first_statement: "yes"}, framework_id=first, consent=("school_and_family",))
    for pupil in pupils(db, oak, 2):
        checkin(db, pupil, {SAFE: "yes"})
    checkin(db, pupils(db, oak, 1)[0], {first_statement: "yes"}, framework_id=first)
    assert default_framework(db, council.id) == "york"
    checkin(db, pupils(db, oak, 1)[0], {first_statement: "yes"}, framework_id=first)
    assert default_framework(db, council.id) == first  # a tie goes to the first in file order


def test_suppression_hides_the_total_when_no_other_row_is_left():
    """A sum of one small row and rows with no answers: only the total can be hidden with it."""
    small, total = ("s", 1, "g", "*"), ("s", "*", "g", "*")
    whole = frozenset({WHOLE_ROW, *range(len(VALUES))})
    cube = {small: Figures(3, (3, 0, 0, 0, 0)), total: Figures(7, (7, 0, 0, 0, 0)),
            ("s", 2, "g", "*"): Figures(4, (4, 0, 0, 0, 0))}
    assert suppressed_cells(cube, [(total, [small, ("s", 2, "g", "*")])]) == {small: whole, ("s", 2, "g", "*"): whole}
    cube = {small: Figures(3, (3, 0, 0, 0, 0)), total: Figures(8, (8, 0, 0, 0, 0))}
    assert suppressed_cells(cube, [(total, [small])]) == {small: whole, total: whole}


def test_no_sum_on_any_view_has_exactly_one_hidden_figure(db, council):
    """Random schools, year groups, years and answers: on every filter choice, in every table,
    the rows that add up to a total hide none or at least two figures (counting the total)."""
    rng = random.Random(6)
    statements = [s.id for s in load_framework("york").questions("children_young_people", "standard")]
    moments = [AUTUMN_2023, AUTUMN_2024, SPRING_2025]
    for s in range(4):
        school = repo.create_school(db, f"School {s}", council=council)
        for _ in range(rng.randint(2, 14)):
            pupil = repo.create_pupil(db, school, "P", year_group=rng.choice(["Year 5", "Year 6", None]))
            for at in rng.sample(moments, rng.randint(1, 2)):
                asked = rng.sample(statements, rng.randint(1, len(statements)))
                checkin(db, pupil, {sid: rng.choice(VALUES) for sid in asked}, at=at,
                        consent=rng.choice([COUNCIL, COUNCIL, ("school",)]))

    def one_hidden(total, parts) -> bool:
        """True when the rows' answers, or any one answer's counts, have exactly one hidden."""
        figures = [total, *(p for p in parts if p.figures is not None or p.suppressed)]
        if sum(r.suppressed for r in figures) == 1:
            return True
        return any(sum(r.suppressed or v in r.hidden_counts for r in figures) == 1 for v in range(len(VALUES)))

    def adds_up(total, parts) -> bool:
        if total.suppressed or any(p.suppressed for p in parts) or total.figures is None:
            return True
        return total.figures.counts == tuple(map(sum, zip(*(p.figures.counts for p in parts if p.figures))))

    everything = council_figures(db, council.id, "york")
    years = [None] + [int(o.value) for o in everything.academic_years]
    groups = [None] + [o.value for o in everything.year_groups]
    views = {(g, y): council_figures(db, council.id, "york", g, y) for g in groups for y in years}
    hidden = hidden_counts = 0
    for (group, year), figures in views.items():
        for area in figures.areas:
            units = (area.area, *area.statements)
            for u in units:
                hidden += sum(r.suppressed for r in u.by_school)
                hidden_counts += sum(bool(r.hidden_counts) for r in (*u.by_school, *u.over_time))
                for r in (*u.by_school, u.all_schools, *u.over_time):  # a row's counts add up to its answers
                    assert len(r.hidden_counts) != 1, (group, year, u.unit_id, r.label)
                    shown = [share.count for share in r.shares()]
                    assert all(c is None or c == 0 or c >= 5 for c in shown), (group, year, u.unit_id, r.label)
                for parts in (u.by_school, u.over_time):
                    assert not one_hidden(u.all_schools, parts), (group, year, u.unit_id)
                    assert adds_up(u.all_schools, parts)
            for index in range(len(area.area.by_school)):  # statements add up to their area, per school
                parts = [s.by_school[index] for s in area.statements]
                assert not one_hidden(area.area.by_school[index], parts)
            if group is None:  # year groups add up to all year groups, on every row
                for i, u in enumerate(units):
                    for rows in ("by_school", "over_time"):
                        for r, total in enumerate(getattr(u, rows)):
                            parts = [getattr(unit(views[(g, year)], u.unit_id), rows)[r] for g in groups[1:]]
                            assert not one_hidden(total, parts), (year, u.unit_id, total.label)
                            assert adds_up(total, parts)
    assert hidden > 0 and hidden_counts > 0  # the data is small enough that some rows and counts are hidden


def test_csv_has_the_same_figures_with_hidden_rows_blank_and_marked(db, council, schools):
    oak, elm = schools
    for pupil in pupils(db, oak, 9):
        checkin(db, pupil, {SAFE: "yes"})
    for pupil in pupils(db, elm, 3):
        checkin(db, pupil, {SAFE: "yes"})
    text = to_csv(council_figures(db, council.id, "york"))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    safe = {(r["Split by"], r["Row"]): r for r in rows if r["Statement id"] == SAFE}
    elm_row = safe[("School", "Elm Academy")]
    assert elm_row["Suppressed"] == SUPPRESSED_MARK and elm_row["Pupils"] == "" and elm_row["Yes (answers)"] == ""
    assert safe[("School", "Oak Primary (URN 100001)")]["Suppressed"] == SUPPRESSED_MARK  # the second hidden row
    everyone = safe[("School", "All schools")]
    assert (everyone["Pupils"], everyone["Yes (answers)"], everyone["Yes (%)"], everyone["No (answers)"]) == \
        ("12", "12", "100", "0")
    assert everyone["Suppressed"] == "" and everyone["Outcome statement"] == load_framework("york").statement(SAFE).text
    assert "Zebedee" not in text  # no names


def shown(row) -> dict[str, tuple[int | None, int | None]]:
    return {share.value: (share.count, share.percent) for share in row.shares()}


def test_in_a_shown_row_a_count_under_five_is_hidden_with_its_percentage(db, council, schools):
    oak, _ = schools
    for pupil, value in zip(pupils(db, oak, 10), ["yes"] * 6 + ["no"] * 3 + ["sometimes"]):
        checkin(db, pupil, {SAFE: value})
    safe = unit(council_figures(db, council.id, "york"), SAFE)
    for row in (safe.all_schools, *safe.by_school, *safe.over_time):
        assert not row.suppressed and (row.figures.pupils, row.figures.answers) == (10, 10)
        assert shown(row) == {"yes": (6, 60), "sometimes": (None, None), "no": (None, None),
                              "dont_know": (0, 0), "skipped": (0, 0)}
    assert "Sometimes hidden, No hidden" in safe.all_schools.describe()
    assert "3" not in safe.all_schools.describe().split(":", 1)[1].split("(")[0]


def test_a_lone_small_count_takes_another_count_with_it(db, council, schools):
    """Seven said yes and three no: hiding only the 3 would leave it as 10 answers less 7."""
    oak, _ = schools
    for pupil, value in zip(pupils(db, oak, 10), ["yes"] * 7 + ["no"] * 3):
        checkin(db, pupil, {SAFE: value})
    row = unit(council_figures(db, council.id, "york"), SAFE).all_schools
    assert shown(row) == {"yes": (None, None), "sometimes": (0, 0), "no": (None, None),
                          "dont_know": (0, 0), "skipped": (0, 0)}
    assert row.figures.answers == 10
    [line] = [r for r in csv.DictReader(io.StringIO(to_csv(council_figures(db, council.id, "york"))[1:]))
              if r["Statement id"] == SAFE and r["Row"] == "All schools"]
    assert (line["Yes (answers)"], line["Yes (%)"], line["No (answers)"], line["Answers"]) == ("", "", "", "10")
    assert line["Suppressed"] == SOME_COUNTS_HIDDEN_MARK


def test_a_council_sees_only_its_own_schools(db, council, schools):
    """Another council's schools, and schools in no council, are in no row and no total."""
    oak, elm = schools
    south = repo.create_council(db, "Southshire Council")
    pine = repo.create_school(db, "Pine School", council=south)
    nowhere = repo.create_school(db, "Unlinked School")
    for school, value in ((oak, "yes"), (elm, "yes"), (pine, "no"), (nowhere, "dont_know")):
        for pupil in pupils(db, school, 6):
            checkin(db, pupil, {SAFE: value})
    north = unit(council_figures(db, council.id, "york"), SAFE)
    assert [r.label for r in north.by_school] == ["Elm Academy", "Oak Primary (URN 100001)"]
    assert counts(north.all_schools) == {"yes": 12, "sometimes": 0, "no": 0, "dont_know": 0, "skipped": 0}
    southern = unit(council_figures(db, south.id, "york"), SAFE)
    assert [r.label for r in southern.by_school] == ["Pine School"]
    assert counts(southern.all_schools)["no"] == 6 and southern.all_schools.figures.answers == 6
    # An officer with no council sees nothing, not the schools that have none.
    assert not council_figures(db, None, "york").has_answers
    for pupil in pupils(db, pine, 9):
        checkin(db, pupil, {SAFE: "no"}, framework_id="york")
    assert default_framework(db, council.id) == "york"  # Pine's check-ins are not Northshire's


def test_only_whole_terms_are_counted_so_two_dates_cannot_be_compared(db, council, schools):
    """This term's check-ins, answers changed and consent given in it wait for the term to end:
    the figures are the same on any two days of a term. Consent taken back counts at once."""
    oak, _ = schools
    spring_2026 = datetime(2026, 2, 2, 12, tzinfo=timezone.utc)
    autumn_2025 = datetime(2025, 10, 1, 12, tzinfo=timezone.utc)
    assert term_start(spring_2026) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    sessions = [checkin(db, pupil, {SAFE: "yes"}, at=autumn_2025) for pupil in pupils(db, oak, 6)]
    before = unit(council_figures(db, council.id, "york", now=spring_2026), SAFE).all_schools

    # During the spring term: one more pupil checks in, one changes an answer, one gives consent late.
    checkin(db, pupils(db, oak, 1)[0], {SAFE: "no"}, at=spring_2026)
    repo.record_answer(db, sessions[0], SAFE, "york.safe", "no", "tapped", now=spring_2026)
    late = checkin(db, pupils(db, oak, 1)[0], {SAFE: "no"}, at=autumn_2025, consent=("school",))
    repo.record_consent(db, late, list(COUNCIL), now=spring_2026)
    later_that_term = unit(council_figures(db, council.id, "york", now=spring_2026 + timedelta(days=40)), SAFE)
    assert later_that_term.all_schools == before
    assert counts(before) == {"yes": 6, "sometimes": 0, "no": 0, "dont_know": 0, "skipped": 0}

    # Once the term has ended, all of it counts.
    summer = unit(council_figures(db, council.id, "york", now=datetime(2026, 4, 20, tzinfo=timezone.utc)), SAFE)
    assert counts(summer.all_schools) == {"yes": 5, "sometimes": 0, "no": 3, "dont_know": 0, "skipped": 0}
    # Taking consent back counts at once, within the term.
    repo.record_consent(db, sessions[1], ["school"], now=spring_2026)
    taken_back = unit(council_figures(db, council.id, "york", now=spring_2026), SAFE).all_schools
    assert taken_back.figures.pupils == 5


def test_kept_figures_are_counted_again_after_every_change_that_counts_and_only_then(db, council, schools,
                                                                                    monkeypatch):
    """Each web process keeps the figures it counted: a second view counts nothing again, and
    each change below gives the figures a fresh count would (and not the kept ones)."""
    oak, elm = schools
    southshire = repo.create_council(db, "Southshire Council")
    oak_pupils, elm_pupils = pupils(db, oak, 7), pupils(db, elm, 6)
    sessions = [checkin(db, pupil, {SAFE: "yes", HOME: "no"}) for pupil in oak_pupils]
    for pupil in elm_pupils:
        checkin(db, pupil, {SAFE: "no"})
    counting = council_module._count
    counted = []
    monkeypatch.setattr(council_module, "_count", lambda *args: counted.append(args) or counting(*args))

    shown = council_figures(db, council.id, "york")
    assert council_figures(db, council.id, "york") == shown and len(counted) == 1
    changes = {
        "consent taken back": lambda: repo.record_consent(db, sessions[0], ["school"], now=SPRING_2025),
        "a year group changed": lambda: setattr(oak_pupils[1], "year_group", "Year 5"),
        "an answer changed as of a past term":
            lambda: repo.record_answer(db, sessions[2], SAFE, "york.safe", "no", "tapped", now=AUTUMN_2024),
        "a check-in erased": lambda: repo.delete_pupil_data(db, oak_pupils[3]),
        "a school moved to another council": lambda: setattr(elm, "council_id", southshire.id),
    }
    for change, make in changes.items():
        make()
        db.flush()
        figures = council_figures(db, council.id, "york")
        kept = dict(council_module._kept)
        council_module._kept.clear()
        assert figures == council_figures(db, council.id, "york"), change  # as counted afresh
        council_module._kept.update(kept)
        assert figures != shown, change
        shown = figures
    assert len(counted) == 1 + 2 * len(changes)
    assert unit(shown, SAFE).all_schools.figures.pupils == 5  # Oak's 7, less one taken back and one erased


def test_you_said_we_did_counts_plans_tellings_and_replies_only_where_the_council_may_count(db, council, schools):
    oak, _ = schools
    senco = repo.create_staff(db, "senco@oak.example", "x", "senco", oak)
    replies = ["yes", "yes", "a_bit", "no", "skipped", "yes"]
    for i, (pupil, helped) in enumerate(zip(pupils(db, oak, 6), replies)):
        before = checkin(db, pupil, {SAFE: "no"}, at=AUTUMN_2023)
        action = we_did.record(db, senco, before, answer=repo.current_answers(db, before)[0], what="Quiet room",
                               who="TA", due_on=date(2024, 1, 1), child_words="you can eat in the quiet room")
        we_did.mark_done(db, action, senco)
        # The last pupil was told, but did not let the council see that check-in: their reply is not counted.
        told = checkin(db, pupil, {}, at=AUTUMN_2024, consent=COUNCIL if i < 5 else ("school",))
        we_did.keep_for(db, told)
        we_did.mark_told(db, action)
        we_did.record_reply(db, action, helped, "tapped", None)
    private = checkin(db, pupils(db, oak, 1)[0], {SAFE: "no"}, consent=("school",))
    we_did.record(db, senco, private, answer=repo.current_answers(db, private)[0], what="x", who="y",
                  due_on=date(2024, 1, 1), child_words="we did it")
    figures = council_we_did(db, council.id, "york")
    safe = next(row for row in figures.areas if row.label == load_framework("york").area("york.safe").title)
    # Each reply counted 1 to 4 is hidden, as an answer's count is.
    assert (safe.pupils, safe.counts) == (6, {"actions": 6, "done": 6, "told": 5, "yes": None, "a_bit": None,
                                              "no": None, "skipped": None})
    assert figures.total == safe.__class__("All areas", safe.pupils, safe.counts)
    assert all(row.counts is None and not row.suppressed for row in figures.areas if row is not safe)
    # Another council's officers, and an officer with no council, see none of it.
    south = repo.create_council(db, "Southshire Council")
    for other in (south.id, None):
        assert all(row.counts is None for row in (*council_we_did(db, other, "york").areas,))


def tell(db, senco, pupil, helped: str | None) -> None:
    """A plan about the pupil's No last year, done, told at this year's check-in; their reply (None: none yet)."""
    before = checkin(db, pupil, {SAFE: "no"}, at=AUTUMN_2023)
    action = we_did.record(db, senco, before, answer=repo.current_answers(db, before)[0], what="Quiet room",
                           who="TA", due_on=date(2024, 1, 1), child_words="you can eat in the quiet room")
    we_did.mark_done(db, action, senco)
    we_did.keep_for(db, checkin(db, pupil, {}, at=AUTUMN_2024))
    we_did.mark_told(db, action)
    if helped:
        we_did.record_reply(db, action, helped, "tapped", None)


def safe_replies(db, council) -> dict[str, int | None]:
    figures = council_we_did(db, council.id, "york")
    safe = next(row for row in figures.areas if row.label == load_framework("york").area("york.safe").title)
    assert figures.total.counts == safe.counts  # the only area with plans
    return {value: safe.counts[value] for value in ("told", "yes", "a_bit", "no", "skipped")}


def test_a_did_it_help_reply_counted_1_to_4_is_hidden_and_so_is_one_that_would_give_it_away(db, council, schools):
    oak, _ = schools
    senco = repo.create_staff(db, "senco@oak.example", "x", "senco", oak)
    for pupil, helped in zip(pupils(db, oak, 8), ["yes"] * 6 + ["no"] * 2):
        tell(db, senco, pupil, helped)
    # 8 told: No (2) is hidden, and Yes (6) too, or 8 - 6 would say how many said No.
    assert safe_replies(db, council) == {"told": 8, "yes": None, "a_bit": 0, "no": None, "skipped": 0}
    for pupil, helped in zip(pupils(db, oak, 3), ["no", "no", "no"]):
        tell(db, senco, pupil, helped)
    assert safe_replies(db, council) == {"told": 11, "yes": 6, "a_bit": 0, "no": 5, "skipped": 0}
    # One more skipped, and one has not replied yet: Skipped (1) is hidden. Told minus the replies
    # shown (2) does not give it away, as the one not replied yet is hidden with it.
    tell(db, senco, pupils(db, oak, 1)[0], None)
    tell(db, senco, pupils(db, oak, 1)[0], "skipped")
    assert safe_replies(db, council) == {"told": 13, "yes": 6, "a_bit": 0, "no": 5, "skipped": None}
