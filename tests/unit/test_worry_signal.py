"""The safeguarding screen's second opinion (framework/worry.py): disclosures in words no rule was
written for reach the lead; the ordinary life Rasa's `concern` intent mistook for worries does
not raise an alert; the examples file is checked like every data file."""
from __future__ import annotations

import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from answers_eval import SPLITS
from safeguarding_eval import load as load_labelled

from actions.forms import ValidateSurveyForm, concern_words, latest_reply, raise_alert_from_dialogue
from bot.safeguarding.screen import default_screener
from framework.checkin import Say
from framework.conversation import UNNEGATED
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
    text = "my step dad is weird with me"
    assert not default_screener().match_rules(text).risk
    heard = worry_signal().hear(text)
    assert heard.agrees and not heard.alone


@pytest.mark.parametrize("text", ORDINARY_LIFE)
def test_ordinary_life_does_not_alert_by_any_signal(text):
    assert not default_screener().screen(text).risk
    assert not worry_signal().hear(text).agrees  # so a confident `concern` intent alone raises nothing


def concern_tracker(text: str, confidence: float, metadata: dict | None = None) -> Tracker:
    message = {"text": text, "intent": {"name": "concern", "confidence": confidence}, "metadata": metadata or {}}
    return Tracker("pupil-1", {"requested_slot": "answer"}, message, [], False, None, {"name": "survey_form"}, "action_listen")


@pytest.mark.parametrize("text", ORDINARY_LIFE)
def test_a_confident_concern_the_signal_does_not_share_is_read_as_a_reply(text):
    tracker = concern_tracker(text, 0.99)
    dispatcher = CollectingDispatcher()
    # None: not answered as control, so the form stores it as the answer or comment it is
    assert ValidateSurveyForm()._answer_control(dispatcher, tracker, latest_reply(tracker)) is None
    assert dispatcher.messages == []


def test_a_confident_concern_about_an_act_the_screen_found_negated_does_not_alert():
    text = "i am not scared of my step dad"
    assert worry_signal().hear(text).agrees  # the words as a whole would confirm the intent
    found = default_screener().screen(text)  # what the web app sends on with the message
    tracker = concern_tracker(text, 0.99, {UNNEGATED: found.unnegated})
    assert concern_words(tracker, latest_reply(tracker)) == "i am"
    dispatcher = CollectingDispatcher()
    assert ValidateSurveyForm()._answer_control(dispatcher, tracker, latest_reply(tracker)) is None
    assert dispatcher.messages == []
    assert raise_alert_from_dialogue(None, None, text, found.unnegated) == [Say(response="utter_default")]


def test_the_words_outside_a_negated_act_can_still_confirm_a_concern():
    text = "my dad never hits me but my step dad is weird with me when mum is at work"
    unnegated = default_screener().match_rules(text).unnegated  # (the signal alone alerts on this one)
    assert unnegated is not None and "hits" not in unnegated and "weird" in unnegated
    assert worry_signal().hear(unnegated).agrees
    # a message with no negated act is heard whole
    tracker = concern_tracker("my step dad is weird with me", 0.99)
    assert concern_words(tracker, latest_reply(tracker)) == "my step dad is weird with me"


def test_the_concern_action_outside_the_questions_asks_again_instead_of_alerting():
    # no database is touched: nothing is stored
    text = "i hurt my arm at rugby"
    assert raise_alert_from_dialogue(None, None, text, text) == [Say(response="utter_default")]


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


def test_a_long_message_is_judged_against_the_lower_bar():
    # 14 words, no rule: between `alone_long` and `alone`, so only its length makes it alert
    text = "my cousin keeps asking me to play a game where we take turns touching"
    thresholds = worry_signal().thresholds
    heard = worry_signal().hear(text)
    assert heard.words >= thresholds.long_from and thresholds.alone_long <= heard.score < thresholds.alone
    assert not default_screener().match_rules(text).risk and default_screener().screen(text).risk


def test_a_short_message_needs_the_higher_bar():
    thresholds = worry_signal().thresholds
    assert thresholds.alone_for(thresholds.long_from - 1) == thresholds.alone > thresholds.alone_long
    assert thresholds.alone_for(thresholds.long_from) == thresholds.alone_long


def test_the_signal_is_not_asked_about_an_act_the_rules_found_negated():
    text = "i am not scared of my step dad"
    assert worry_signal().hear(text).alone  # what the signal alone would say: near "scared of my step dad"
    found = default_screener().match_rules(text)
    assert found.cleared and not found.risk
    assert default_screener().screen(text).risk is False


@pytest.mark.parametrize("text", [
    "nobody hits me but mum goes out every night and we have nothing for tea",
    "my dad never hits me but my step dad is weird with me when mum is at work",
])
def test_a_negation_clears_only_a_message_that_is_mostly_the_negated_act(text):
    # no rule fires; the negated act is under half the words, so the signal still hears the rest
    found = default_screener().match_rules(text)
    assert not found.risk and not found.cleared
    assert default_screener().screen(text).risk


def test_alone_long_above_alone_is_refused(tmp_path):
    text = EXAMPLES_FILE.read_text(encoding="utf-8")
    upside_down = tmp_path / "thresholds.yml"
    upside_down.write_text(text.replace("alone_long:", "alone_long: 0.5 #", 1), encoding="utf-8")
    with pytest.raises(FrameworkError, match="alone_long"):
        load_worry_examples(upside_down)


def test_no_held_out_message_is_a_worry_example():
    """A held-out message kept as an example would be scored against itself: the figures reported
    for test and the outside batches would flatter the signal."""
    def same(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9']+", text.lower()))

    held_out = {same(item.text) for split in SPLITS if split != "dev" for item in load_labelled(split)}
    examples = load_worry_examples()
    leaked = [text for side in ("worry", "benign") for text in examples.texts(side) if same(text) in held_out]
    assert leaked == []
