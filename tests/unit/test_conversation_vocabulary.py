"""The conversation's vocabulary (framework/conversation.py) against the files that cannot import
it: domain.yml, the rules and stories in data/ (and the test stories), and the NLU data. A stage,
slot, entity or intent in one place and not the other fails here, before Rasa is trained."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from rasa_sdk.executor import ActionExecutor
from ruamel.yaml import YAML

from framework import checkin
from framework import conversation as vocabulary
from framework.answers import Reply, answer_scale
from framework.db import repository as repo
from framework.settings import PROJECT_ROOT

STORY_FILES = sorted((PROJECT_ROOT / "data" / "stories").glob("*.yml")) + sorted((PROJECT_ROOT / "tests" / "stories").glob("*.yml"))
RULE_FILES = sorted((PROJECT_ROOT / "data" / "rules").glob("*.yml"))
NLU_FILES = sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))
ACTION_FILES = sorted((PROJECT_ROOT / "actions").glob("*.py"))
WIDGET = PROJECT_ROOT / "bot" / "static" / "widget" / "widget.js"
ANSWER_INTENTS = {a.intent for a in answer_scale().answers}


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def domain() -> dict:
    return load(PROJECT_ROOT / "domain.yml")


def rules() -> list[dict]:
    return [rule for path in RULE_FILES for rule in load(path)["rules"]]


def flows() -> list[dict]:
    """Every rule and story: each has steps, a rule may have conditions."""
    return rules() + [story for path in STORY_FILES for story in load(path)["stories"]]


def slots_set(steps: list[dict]) -> list[tuple[str, object]]:
    found = []
    for step in steps:
        for item in step.get("slot_was_set", []):
            found += list(item.items()) if isinstance(item, dict) else [(item, None)]
    return found


def used(key: str) -> set[str]:
    """The values of `key` ("intent", "action", ...) in every rule's and story's steps and conditions."""
    return {step[key] for flow in flows() for step in flow["steps"] + flow.get("condition", []) if key in step}


def in_flows(slot: str) -> set:
    return {value for flow in flows() for name, value in slots_set(flow["steps"] + flow.get("condition", []))
            if name == slot}


# ---- stages -------------------------------------------------------------------------------------


def test_the_stage_slot_holds_exactly_the_stages():
    assert domain()["slots"][vocabulary.STAGE_SLOT]["values"] == [stage.value for stage in vocabulary.Stage]


def test_rules_and_stories_name_only_known_stages():
    assert in_flows(vocabulary.STAGE_SLOT) <= {stage.value for stage in vocabulary.Stage}


def test_every_stage_is_used_by_a_rule_or_story():
    assert {stage.value for stage in vocabulary.Stage} <= in_flows(vocabulary.STAGE_SLOT)


def test_each_stage_the_database_gives_has_a_rule_that_resumes_it(db):
    """Walk one check-in through the database, and for each stage it reaches there must be a rule
    for "action_start_checkin said this stage": otherwise a young person returning there is stuck."""
    school = repo.create_school(db, "Vocabulary School")
    invite = repo.create_invite(db, repo.create_pupil(db, school, "Pupil"), "york", question_set="core")
    session = repo.start_or_resume_session(db, invite).session
    reached = [checkin.stage(db, session)]
    checkin.save_preferences(db, session, input_mode="tap", read_aloud=False, question_set="core", who_with="alone")
    reached.append(checkin.stage(db, session))
    while session.position is not None:
        intent = "affirm" if session.position.startswith("question:") else "skip"
        checkin.handle_reply(db, session, Reply(text=f"/{intent}", intent=intent, confidence=1.0, tapped=True))
    reached.append(checkin.stage(db, session))
    checkin.confirm_readback(db, session)
    reached.append(checkin.stage(db, session))
    checkin.save_consent(db, session, "school")
    reached.append(checkin.stage(db, session))
    assert len(set(reached)) == 5

    resumed = set()
    for rule in rules():
        steps = rule["steps"]
        if steps and steps[0].get("action") == "action_start_checkin":
            resumed |= {value for name, value in slots_set(steps[1:2]) if name == vocabulary.STAGE_SLOT}
    assert {stage.value for stage in reached} <= resumed


# ---- slots and entities ---------------------------------------------------------------------------


def test_the_domains_slots_are_the_vocabularys():
    assert set(domain()["slots"]) == set(vocabulary.SLOTS)


def test_rules_stories_and_forms_set_only_known_slots():
    in_data = {name for flow in flows() for name, _ in slots_set(flow["steps"] + flow.get("condition", []))}
    assert in_data <= set(vocabulary.SLOTS) | {vocabulary.REQUESTED_SLOT}
    required = {slot for form in domain()["forms"].values() for slot in form["required_slots"]}
    assert required <= set(vocabulary.SLOTS)


def test_the_domains_entities_are_the_vocabularys():
    assert set(domain()["entities"]) == set(vocabulary.ENTITIES)
    in_stories = {name for flow in flows() for step in flow["steps"]
                  for entity in step.get("entities", []) for name in entity}
    assert in_stories <= set(vocabulary.ENTITIES)


def test_no_action_names_a_slot_in_a_string():
    """Actions set and read slots through the vocabulary's names, never a string of their own."""
    literal = []
    for path in ACTION_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if called in ("SlotSet", "get_slot") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal.append(f"{path.name}:{node.lineno} {called}({first.value!r})")
    assert literal == []


# ---- intents -----------------------------------------------------------------------------------------


def test_the_domains_intents_are_the_answers_and_the_vocabularys():
    names = [intent.name for intent in vocabulary.INTENTS]
    assert len(names) == len(set(names))
    assert set(domain()["intents"]) == ANSWER_INTENTS | set(names)
    assert vocabulary.FALLBACK_INTENT not in domain()["intents"]


def test_rules_and_stories_use_only_known_intents():
    assert used("intent") <= set(domain()["intents"]) | {vocabulary.FALLBACK_INTENT}


def test_the_typed_intents_are_the_ones_with_examples():
    with_examples = {item["intent"] for path in NLU_FILES for item in load(path)["nlu"] if "intent" in item}
    typed = {intent.name for intent in vocabulary.INTENTS if intent.typed}
    assert with_examples == ANSWER_INTENTS | typed


def test_every_control_word_has_a_rule():
    in_rules = {step["intent"] for rule in rules() for step in rule["steps"] if "intent" in step}
    assert {intent.name for intent in vocabulary.INTENTS if intent.control} <= in_rules


@pytest.mark.parametrize("form", ["preferences_form", "survey_form", "consent_form"])
def test_each_leaving_intent_has_a_rule_for_each_form(form):
    assert set(domain()["forms"]) == {"preferences_form", "survey_form", "consent_form"}
    leaving = set()
    for rule in rules():
        if {"active_loop": form} in rule.get("condition", []):
            leaving |= {step["intent"] for step in rule["steps"] if "intent" in step}
    assert vocabulary.LEAVING_INTENTS <= leaving


def test_the_form_replies_are_domain_responses_and_the_payloads_name_their_intent():
    responses = set(domain()["responses"])
    for intent in vocabulary.INTENTS:
        assert set(intent.form_replies or ()) <= responses, intent.name
        assert intent.payload in (None, f"/{intent.name}"), intent.name


def test_the_widget_sends_only_payloads_the_vocabulary_knows():
    sent = set(re.findall(r'"(/[a-z_]+)[{"]', WIDGET.read_text(encoding="utf-8")))
    assert sent and sent <= vocabulary.PAYLOADS | {f"/{vocabulary.CHOOSE}"}


# ---- actions --------------------------------------------------------------------------------------


def test_the_action_server_runs_exactly_the_domains_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(domain()["actions"])
