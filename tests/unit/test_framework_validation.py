"""A council's framework file with a mistake fails with a message naming the file, the line and the fix."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from framework.loader import FrameworkError, load_framework, load_framework_file

YORK = Path(__file__).resolve().parents[2] / "framework" / "frameworks" / "york.yml"


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = YORK.read_text(encoding="utf-8")
    assert old in text, f"test set-up: {old!r} not in york.yml"
    path = tmp_path / "council.yml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems_for(path: Path) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        load_framework_file(path)
    return caught.value.problems


def test_the_bundled_frameworks_load():
    assert len(load_framework("york").areas) == 7
    assert len(load_framework("shropshire").areas) == 7


def test_a_missing_field_names_file_line_and_field(tmp_path):
    path = broken(tmp_path, '    plain_title: "Being safe"\n', "")
    [problem] = problems_for(path)
    assert problem.startswith(f"{path}:{line_of(path, 'id: york.safe')}:")
    assert "areas[0].plain_title" in problem and "missing" in problem


def test_a_duplicate_id_is_named(tmp_path):
    path = broken(tmp_path, "id: york.safe.cyp2", "id: york.safe.cyp1")
    [problem] = problems_for(path)
    assert "duplicate id 'york.safe.cyp1'" in problem and str(path) in problem


def test_an_unknown_symbol_is_named_with_its_line(tmp_path):
    path = broken(tmp_path, 'symbol: "1F3EB"  # school', 'symbol: "1F9FFF"')
    [problem] = problems_for(path)
    assert problem.startswith(f"{path}:{line_of(path, '1F9FFF')}:")
    assert "unknown symbol '1F9FFF'" in problem and "OpenMoji" in problem


def test_a_question_over_the_length_limit_says_how_to_fix_it(tmp_path):
    long_question = "Do you feel safe at school and on the bus and at lunch and in the playground?"
    path = broken(tmp_path, 'question: "Do you feel safe at school?"', f'question: "{long_question}"')
    found = problems_for(path)
    assert any(p.startswith(f"{path}:{line_of(path, long_question)}:") and "use 12 or fewer" in p for p in found)


def test_hard_words_in_a_question_are_named(tmp_path):
    path = broken(tmp_path, 'question: "Do you feel safe at school?"', 'question: "Do you feel safe in educational establishments?"')
    assert any("uncommon words" in p and "establishments" in p for p in problems_for(path))


def test_an_asked_statement_without_its_other_wording_is_refused(tmp_path):
    path = broken(tmp_path, '        reworded: "At school, do you feel no one will hurt you?"\n', "")
    [problem] = problems_for(path)
    assert problem.startswith(f"{path}:{line_of(path, 'id: york.safe.cyp1')}:")
    assert "needs 'reworded'" in problem


def test_a_hard_example_is_named_with_its_line(tmp_path):
    hard = "Safety constitutes freedom from harm and apprehension."
    path = broken(tmp_path, "Safe means no one hurts you and you are not scared.", hard)
    assert any(p.startswith(f"{path}:{line_of(path, hard)}:") and "example" in p for p in problems_for(path))


def test_an_unknown_field_is_named(tmp_path):
    path = broken(tmp_path, "    title_inferred: false\n", "    title_inferred: false\n    colour: red\n")
    assert any("colour" in p and "unknown field" in p for p in problems_for(path))


def test_two_core_questions_in_one_area_are_refused(tmp_path):
    path = broken(tmp_path, "sets: [standard, full]", "sets: [core, standard, full]")
    assert any("exactly one 'children_young_people' statement as core" in p for p in problems_for(path))


def test_broken_yaml_names_the_line(tmp_path):
    path = broken(tmp_path, 'title: "I am safe"', 'title: "I am safe')
    [problem] = problems_for(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: this is not valid YAML", problem)


def test_an_unknown_framework_id_lists_the_known_ones():
    with pytest.raises(FrameworkError) as caught:
        load_framework("narnia")
    assert "unknown framework 'narnia'" in str(caught.value) and "york" in str(caught.value)


SHROPSHIRE = YORK.with_name("shropshire.yml")


def broken_shropshire(tmp_path: Path, old: str, new: str) -> Path:
    text = SHROPSHIRE.read_text(encoding="utf-8")
    assert old in text, f"test set-up: {old!r} not in shropshire.yml"
    path = tmp_path / "council.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_an_adult_question_is_held_to_the_adult_bar(tmp_path):
    # Fine for an adult at 17 words; the same words would be too long for a child.
    fine = 'question: "Do you know who to speak to if your family needs some extra help from the school?"'
    load_framework_file(broken_shropshire(tmp_path, 'question: "Do people listen to you and respect your views?"', fine))
    long = ('question: "Do you know who to speak to if your family or your child needs any extra help, support'
            ' or protection at school or at home?"')
    path = broken_shropshire(tmp_path, 'question: "Do people listen to you and respect your views?"', long)
    problem = problems_for(path)[0]
    assert problem.startswith(f"{path}:{line_of(path, 'any extra help')}:") and "use 20 or fewer" in problem


def test_a_mirror_must_be_a_child_statement_of_the_same_area(tmp_path):
    path = broken_shropshire(tmp_path, "mirrors: shropshire.heard.cyp2", "mirrors: shropshire.goals.cyp1")
    [problem] = problems_for(path)
    assert "mirrors 'shropshire.goals.cyp1'" in problem and "same area" in problem
