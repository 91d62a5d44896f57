"""The guard in framework/answers.py: typed words that say one side are never stored as the
other, however sure the language model is; they are asked back instead."""
from __future__ import annotations

import pytest

from framework.answers import SCALE_FILE, Answer, AnswerScale, Clarify, Reply, answer_scale, interpret
from framework.loader import FrameworkError, load_yaml_model
from scripts.answers_eval import EXPECTED, Score, load, reading

ANSWER_INTENTS = ("affirm", "deny", "sometimes", "dont_know")
OWN = load("own")  # the team's own sarcastic, mixed and contrastive replies, labelled
EVERYDAY = load("everyday")  # the team's own everyday replies, labelled


def sure(text: str, intent: str) -> Reply:
    return Reply(text, intent, 0.99, tapped=False)


@pytest.mark.parametrize("text", [
    "i'd say false", "i think it's false", "false", "i disagree", "i don't agree", "not true",
    "not really true", "that's not right", "i wouldn't say so", "i'd have to say no", "yeah right",
    "oh yeah totally \U0001F644", "as if", "thats a no",
])
def test_words_that_say_no_are_never_stored_as_yes(text):
    assert interpret(sure(text, "affirm")) == Clarify(text)


@pytest.mark.parametrize("text", [
    "true", "i agree", "that's right", "i'd say yes", "not bad at all", "you're not wrong",
    "i cant not be myself", "its not that i dont feel safe", "nothing bad happens", "not untrue",
])
def test_words_that_say_yes_are_never_stored_as_no(text):
    assert interpret(sure(text, "deny")) == Clarify(text)


@pytest.mark.parametrize("text", ["not totally true", "agree a bit", "kinda true", "true and false"])
def test_words_that_say_partly_are_neither_yes_nor_no(text):
    assert interpret(sure(text, "affirm")) == Clarify(text)
    assert interpret(sure(text, "deny")) == Clarify(text)
    assert interpret(sure(text, "sometimes")) == Answer("sometimes", "typed", text, 0.99)


@pytest.mark.parametrize(("text", "intent", "value"), [
    ("false", "deny", "no"), ("i disagree", "deny", "no"), ("not true", "deny", "no"),
    ("true", "affirm", "yes"), ("i agree", "affirm", "yes"), ("yes", "affirm", "yes"),
    ("no i dont", "deny", "no"), ("nah not really", "deny", "no"), ("not right now", "deny", "no"),
    ("all right", "affirm", "yes"), ("i dont know if its true", "dont_know", "dont_know"),
])
def test_words_that_agree_with_the_model_are_stored(text, intent, value):
    assert interpret(sure(text, intent)) == Answer(value, "typed", text, 0.99)


def test_a_tapped_button_is_never_second_guessed():
    assert interpret(Reply("/affirm", "affirm", 1.0, tapped=True)) == Answer("yes", "tapped", None, 1.0)


def test_a_broken_pattern_is_refused_with_its_line(tmp_path):
    broken = tmp_path / "scale.yml"
    text = SCALE_FILE.read_text(encoding="utf-8")
    broken.write_text(text.replace('  says_yes:\n', '  says_yes:\n    - "(unclosed"\n'), encoding="utf-8")
    with pytest.raises(FrameworkError, match="unclosed"):
        load_yaml_model(broken, AnswerScale)


@pytest.mark.parametrize(("text", "value"), [("i dont know who to ask", "no"), ("nope didnt know", "no"),
                                             ("i don\u2019t know why i take them", "no")])
def test_not_knowing_the_thing_asked_about_is_not_i_dont_know(text, value):
    """"i dont know who to ask" or "nope didnt know" is a No to "Do you know who can help?"."""
    question = "Do you know who can help when things are hard?"
    expected = Clarify(text) if value is None else Answer(value, "typed", text, 1.0)
    assert interpret(sure(text, "dont_know"), question=question) == expected
    assert interpret(sure(text, "dont_know"), question="Do you feel safe at school?") == Answer(
        "dont_know", "typed", text, 0.99)


@pytest.mark.parametrize(("text", "value"), [
    ("not on my own, my mum takes me", "yes"), ("with help from my mum", "yes"), ("my dad drives me", "yes"),
    ("no, my carer comes with me", None),
])
def test_having_the_help_is_a_yes_and_never_a_no_where_help_counts(text, value):
    question = "Can you get to places, on your own or with help?"
    expected = Clarify(text) if value is None else Answer(value, "typed", text, 1.0)
    assert interpret(sure(text, "deny"), question=question) == expected
    assert interpret(Reply(text, "nlu_fallback", 0.5, tapped=False), question=question) == expected
    assert interpret(sure(text, "deny"), question="Can you get ready on your own?") == Answer("no", "typed", text, 0.99)


def test_a_plain_i_dont_know_to_a_question_about_knowing_is_kept():
    assert interpret(sure("idk tbh", "dont_know"), question="Do you know how to stay safe online?") == Answer(
        "dont_know", "typed", "idk tbh", 0.99)


@pytest.mark.parametrize("text", ["true with help", "i agree mostly with my mum", "false, the bus is bad"])
def test_words_that_take_one_side_are_not_stored_as_sometimes(text):
    assert interpret(sure(text, "sometimes")) == Clarify(text)


@pytest.mark.parametrize("text", ["yeah sometimes", "nah only sometimes", "sometimes"])
def test_a_plain_yeah_or_nah_does_not_stop_sometimes(text):
    assert interpret(sure(text, "sometimes")) == Answer("sometimes", "typed", text, 0.99)


@pytest.mark.parametrize(("text", "intent"), [("yeah bare friends", "deny"), ("nah i do", "affirm"),
                                              ("yes \U0001F602", "affirm")])
def test_a_reply_opening_with_one_side_is_not_stored_as_the_other(text, intent):
    assert interpret(sure(text, intent)) == Clarify(text)


@pytest.mark.parametrize(("text", "intent"), [
    ("im not shore", "deny"), ("no idea", "deny"), ("idk", "affirm"), ("not sure tbh", "sometimes"),
    ("i cant remember", "deny"),
])
def test_words_that_say_i_dont_know_are_never_stored_as_a_view(text, intent):
    assert interpret(sure(text, intent)) == Clarify(text)



def test_not_knowing_a_person_is_a_no_not_unsure():
    assert interpret(sure("i dont know", "deny")) == Clarify("i dont know")
    assert interpret(sure("i dont know anyone who can help", "deny")) == Answer(
        "no", "typed", "i dont know anyone who can help", 0.99)


@pytest.mark.parametrize(("text", "intent"), [("maybe", "dont_know"), ("perhaps", "dont_know"),
                                              ("maybe yes", "affirm"), ("yeah maybe", "affirm"),
                                              ("maybe not", "deny")])
def test_a_maybe_is_asked_back(text, intent):
    assert interpret(sure(text, intent)) == Clarify(text)


def test_a_maybe_with_i_dont_know_is_i_dont_know():
    assert interpret(sure("maybe", "dont_know")) == Clarify("maybe")
    assert interpret(sure("maybe idk", "dont_know")) == Answer("dont_know", "typed", "maybe idk", 0.99)


@pytest.mark.parametrize(("text", "intent"), [
    ("i dont think so", "affirm"), ("definitely not", "affirm"), ("not very often", "affirm"),
    ("theres no one", "affirm"), ("\u274c", "affirm"), ("i suppose so", "deny"), ("of course", "deny"),
    ("\U0001F44D", "deny"), ("no complaints", "deny"), ("not without help", "deny"),
])
def test_more_words_that_take_a_side(text, intent):
    assert interpret(sure(text, intent)) == Clarify(text)


def test_not_without_help_is_not_sometimes():
    assert interpret(sure("not without help", "sometimes")) == Clarify("not without help")


def less_sure(text: str, intent: str) -> Reply:
    return Reply(text, intent, 0.6, tapped=False)


@pytest.mark.parametrize(("text", "intent", "value", "not_agreeing"), [
    ("nah", "deny", "no", "nah im good thanks"), ("neva", "deny", "no", "the bus"),
    ("\u274c", "deny", "no", "\u274c\U0001F44D"), ("not very often", "deny", "no", "not bad"),
    ("i suppose so", "affirm", "yes", "yeah i get to pick my pen colour"),
    ("\U0001F634\U0001F44D", "affirm", "yes", "yeah kinda"), ("bits", "sometimes", "sometimes", "maybe bits"),
    ("kinda ngl", "sometimes", "sometimes", "true with help"), ("im not shore", "dont_know", "dont_know", "maybe"),
])
def test_a_less_sure_reading_is_stored_only_when_the_words_agree(text, intent, value, not_agreeing):
    assert interpret(less_sure(text, intent)) == Answer(value, "typed", text, 0.6)
    assert interpret(less_sure(not_agreeing, intent)) == Clarify(not_agreeing)


def test_a_reading_below_the_model_fallback_is_asked_back_whatever_the_words():
    assert interpret(Reply("nah", "deny", 0.45, tapped=False)) == Clarify("nah")
    assert interpret(Reply("nah", "deny", 0.55, tapped=False)) == Answer("no", "typed", "nah", 0.55)


@pytest.mark.parametrize(("text", "intent"), [
    ("kinda yeah", "affirm"), ("only at home", "affirm"), ("a little bit", "deny"), ("yes but only at school", "affirm"),
    ("it depends", "deny"), ("no but some days", "deny"),
])
def test_hedged_words_are_never_stored_as_yes_or_no(text, intent):
    assert interpret(sure(text, intent)) == Clarify(text)
    assert interpret(sure(text, "sometimes")) == Answer("sometimes", "typed", text, 0.99)


@pytest.mark.parametrize("text", ["i never feel unsafe", "no one is mean to me", "im not lonely",
                                  "nothing worries me", "it isnt hard"])
def test_a_negated_bad_feeling_is_never_stored_as_no(text):
    assert interpret(sure(text, "deny")) == Clarify(text)


@pytest.mark.parametrize(("text", "leans"), [("mostly yes", "affirm"), ("most of the time i guess", "affirm"),
                                             ("more or less", "affirm"),
                                             ("hardly ever", "deny"), ("mostly not", "deny"), ("not usually", "deny")])
def test_words_that_lean_one_way_are_not_sometimes_nor_the_other_way(text, leans):
    other = "deny" if leans == "affirm" else "affirm"
    assert interpret(sure(text, "sometimes")) == Clarify(text)
    assert interpret(sure(text, other)) == Clarify(text)
    assert interpret(sure(text, leans)).value == ("yes" if leans == "affirm" else "no")


@pytest.mark.parametrize("text", ["not always", "not every day", "not all of them"])
def test_not_always_is_neither_yes_nor_no(text):
    assert interpret(sure(text, "deny")) == Clarify(text)
    assert interpret(sure(text, "affirm")) == Clarify(text)


def test_a_negated_dislike_is_not_a_no():
    assert interpret(sure("i dont hate myself", "deny")) == Clarify("i dont hate myself")


def test_a_longer_reply_with_no_answer_words_needs_a_surer_model():
    """"i play on my own" tells about their life: the model alone must be very sure to file it."""
    assert interpret(Reply("i play on my own", "affirm", 0.8, tapped=False)) == Clarify("i play on my own")
    assert interpret(Reply("i play on my own", "deny", 0.9, tapped=False)) == Answer("no", "typed", "i play on my own", 0.9)
    assert interpret(Reply("my nan", "affirm", 0.8, tapped=False)) == Answer("yes", "typed", "my nan", 0.8)
    assert interpret(Reply("yeah i play sam", "affirm", 0.8, tapped=False)) == Answer(
        "yes", "typed", "yeah i play sam", 0.8)


@pytest.mark.parametrize("text", ["I'm great at spending it", "I keep trying to get out of it",
                                  "I can be who they tell me to be"])
def test_a_yes_from_five_words_or_more_needs_a_yes_word_however_sure_the_model_is(text):
    """Two readings must agree on a Yes: the model's alone, on a statement, is often sarcasm."""
    assert interpret(Reply(text, "affirm", 0.99, tapped=False)) == Clarify(text)
    assert interpret(Reply(text, "deny", 0.99, tapped=False)) == Answer("no", "typed", text, 0.99)


@pytest.mark.parametrize("text", ["my family loves me", "i can swim now", "yes i keep trying at it",
                                  "yeah i get to choose lots"])
def test_a_shorter_statement_or_one_with_a_yes_word_may_still_be_a_yes(text):
    assert interpret(Reply(text, "affirm", 0.99, tapped=False)) == Answer("yes", "typed", text, 0.99)


@pytest.mark.parametrize("text", ["yeah i play with sam", "yep they ask me all the time", "sure i get to pick stuff",
                                  "Yeah, my mum helps me"])
def test_a_casual_yeah_opening_a_longer_reply_needs_a_surer_model_for_yes(text):
    """Sarcasm often starts like this ("yeah i get to pick my pen colour") and only the model can tell."""
    assert interpret(Reply(text, "affirm", 0.85, tapped=False)) == Clarify(text)
    assert interpret(Reply(text, "affirm", 0.9, tapped=False)) == Answer("yes", "typed", text, 0.9)


@pytest.mark.parametrize("text", ["yes i go to football with my dad", "yeah i feel safe", "yeah they help me loads",
                                  "yeah of course they listen to me"])
def test_a_plain_yes_or_another_yes_word_keeps_the_usual_bar(text):
    assert interpret(Reply(text, "affirm", 0.75, tapped=False)) == Answer("yes", "typed", text, 0.75)


@pytest.mark.parametrize(("text", "intent", "value"), [
    ("yes, quite a few", "affirm", "yes"), ("spot on", "affirm", "yes"), ("by and large", "affirm", "yes"),
    ("uh huh", "affirm", "yes"), ("\u2764\ufe0f", "affirm", "yes"), ("can't say I do", "deny", "no"),
    ("could be better", "sometimes", "sometimes"),
])
def test_everyday_answer_words_let_a_less_sure_reading_through(text, intent, value):
    assert interpret(less_sure(text, intent)) == Answer(value, "typed", text, 0.6)


@pytest.mark.parametrize(("text", "intent"), [("yes, quite a few", "sometimes"), ("can't say I do", "dont_know"),
                                              ("could be better", "affirm"), ("could be better", "deny")])
def test_everyday_answer_words_are_not_stored_as_another_answer(text, intent):
    assert interpret(sure(text, intent)) == Clarify(text)


@pytest.mark.parametrize(("text", "side"), [
    ("I couldn't tell you", "unsure"), ("no one to be honest", "no"), ("only wen mum drives me", "middle"),
    ("yeh with my carer", "opens yes"),
])
def test_misspelt_and_everyday_answer_words_are_read(text, side):
    """They count as answer words, so a longer reply with them is read at the usual bar."""
    assert answer_scale().statement_words.signals(text) == {side}


@pytest.mark.parametrize(("text", "side"), [("naa", "opens no"), ("\U0001F937", "unsure"), ("not particularly", "no"),
                                            ("a lot", "yes")])
def test_more_answer_words_are_read(text, side):
    assert side in answer_scale().statement_words.signals(text)


def test_a_hedge_with_one_side_may_be_sometimes_but_i_dont_know_with_a_hedge_is_asked():
    assert interpret(sure("not loads but some", "sometimes")) == Answer("sometimes", "typed", "not loads but some", 0.99)
    assert interpret(sure("idk sometimes", "dont_know")) == Clarify("idk sometimes")


@pytest.mark.parametrize("text", ["i never get asked", "they dont ask me first", "teachers wont let me pick",
                                  "cannot do it alone"])
def test_a_not_no_pattern_explains_is_never_stored_as_yes(text):
    """A "not" left over turns the reply round in words no list knows: asked back, not Yes."""
    assert interpret(sure(text, "affirm")) == Clarify(text)
    assert interpret(sure(text, "deny")) == Answer("no", "typed", text, 0.99)


@pytest.mark.parametrize("text", ["yes no one bullies me", "nobody leaves me out", "im not lonely"])
def test_a_not_a_pattern_explains_still_lets_yes_through(text):
    assert interpret(sure(text, "affirm")) == Answer("yes", "typed", text, 0.99)


@pytest.mark.parametrize("text", ["yeah no", "yeah nah", "yea, no"])
def test_yeah_no_is_a_no(text):
    assert interpret(sure(text, "deny")) == Answer("no", "typed", text, 0.99)
    assert interpret(sure(text, "affirm")) == Clarify(text)


def test_yeah_no_problem_is_not_a_no():
    assert interpret(sure("yeah no problem", "deny")) == Clarify("yeah no problem")


@pytest.mark.parametrize("text", ["yes once in a while", "ish", "no, its hit and miss", "ups and downs",
                                  "to some extent", "depending on the day"])
def test_more_hedges_are_never_stored_as_yes_or_no(text):
    assert interpret(sure(text, "affirm")) == Clarify(text)
    assert interpret(sure(text, "deny")) == Clarify(text)


@pytest.mark.parametrize("text", ["my nan", "my TA mrs patel", "just my mum", "my brother and my best mate",
                                  "miss okafor"])
def test_naming_someone_when_asked_if_there_is_someone_is_a_yes(text):
    reply = Reply(text, "nlu_fallback", 0.5, tapped=False)
    assert interpret(reply, question="Is there someone you trust to talk to?") == Answer("yes", "typed", text, 1.0)
    assert interpret(reply, question="Do people listen to you?") == Clarify(text)


@pytest.mark.parametrize("text", ["not my mum", "my mum sometimes", "only", "my bus"])
def test_a_reply_that_does_more_than_name_someone_is_read_as_usual(text):
    reply = Reply(text, "nlu_fallback", 0.5, tapped=False)
    assert interpret(reply, question="Is there someone you trust to talk to?") == Clarify(text)


# Sarcasm with no word that shows it: only the language model's reading keeps these right.
ONLY_THE_MODEL_CAN_TELL = {"super fast, like a snail", "choices haha"}


@pytest.mark.parametrize("item", OWN, ids=[item.text for item in OWN])
def test_own_sarcastic_and_mixed_replies_are_never_misrecorded_whatever_the_model_says(item):
    """Each reply of tests/data/answers_own.yml, read as any answer with the model sure of it,
    is stored as its label or asked back, never as a different answer."""
    wrong = {intent for intent in ANSWER_INTENTS
             if Score.is_misrecorded(item, reading(item.question, item.text, intent, 0.99))}
    assert bool(wrong) == (item.text in ONLY_THE_MODEL_CAN_TELL), wrong


@pytest.mark.parametrize("item", [i for i in OWN if i.style == "plain"], ids=lambda item: item.text)
def test_plain_answers_beside_them_are_still_stored(item):
    assert reading(item.question, item.text, item.label, 0.99) in EXPECTED[item.label]


@pytest.mark.parametrize("item", EVERYDAY, ids=[item.text for item in EVERYDAY])
def test_everyday_answers_are_stored_when_the_model_reads_them_so(item):
    """The guard never holds back an everyday answer ("can't say I do", "I suppose I do", "yessir")."""
    assert reading(item.question, item.text, item.label, 0.99) in EXPECTED[item.label]


@pytest.mark.parametrize("text", [
    "super safe \U0001F602", "yeah loads \U0001F644", "yep sooo welcome", "sure, whatever", "like i care",
    "what choices lol", "omg yes i LOVE being ignored", "yeah they hang on my every word lol", "why do you even care",
])
def test_sarcasm_is_never_stored_as_a_view_it_may_not_mean(text):
    for intent in ANSWER_INTENTS:
        assert interpret(sure(text, intent)) == Clarify(text), intent


@pytest.mark.parametrize("text", [
    "oh yeah totally \U0001F644", "yeah right lol", "love it\u2026 not", "the bus is great. NOT.",
    "yeah like that ever happens", "like anyone asks me", "u having a laugh", "nah \U0001F644",
])
def test_sarcasm_whose_words_say_no_is_a_no(text):
    assert interpret(sure(text, "deny")) == Answer("no", "typed", text, 0.99)
    for intent in ("affirm", "sometimes", "dont_know"):
        assert interpret(sure(text, intent)) == Clarify(text), intent


@pytest.mark.parametrize("text", [
    "yes and no", "yes/no", "no but yes", "yeah... no", "yes i mean no", "no i said yes", "yeah nah yeah",
    "i do and i dont",
    "it's fine i guess but not really", "sometimes yes but mostly no", "its fine but i hate it",
])
def test_two_sides_at_once_or_a_turning_but_are_asked_back(text):
    for intent in ANSWER_INTENTS:
        assert interpret(sure(text, intent)) == Clarify(text), intent


@pytest.mark.parametrize("text", ["not loads but some", "at school yes but not at home", "yeah but only a bit",
                                  "my mum does, school doesn't", "with my friends yes, with the year 9s no"])
def test_a_but_that_only_hedges_or_halves_said_of_two_places_may_be_sometimes(text):
    assert interpret(sure(text, "sometimes")) == Answer("sometimes", "typed", text, 0.99)
    assert interpret(sure(text, "affirm")) == Clarify(text)
    assert interpret(sure(text, "deny")) == Clarify(text)


@pytest.mark.parametrize("text", ["kind of, not really", "depends, mostly no"])
def test_a_hedge_and_a_side_together_are_not_sometimes(text):
    assert interpret(sure(text, "sometimes")) == Clarify(text)


@pytest.mark.parametrize(("text", "intent", "value"), [
    ("yh mostly lol", "affirm", "yes"), ("lol no", "deny", "no"), ("never lol", "deny", "no"),
    ("ha. no.", "deny", "no"), ("yes no one bullies me", "affirm", "yes"),
])
def test_a_laugh_or_a_no_one_beside_a_plain_answer_still_lets_it_through(text, intent, value):
    assert interpret(sure(text, intent)) == Answer(value, "typed", text, 0.99)


def test_words_that_take_a_side_are_not_i_dont_know():
    assert interpret(sure("they never ask me", "dont_know")) == Clarify("they never ask me")
    assert interpret(sure("didnt know", "dont_know")) == Answer("dont_know", "typed", "didnt know", 0.99)


@pytest.mark.parametrize(("text", "question"), [
    ("not my teacher", "Do people listen to you?"),
    ("not anyone at school", "Is there someone to go to when you feel worried?"),
    ("yeah at home", "Can you be yourself?"), ("at clubs yes", "Do you feel you belong at school and clubs?"),
    ("not where i live", "Do you feel welcome at school and where you live?"),
])
def test_an_answer_for_one_part_of_what_is_asked_is_asked_back(text, question):
    for intent in ANSWER_INTENTS:
        assert interpret(sure(text, intent), question=question) == Clarify(text)


def test_an_answer_for_the_part_the_question_names_is_read_as_usual():
    assert interpret(sure("not at school", "deny"), question="Do you feel safe at school?") == Answer(
        "no", "typed", "not at school", 0.99)
    assert interpret(sure("not at all", "deny"), question="Do people listen to you?") == Answer(
        "no", "typed", "not at all", 0.99)


@pytest.mark.parametrize(("text", "value"), [
    ("by and large", "yes"), ("strongly agree!!", "yes"), ("bang on", "yes"), ("no-one i trust", "no"),
    ("\U0001F645", "no"), ("a couple", "sometimes"), ("not sure", "dont_know"),
])
def test_a_reply_of_one_sides_answer_words_alone_is_that_answer_where_the_model_is_unsure(text, value):
    assert interpret(Reply(text, "nlu_fallback", 0.5, tapped=False)) == Answer(value, "typed", text, 1.0)


@pytest.mark.parametrize("text", ["by and large", "not sure", "a couple", "yeah right"])
def test_a_plain_answer_in_words_is_not_stored_where_the_model_is_sure_of_another(text):
    other = "deny" if answer_scale().statement_words.plain_answer(text) != "no" else "affirm"
    assert interpret(sure(text, other)) == Clarify(text)
    value = answer_scale().statement_words.plain_answer(text)
    assert interpret(Reply(text, other, 0.65, tapped=False)) == Answer(value, "typed", text, 1.0)


def test_filler_beside_answer_words_leaves_a_plain_answer():
    assert answer_scale().statement_words.plain_answer("strongly agree to be honest") == "yes"
    assert answer_scale().statement_words.plain_answer("none of my teachers ignore me") is None  # two negatives
    assert answer_scale().statement_words.plain_answer("\U0001F910") == "dont_know"
    assert answer_scale().statement_words.plain_answer("mostly at home") is None


@pytest.mark.parametrize("text", ["no, you wait weeks to be seen", "no because its too noisy", "nope, not once",
                                  "not really, i get stuck"])
def test_a_plain_no_and_a_reason_is_a_no_where_the_model_is_unsure(text):
    assert interpret(Reply(text, "out_of_scope", 0.6, tapped=False), question="Do you feel safe at school?") == Answer(
        "no", "typed", text, 1.0)
    assert interpret(sure(text, "affirm"), question="Do you feel safe at school?") == Clarify(text)


@pytest.mark.parametrize("text", ["no im good", "no one bullies me", "no, sometimes", "no i mean yes"])
def test_a_no_that_may_not_answer_the_question_is_not_stored_as_no_by_its_words(text):
    reply = Reply(text, "nlu_fallback", 0.5, tapped=False)
    assert interpret(reply, question="Do you feel safe at school?") == Clarify(text)


@pytest.mark.parametrize("text", ["home yes, town no", "mum listens, teachers don't", "love science, hate english",
                                  "at home they ask, at school they dont",
                                  "with my mates yeah, with teachers not really"])
def test_one_answer_for_one_part_and_the_other_for_another_is_sometimes(text):
    for intent in ("affirm", "deny", "nlu_fallback"):
        reply = Reply(text, intent, 0.9, tapped=False)
        assert interpret(reply, question="Do people listen to you?").value == "sometimes"


@pytest.mark.parametrize("text", ["yes and no", "yes i do no problem", "no, they don't"])
def test_both_sides_at_once_or_a_plain_side_are_not_read_as_two_parts(text):
    assert interpret(sure(text, "sometimes"), question="Do people listen to you?") == Clarify(text)


@pytest.mark.parametrize("text", ["i'd tell my mum", "my key worker at school", "my best friend jess", "yeah my nan",
                                  "i have a few people", "the lady in the office"])
def test_more_ways_of_naming_someone_are_a_yes(text):
    reply = Reply(text, "nlu_fallback", 0.5, tapped=False)
    question = "Is there someone you can tell when you are worried?"
    assert interpret(reply, question=question) == Answer("yes", "typed", text, 1.0)


@pytest.mark.parametrize(("text", "intent"), [("yep, right up until i open my mouth", "affirm"),
                                              ("some day yes", "sometimes")])
def test_a_yes_word_only_counts_as_one(text, intent):
    """"right" is a yes said of the statement, not "right up until"; a closing "yes" takes a side."""
    assert interpret(Reply(text, intent, 0.88, tapped=False)) == Clarify(text)


@pytest.mark.parametrize("text", ["yes, as the spare person", "of course, by my phone and my xbox",
                                  "loads, as long as they pick them"])
def test_a_yes_word_set_apart_before_a_longer_reply_needs_a_surer_model(text):
    assert interpret(Reply(text, "affirm", 0.85, tapped=False)) == Clarify(text)
    assert interpret(Reply(text, "affirm", 0.9, tapped=False)) == Answer("yes", "typed", text, 0.9)


def test_a_condition_opening_a_reply_is_a_hedge_but_a_yes_with_a_condition_is_a_yes():
    assert interpret(sure("when they have time", "affirm")) == Clarify("when they have time")
    assert interpret(sure("when they have time", "sometimes")).value == "sometimes"
    assert interpret(Reply("yes if i try", "affirm", 0.75, tapped=False)).value == "yes"


@pytest.mark.parametrize(("text", "question", "value"), [
    ("i dont not feel safe", "Do you feel safe at school?", "yes"),
    ("its not that i dont feel safe", "Do you feel safe at school?", "yes"),
    ("not untrue", None, "yes"), ("nobody bullies me", "Do you feel safe at school?", None), ("not bad", None, None),
    ("not totally false", None, None),
])
def test_two_negatives_are_a_plain_yes_only_when_firm(text, question, value):
    """"i cant not", "not untrue": a yes; "not bad", "nobody bullies me": never a No, but not a plain Yes."""
    assert answer_scale().statement_words.plain_answer(text, question) == value


def test_an_answer_for_one_part_is_asked_back_even_when_its_words_answer_by_themselves():
    question = "Do you feel safe at home and when you go out?"
    reply = Reply("yes at home", "nlu_fallback", 0.5, tapped=False)
    assert interpret(reply, question=question) == Clarify("yes at home")


@pytest.mark.parametrize("text", [
    "yeah loads lol", "yep so much help lol", "sure wow they really care", "yeah they ask me loads haha",
    "yeah right they never bother", "yh right, like that helps", "yeah like a wall would listen to me",
    "yeah i get to pick between chips and more chips", "only when i mess up", "just when im in trouble",
    "only if i want to get shouted at", "yeah like my teachers care", "yeah sure they listen",
    "oh great another meeting about me",
])
def test_a_yes_word_taken_back_by_what_follows_is_never_stored_as_yes(text):
    """A laugh after a yes-word, a "yeah right" opening, a mocking likeness, a choice of one thing,
    or a complaint as the only condition: however sure the model is, not a Yes (nor Sometimes)."""
    assert interpret(sure(text, "affirm")) == Clarify(text)
    assert interpret(sure(text, "sometimes")) == Clarify(text)


@pytest.mark.parametrize("text", ["yeah right they never bother", "the bus never comes so no", "not since year 7"])
def test_words_that_say_no_at_the_start_or_the_end_are_stored_as_no(text):
    """"yeah right ..." is sarcasm that says no; "..., so no" and "not since ..." are a No with a reason."""
    assert interpret(Reply(text, "deny", 0.6, tapped=False)) == Answer("no", "typed", text, 0.6)
    assert interpret(sure(text, "affirm")) == Clarify(text)


@pytest.mark.parametrize("text", ["yeah right now i do", "yeah loads", "yes i walk there with my brother"])
def test_a_yes_with_no_words_that_take_it_back_is_still_a_yes(text):
    assert interpret(sure(text, "affirm")) == Answer("yes", "typed", text, 0.99)


def test_a_but_that_ends_well_is_a_yes():
    text = "it takes me forever but i get there"
    assert interpret(Reply(text, "affirm", 0.6, tapped=False)) == Answer("yes", "typed", text, 0.6)
    assert interpret(sure(text, "deny")) == Clarify(text)


@pytest.mark.parametrize("text", ["no cap yeah", "no doubt yeah"])
def test_no_cap_then_yeah_is_not_two_answers(text):
    """"no cap", "no doubt" are a yes said with two negatives, never a No beside a yes (Sometimes)."""
    assert interpret(sure(text, "deny")) == Clarify(text)
    assert interpret(sure(text, "affirm")) == Answer("yes", "typed", text, 0.99)


def test_liking_people_who_help_is_not_a_mocking_likeness():
    assert answer_scale().statement_words.signals("i like the staff who help me") == frozenset()


@pytest.mark.parametrize(("text", "intent", "value"), [("nt really", "deny", "no"), ("nah really", "deny", "no"),
                                                       ("not as much as i'd like", "sometimes", "sometimes")])
def test_everyday_ways_to_say_not_really_or_not_enough_agree_with_a_less_sure_model(text, intent, value):
    assert interpret(Reply(text, intent, 0.6, tapped=False)) == Answer(value, "typed", text, 0.6)
    assert interpret(sure(text, "affirm")) == Clarify(text)


@pytest.mark.parametrize("text", ["my dog loves me, does that count", "i walk to the shop if that counts"])
def test_asking_whether_it_counts_is_asked_back(text):
    for intent in ANSWER_INTENTS:
        assert interpret(sure(text, intent)) == Clarify(text), intent


@pytest.mark.parametrize(("text", "value"), [("\U0001F642", "yes"), ("\U0001F60A\U0001F60A", "yes"),
                                             ("\U0001F622", "no"), ("\U0001F641", "no")])
def test_a_smile_or_a_sad_face_alone_answers_by_itself(text, value):
    """As data/nlu/answers.yml maps them: stored when the model is unsure, never against a sure model."""
    assert interpret(Reply(text, "nlu_fallback", 0.5, tapped=False)) == Answer(value, "typed", text, 1.0)
    other = "deny" if value == "yes" else "affirm"
    assert interpret(sure(text, other)) == Clarify(text)


@pytest.mark.parametrize("question", ["Can you get to places, on your own or with help?",
                                      "Can you go out on your own or with support?"])
def test_help_is_the_yes_not_sometimes_where_the_question_counts_help(question):
    assert interpret(sure("with help yes", "sometimes"), question=question) == Answer("yes", "typed", "with help yes", 1.0)
    assert interpret(sure("sometimes, with help", "sometimes"), question=question) == Clarify("sometimes, with help")
    # elsewhere help is no yes: the closing "yes" against the model's Sometimes is asked about
    assert interpret(sure("with help yes", "sometimes"), question="Do you feel safe?") == Clarify("with help yes")


@pytest.mark.parametrize("text", ["i wasnt allowed to go so no", "it's too far away so not really"])
def test_a_reason_then_so_no_is_a_no_even_when_the_model_is_unsure(text):
    question = "Can you join in like everyone else?"
    assert interpret(Reply(text, "nlu_fallback", 0.5, tapped=False), question=question) == Answer("no", "typed", text, 1.0)
    assert interpret(sure(text, "affirm"), question=question) == Clarify(text)


@pytest.mark.parametrize(("text", "intent", "value"), [("nobody has asked me", "deny", "no"),
                                                       ("no one really explained it", "deny", "no"),
                                                       ("no one picks on me", "affirm", "yes")])
def test_nobody_doing_the_thing_asked_is_a_no_and_nobody_doing_a_bad_thing_is_not(text, intent, value):
    assert interpret(Reply(text, intent, 0.6, tapped=False)) == Answer(value, "typed", text, 0.6)
    assert interpret(sure(text, "affirm" if value == "no" else "deny")) == Clarify(text)


def test_finding_it_hard_to_say_is_a_struggle_not_i_dont_know():
    words = answer_scale().statement_words
    assert words.signals("i find it hard to say") == frozenset()
    assert words.signals("hard to say") == frozenset({"unsure"})
    assert interpret(Reply("i find it hard to say", "dont_know", 0.7, tapped=False)) == Clarify("i find it hard to say")
