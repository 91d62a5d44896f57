"""The bundled frameworks against their source texts in shared/seeds.

A statement marked `authored_by: source` claims to be the council's own words, so these tests
prove it: every bullet of the Shropshire text is a statement word for word, under the right
perspective, in the source's order; York's seven outcomes are its area titles. The seeds live
beside the repository (../shared/seeds), not in it.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from accessibility import plain_language
from framework.loader import framework_files, load_framework, plain_bar
from framework.schema import Framework

SEEDS_DIR = Path(__file__).parents[2].parent / "shared" / "seeds"

# Perspective headings in the Shropshire text. A new area starts at each children's heading;
# the partners heading goes on "- (Education, local authority, …)".
CHILDREN_HEADING = "Children and young people"
PARENT_CARERS_HEADING = "Parent carers"
PARTNERS_HEADING_START = "Partners"
BULLET = "- "

# York lists its outcomes in one sentence: "… the most important outcomes … are, I am safe, …, I am healthy."
YORK_OUTCOMES_SENTENCE = re.compile(r"most important outcomes[^.]*?\bare,\s*(?P<outcomes>[^.]+)\.")


def read_seed(framework: Framework) -> str:
    if not SEEDS_DIR.is_dir():
        if "CI" in os.environ:
            pytest.fail(f"{SEEDS_DIR} is missing: in CI the frameworks must be checked against their sources")
        pytest.skip(f"{SEEDS_DIR} is not beside the repository; these tests need the source texts")
    return (SEEDS_DIR / framework.source.seed_file).read_text(encoding="utf-8")


def shropshire_seed_areas(text: str) -> list[list[tuple[str, str]]]:
    """Per area, its bullets as (perspective, text) in the seed's order."""
    areas: list[list[tuple[str, str]]] = []
    perspective = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if line == CHILDREN_HEADING:
            areas.append([])
            perspective = "children_young_people"
        elif line == PARENT_CARERS_HEADING:
            perspective = "parent_carers"
        elif line.startswith(PARTNERS_HEADING_START):
            perspective = "partners"
        elif line.startswith(BULLET):
            assert perspective, f"seed line {number}: a bullet before any perspective heading"
            areas[-1].append((perspective, line[len(BULLET):]))
    return areas


def source_statements(framework: Framework) -> list[list[tuple[str, str]]]:
    """Per area, its source statements as (perspective, text) in the file's order."""
    return [
        [(st.perspective, st.text) for st in area.statements if st.authored_by == "source"]
        for area in framework.areas
    ]


@pytest.fixture(scope="module")
def shropshire() -> Framework:
    return load_framework("shropshire")


@pytest.fixture(scope="module")
def shropshire_seed(shropshire) -> list[list[tuple[str, str]]]:
    areas = shropshire_seed_areas(read_seed(shropshire))
    assert areas, "no 'Children and young people' heading found in the Shropshire seed"
    return areas


def test_every_shropshire_bullet_is_a_statement_word_for_word(shropshire, shropshire_seed):
    texts = [text for area in source_statements(shropshire) for _, text in area]
    missing = []
    for _, bullet in (b for area in shropshire_seed for b in area):
        if bullet not in texts:
            nearest = difflib.get_close_matches(bullet, texts, n=1, cutoff=0.6)
            missing.append(f"{bullet!r}" + (f"\n    nearest in the YAML: {nearest[0]!r}" if nearest else ""))
    assert not missing, "source bullets not in shropshire.yml word for word:\n  " + "\n  ".join(missing)


def test_shropshire_statements_sit_under_the_seed_perspective(shropshire, shropshire_seed):
    perspective_of = {text: perspective for area in source_statements(shropshire) for perspective, text in area}
    wrong = [
        f"{text!r}: seed says {perspective}, YAML says {perspective_of[text]}"
        for area in shropshire_seed
        for perspective, text in area
        if text in perspective_of and perspective_of[text] != perspective
    ]
    assert not wrong, "\n".join(wrong)


def test_shropshire_has_no_source_statement_missing_from_the_seed(shropshire, shropshire_seed):
    bullets = {text for area in shropshire_seed for _, text in area}
    invented = [
        st.id
        for area in shropshire.areas
        for st in area.statements
        if st.authored_by == "source" and st.text not in bullets
    ]
    assert not invented, f"marked 'authored_by: source' but not in the seed: {invented}"


def test_shropshire_statements_follow_the_seed_order_area_by_area(shropshire, shropshire_seed):
    yaml_areas = source_statements(shropshire)
    assert len(yaml_areas) == len(shropshire_seed), "the YAML and the seed have different numbers of areas"
    for area, in_yaml, in_seed in zip(shropshire.areas, yaml_areas, shropshire_seed):
        for place, (got, want) in enumerate(zip(in_yaml, in_seed), 1):
            assert got == want, f"{area.id}, source statement {place}: seed has {want}, YAML has {got}"
        assert len(in_yaml) == len(in_seed), f"{area.id}: {len(in_yaml)} source statements, seed has {len(in_seed)}"


def york_seed_outcomes(text: str) -> list[str]:
    found = YORK_OUTCOMES_SENTENCE.search(" ".join(text.split()))
    assert found, "the sentence listing York's outcomes was not found in the seed"
    return [outcome.strip() for outcome in found["outcomes"].split(",")]


def test_york_area_titles_are_the_seed_outcomes_in_order():
    york = load_framework("york")
    text = read_seed(york)
    outcomes = york_seed_outcomes(text)
    assert len(outcomes) == 7, f"expected York's 7 outcomes, read {outcomes}"
    assert all(outcome in text for outcome in outcomes)
    assert [area.title for area in york.areas] == outcomes
    assert not any(area.title_inferred for area in york.areas)


def test_york_statements_do_not_claim_to_be_the_source():
    # York's text names outcomes only; every statement under them is ours.
    york = load_framework("york")
    claimed = [st.id for area in york.areas for st in area.statements if st.authored_by == "source"]
    assert not claimed, f"York's text has no statements, so these must be 'authored_by: heard': {claimed}"


@pytest.mark.parametrize("framework_id", sorted(framework_files()))
def test_each_area_has_exactly_one_core_question_per_asked_perspective(framework_id):
    framework = load_framework(framework_id)
    asked = {st.perspective for area in framework.areas for st in area.statements if st.sets}
    assert asked, f"{framework_id} asks no questions"
    for area in framework.areas:
        for perspective in asked:
            core = [st.id for st in area.asked(perspective, "core")]
            assert len(core) == 1, f"{area.id} ({perspective}): core questions {core}, want exactly one"


@pytest.mark.parametrize("framework_id", sorted(framework_files()))
def test_child_questions_are_short_sentences(framework_id):
    framework = load_framework(framework_id)
    too_long = [
        f"{st.id}: {sentence!r}"
        for area in framework.areas
        for st in area.statements
        if st.question and plain_bar(framework, st.perspective) == plain_language.CHILDREN
        for sentence in plain_language.sentences(st.question)
        if len(plain_language.words(sentence)) > plain_language.MAX_WORDS
    ]
    assert not too_long, f"sentences over {plain_language.MAX_WORDS} words:\n" + "\n".join(too_long)


@pytest.mark.parametrize("framework_id", sorted(framework_files()))
def test_crosswalk_links_real_areas(framework_id):
    # Nothing in one file can check the other framework's ids, so check them here.
    framework = load_framework(framework_id)
    own = {area.id for area in framework.areas}
    for here, there in framework.crosswalk.items():
        assert here in own, f"{framework_id} crosswalk: no area '{here}' in this framework"
        other_id = there.split(".", 1)[0]
        assert other_id in framework_files(), f"{framework_id} crosswalk: no framework '{other_id}'"
        load_framework(other_id).area(there)  # KeyError names a missing area
