"""At a comment prompt, a young person's longer typed words are their comment: never taken for
"stop", "take a break" or a question to the bot (framework/leaving.py, actions/forms.py)."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.forms import ValidateSurveyForm, last_prompt_kind
from framework.answers import Reply
from framework.conversation import COMMENT_PROMPT, CONCERN, QUESTION_PROMPT
from framework.leaving import is_a_comment


def tracker_after(*kinds: str) -> Tracker:
    events = [{"event": "bot", "text": "...", "data": {"custom": {"kind": kind}}} for kind in kinds]
    events.append({"event": "bot", "text": "Here it is another way.", "data": {"custom": {"kind": "explain"}}})
    return Tracker("sender", {}, {}, events, False, None, None, "action_listen")


def test_longer_words_are_a_comment_short_ones_can_still_leave():
    assert is_a_comment("i get tired in the afternoon")
    assert is_a_comment("I want to learn to cook pasta")
    assert not is_a_comment("can i have a break")
    assert not is_a_comment("can we stop now please")
    assert not is_a_comment("stop")


def test_the_last_step_asked_is_read_from_the_bots_messages():
    assert last_prompt_kind(tracker_after(QUESTION_PROMPT, COMMENT_PROMPT)) == COMMENT_PROMPT
    assert last_prompt_kind(tracker_after(COMMENT_PROMPT, QUESTION_PROMPT)) == QUESTION_PROMPT
    assert last_prompt_kind(tracker_after()) is None


def test_only_typed_longer_words_at_a_comment_prompt_are_taken_as_they_are():
    form = ValidateSurveyForm()
    at_comment, at_question = tracker_after(COMMENT_PROMPT), tracker_after(QUESTION_PROMPT)
    tired = Reply("i get tired in the afternoon", "take_break", 0.95, tapped=False)
    assert form.own_words(at_comment, tired)
    assert not form.own_words(at_question, tired)
    assert not form.own_words(at_comment, Reply("can i have a break", "take_break", 0.95, tapped=False))
    assert not form.own_words(at_comment, Reply("/take_break", "take_break", 1.0, tapped=True))
    # A worry is always heard as one: the concern path raises the alert.
    assert not form.own_words(at_comment, Reply("my step dad hurts me when mum is out", CONCERN, 0.97, tapped=False))
