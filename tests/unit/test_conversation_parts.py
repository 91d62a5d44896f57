"""The pieces the conversation is built from: the plan of steps, reading a reply, choices."""
from __future__ import annotations

import pytest

from framework.answers import CONFIDENT, Answer, Clarify, Reply, answer_buttons, interpret
from framework.choices import choose_payload, option_for_reply
from framework.loader import load_framework
from framework.schema import PerspectiveInfo
from framework.survey import SurveyPlan


@pytest.fixture(scope="module")
def plan():
    return SurveyPlan(load_framework("shropshire"), "children_young_people", "core")


def test_a_plan_asks_each_area_then_its_two_comment_prompts(plan):
    kinds = [s.kind for s in plan.steps]
    assert kinds[:3] == ["question", "anything_else", "what_would_help"]
    assert len(plan.steps) == 7 * 3
    assert [a.id for a in plan.areas] == [a.id for a in load_framework("shropshire").areas]


def test_progress_counts_questions_and_areas_done(plan):
    third_area_question = plan.steps[6]
    progress = plan.progress(third_area_question.key)
    assert (progress.question_number, progress.question_total) == (3, 7)
    assert progress.areas_done == tuple(a.id for a in plan.areas[:2])
    assert progress.current_area == plan.areas[2].id
    end = plan.progress(None)
    assert end.question_number == 7 and len(end.areas_done) == 7


def test_the_plan_follows_the_question_set():
    fw = load_framework("york")
    sizes = {qs: len(SurveyPlan(fw, "children_young_people", qs).questions) for qs in ("core", "standard", "full")}
    assert sizes == {"core": 7, "standard": 14, "full": 23}


def test_a_perspective_the_framework_lacks_is_refused():
    # (Shropshire's parent carers and partners have questions of their own now.)
    assert SurveyPlan(load_framework("shropshire"), "parent_carers", "core").steps
    with pytest.raises(ValueError, match="no perspective"):
        SurveyPlan(load_framework("york"), "partners", "core")


def test_a_perspective_that_asks_nothing_is_refused():
    # A framework may list a voice with no questions of its own (questions are not required of
    # it): no check-in can be planned for it, rather than one with no steps.
    york = load_framework("york")
    listed_only = york.model_copy(update={"perspectives": {
        **york.perspectives, "parent_carers": PerspectiveInfo(label="Parent carers", readers="adults")}})
    with pytest.raises(ValueError, match="asks nothing for 'parent_carers' in the 'core' set"):
        SurveyPlan(listed_only, "parent_carers", "core")
    assert SurveyPlan(listed_only, "children_young_people", "core").steps


def test_steps_resume_by_key(plan):
    step = plan.steps[4]
    assert plan.step(step.key) == step
    assert plan.after(plan.steps[-1].key) is None
    with pytest.raises(KeyError):
        plan.step("question:york.safe.cyp1")


@pytest.mark.parametrize("reply,expected", [
    (Reply("/affirm", "affirm", 1.0, True), Answer("yes", "tapped", None, 1.0)),
    (Reply("nah", "deny", 0.95, False), Answer("no", "typed", "nah", 0.95)),
    (Reply("🤷", "dont_know", 0.88, False), Answer("dont_know", "typed", "🤷", 0.88)),
    # An unsure model is asked back, unless the reply's own words take the same side.
    (Reply("purple", "sometimes", CONFIDENT - 0.01, False), Clarify("purple")),
    (Reply("kinda", "sometimes", CONFIDENT - 0.01, False), Answer("sometimes", "typed", "kinda", CONFIDENT - 0.01)),
    (Reply("my dog", "out_of_scope", 0.99, False), Clarify("my dog")),
    (Reply("zzz", None, None, False), Clarify("zzz")),
])
def test_a_reply_is_an_answer_only_when_sure(reply, expected):
    assert interpret(reply) == expected


def test_a_clarified_answer_keeps_every_word():
    result = interpret(Reply("yes", "affirm", 0.97, False), clarifying_words="at school yes but not at home")
    assert result == Answer("yes", "clarified", "at school yes but not at home / yes", 0.97)


def test_every_answer_button_has_a_symbol_and_a_word():
    buttons = answer_buttons()
    assert [b["title"] for b in buttons] == ["Yes", "Sometimes", "No", "I don't know", "Skip"]
    assert all(b["symbol"] and b["payload"].startswith("/") for b in buttons)


@pytest.mark.parametrize("slot,text,intent,expected", [
    ("input_mode", "i wanna type", None, "type"),
    ("input_mode", "buttons pls", None, "tap"),
    ("read_aloud", "yes please", "affirm", "on"),
    ("read_aloud", "no thanks", "deny", "off"),
    ("question_set", "just a few", None, "core"),
    ("question_set", "all of them", None, "full"),
    ("who_with", "on my own", None, "alone"),
    ("who_with", "my TA is helping me", None, "with_support"),
    ("who_with", "mum is typing for me", None, "answered_for_me"),
    ("consent", "school and my family", None, "school_and_family"),
    ("consent", "banana", None, None),
])
def test_typed_choices_pick_one_option_or_none(slot, text, intent, expected):
    assert option_for_reply(slot, text, intent) == expected


def test_choice_payloads_are_rasa_entity_payloads():
    assert choose_payload("consent", "school") == '/choose{"consent":"school"}'
