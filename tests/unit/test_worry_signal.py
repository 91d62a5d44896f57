"""The safeguarding screen's second opinion (framework/worry.py): disclosures in words no rule was
written for reach the lead; the ordinary life Rasa's `concern` intent mistook for worries does
not raise an alert; the examples file is checked like every data file."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateSurveyForm, latest_reply, raise_alert_from_dialogue
from bot.safeguarding.screen import default_screener
from framework.checkin import Say
from framework.loader import FrameworkError
from framework.worry import EXAMPLES_FILE, load_worry_examples, worry_signal

# Written for this test (in no examples file or evaluation set); the rules do not catch them.
UNSEEN_DISCLOSURES = [
    "the lads on the estate want me to mind a bag at my house",  # below `alone` before the examples by category
    "a man from fortnite says he'll buy me a phone if i send him pics",
]
# What the `concern` intent took for worries at confidence 0.7 to 0.99 (issue 13).
ORDINARY_LIFE = [
    "im scared of thunder",
    "i hurt my arm at rugby",
    "my mum takes me to dance",
    "i fell over in the playground and cut my knee",
    "i want to get my english gcse",
]


@pytest.mark.parametrize("text", UNSEEN_DISCLOSURES)
def test_a_disclosure_no_rule_matches_still_alerts(text):
    screener = default_screener()
    assert not screener.match_rules(text).risk  # else this test would not show the signal's worth
    result = screener.screen(text)
    # no category: the DSL reads the words, and the SENCO never sees them
    assert result.risk and result.categories == [] and result.evidence == []


def test_a_disclosure_the_signal_is_less_sure_of_still_confirms_the_concern_intent():
    text = "my brother makes me do things to him and says its normal"
    assert not default_screener().match_rules(text).risk
    heard = worry_signal().hear(text)
    assert heard.agrees and not heard.alone


@pytest.mark.parametrize("text", ORDINARY_LIFE)
def test_ordinary_life_does_not_alert_by_any_signal(text):
    assert not default_screener().screen(text).risk
    assert not worry_signal().hear(text).agrees  # so a confident `concern` intent alone raises nothing


def concern_tracker(text: str, confidence: float) -> Tracker:
    return Tracker("pupil-1", {"requested_slot": "answer"}, {"text": text, "intent": {"name": "concern", "confidence": confidence}},
                   [], False, None, {"name": "survey_form"}, "action_listen")


@pytest.mark.parametrize("text", ORDINARY_LIFE)
def test_a_confident_concern_the_signal_does_not_share_is_read_as_a_reply(text):
    tracker = concern_tracker(text, 0.99)
    dispatcher = CollectingDispatcher()
    # None: not answered as control, so the form stores it as the answer or comment it is
    assert ValidateSurveyForm()._answer_control(dispatcher, tracker, latest_reply(tracker)) is None
    assert dispatcher.messages == []


def test_the_concern_action_outside_the_questions_asks_again_instead_of_alerting():
    # no database is touched: nothing is stored
    assert raise_alert_from_dialogue(None, None, "i hurt my arm at rugby") == [Say(response="utter_default")]


def test_short_replies_are_not_judged():
    assert list(worry_signal().scores(["yes", "not really", "idk"])) == [0.0, 0.0, 0.0]


def test_the_shipped_examples_cover_both_sides():
    examples = load_worry_examples()
    assert examples.count("worry") >= 400 and examples.count("benign") >= 400
    assert examples.thresholds.with_concern <= examples.thresholds.alone


def test_a_broken_examples_file_names_the_file_and_line(tmp_path):
    text = EXAMPLES_FILE.read_text(encoding="utf-8")
    twice = tmp_path / "examples.yml"
    twice.write_text(text + "  repeated:\n    - i want to die\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match="listed twice"):
        load_worry_examples(twice)
    backwards = tmp_path / "thresholds.yml"
    backwards.write_text(text.replace("with_concern:", "with_concern: 0.9 #", 1), encoding="utf-8")
    with pytest.raises(FrameworkError) as caught:
        load_worry_examples(backwards)
    assert f"{backwards}:" in str(caught.value) and "with_concern" in str(caught.value)
