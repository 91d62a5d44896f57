"""The check-in conversation logic, without Rasa: what is stored and what is said."""
from __future__ import annotations

import pytest

from framework import checkin, comment_cards
from framework.answers import Reply, answer_scale
from framework.db import repository as repo
from framework.loader import load_framework
from framework.survey import SurveyPlan


def tapped(intent: str) -> Reply:
    return Reply(text=f"/{intent}", intent=intent, confidence=1.0, tapped=True)


def typed(text: str, intent: str | None, confidence: float) -> Reply:
    return Reply(text=text, intent=intent, confidence=confidence, tapped=False)


@pytest.fixture
def session(db):
    school = repo.create_school(db, "Test School")
    pupil = repo.create_pupil(db, school, "Pupil", year_group="Year 6")
    invite = repo.create_invite(db, pupil, "york", question_set="standard")
    return repo.start_or_resume_session(db, invite).session


def prefer(db, session, question_set="core"):
    checkin.save_preferences(db, session, input_mode="tap", read_aloud=True, question_set=question_set,
                             who_with="with_support")


def test_a_new_checkin_opens_honestly_then_asks_preferences(db, session):
    assert checkin.stage(db, session) == "preferences"
    said = [s.response for s in checkin.opening(db, session)]
    assert "utter_opening_who_sees" in said and "utter_opening_safety" in said


def test_preferences_are_stored_and_the_first_question_is_asked(db, session):
    prefer(db, session)
    assert (session.input_mode, session.read_aloud, session.question_set, session.who_with) == \
        ("tap", True, "core", "with_support")
    assert checkin.stage(db, session) == "survey"
    says = checkin.ask_current(db, session)
    first = load_framework("york").questions("children_young_people", "core")[0]
    question = next(s for s in says if s.response == "utter_question")
    assert question.fill["question"] == first.question
    assert [b["payload"] for b in question.buttons] == ["/affirm", "/sometimes", "/deny", "/dont_know", "/skip"]
    assert all(b["symbol"] and b["title"] for b in question.buttons)
    assert checkin.progress(db, session).question_number == 1
    assert checkin.progress(db, session).question_total == 7
    # the area is introduced before its first question
    assert says[0].response == "utter_area_intro"


def test_a_tapped_answer_is_stored_with_its_provenance(db, session):
    prefer(db, session)
    first = session.position
    outcome = checkin.handle_reply(db, session, tapped("sometimes"))
    assert outcome.clarifying is None and not outcome.done
    [answer] = repo.current_answers(db, session)
    assert (answer.value, answer.method, answer.words, answer.read_aloud, answer.who_answered) == \
        ("sometimes", "tapped", None, True, "with_support")
    assert session.position != first


def test_a_confident_typed_answer_keeps_the_exact_words_and_is_said_back(db, session):
    prefer(db, session)
    outcome = checkin.handle_reply(db, session, typed("yh mostly lol", "affirm", 0.93))
    [answer] = repo.current_answers(db, session)
    assert (answer.value, answer.method, answer.words, answer.confidence) == ("yes", "typed", "yh mostly lol", 0.93)
    assert outcome.says[0].response == "utter_you_said" and outcome.says[0].fill["answer"] == "Yes"


def test_an_unsure_reply_is_asked_back_never_guessed(db, session):
    prefer(db, session)
    position = session.position
    outcome = checkin.handle_reply(db, session, typed("at school yes but not at home", "affirm", 0.41))
    assert outcome.clarifying == "at school yes but not at home"
    assert repo.current_answers(db, session) == []
    assert session.position == position
    ask = checkin.ask_current(db, session, clarifying=outcome.clarifying)
    assert ask[0].response == "utter_clarify" and len(ask[0].buttons) == 5
    # the tap that settles it is stored with the first words, marked clarified
    checkin.handle_reply(db, session, tapped("sometimes"), clarifying=outcome.clarifying)
    [answer] = repo.current_answers(db, session)
    assert (answer.value, answer.method, answer.words) == ("sometimes", "clarified", "at school yes but not at home")


def test_gibberish_is_kept_while_asking_back(db, session):
    prefer(db, session)
    outcome = checkin.handle_reply(db, session, typed("asdfgh", "nlu_fallback", 0.2))
    assert outcome.clarifying == "asdfgh"
    outcome = checkin.handle_reply(db, session, typed("hola", "out_of_scope", 0.8), clarifying=outcome.clarifying)
    assert outcome.clarifying == "asdfgh / hola"


def test_comments_are_kept_word_for_word_and_mapped(db, session):
    prefer(db, session)
    plan = SurveyPlan(load_framework("york"), "children_young_people", "core")
    checkin.handle_reply(db, session, tapped("affirm"))  # the area's only core question
    assert session.position == f"anything_else:{plan.areas[0].id}"
    words = "Sometimes kids pick on me at break and I feel scared"
    checkin.handle_reply(db, session, typed(words, "out_of_scope", 0.5))
    [comment] = repo.comments_for(db, session)
    assert comment.text == words and comment.kind == "anything_else"
    assert comment.mappings and comment.mappings[0].area_id == plan.areas[0].id
    # "what would help" can be skipped with a tap
    checkin.handle_reply(db, session, tapped("skip"))
    assert len(repo.comments_for(db, session)) == 1
    assert session.position == f"question:{plan.questions[1].id}"


def test_no_more_at_the_first_comment_prompt_skips_the_second(db, session):
    prefer(db, session)
    plan = SurveyPlan(load_framework("york"), "children_young_people", "core")
    checkin.handle_reply(db, session, tapped("affirm"))
    prompt = checkin.ask_current(db, session)[-1]
    assert [b["title"] for b in prompt.buttons] == ["No more"]
    assert prompt.buttons[0]["payload"] == "/skip"
    checkin.handle_reply(db, session, tapped("skip"))
    assert session.position == f"question:{plan.questions[1].id}"
    assert repo.comments_for(db, session) == []


def cards_reply(*card_ids: str) -> Reply:
    return Reply(text=comment_cards.payload(list(card_ids)), intent="comment_cards", confidence=1.0, tapped=True)


def test_chosen_cards_are_kept_as_one_mapped_comment_then_the_second_prompt_is_asked(db, session):
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("affirm"))
    board = checkin.ask_current(db, session)[-1].custom["board"]
    shown = [card["id"] for card in board["cards"]]
    assert {"people_kind", "too_noisy", "like_it", "need_help"} <= set(shown)
    assert board["send"]["words"] == "Send my cards" and board["own_way"]["words"] == "Say it my own way"
    outcome = checkin.handle_reply(db, session, cards_reply("too_noisy", "need_help"))
    assert [s.response for s in outcome.says] == ["utter_cards_kept"]
    [comment] = repo.comments_for(db, session)
    assert comment.cards == ["too noisy", "I need more help"]
    assert comment.text == "too noisy; I need more help"
    assert comment.mappings == [] or all(m.area_id.startswith("york.") for m in comment.mappings)
    # there was more to say, so "What would help?" comes next, with its own cards
    assert session.position.startswith("what_would_help:")
    helping = checkin.ask_current(db, session)[-1].custom["board"]
    assert "quiet_place" in [card["id"] for card in helping["cards"]]
    checkin.handle_reply(db, session, cards_reply("quiet_place"))
    assert session.position.startswith("question:")
    answer_everything(db, session)
    lines = "\n".join(s.text for s in checkin.read_back(db, session) if (s.custom or {}).get("kind") == "readback_area")
    assert "You chose: too noisy, I need more help." in lines and "You chose: a quiet place." in lines


def test_cards_sent_to_a_question_are_not_an_answer(db, session):
    prefer(db, session)
    question = session.position
    outcome = checkin.handle_reply(db, session, cards_reply("like_it"))
    assert outcome.says == [] and outcome.clarifying is None and session.position == question
    assert repo.current_answers(db, session) == [] and repo.comments_for(db, session) == []


def answer_everything(db, session, intent="affirm"):
    while session.position is not None:
        checkin.handle_reply(db, session, tapped(intent if session.position.startswith("question:") else "skip"))


def test_after_the_last_step_the_readback_says_every_answer(db, session):
    prefer(db, session)
    answer_everything(db, session)
    assert checkin.stage(db, session) == "readback"
    says = checkin.read_back(db, session)
    lines = "\n".join(s.text for s in says if (s.custom or {}).get("kind") == "readback_area")
    for statement in SurveyPlan(load_framework("york"), "children_young_people", "core").questions:
        assert f"{statement.question} Yes." in lines
    assert [b["payload"] for b in says[-1].buttons] == ["/affirm", "/change_answer"]
    # Line by line, each with the symbol of its answer.
    areas = [s for s in says if (s.custom or {}).get("kind") == "readback_area"]
    assert len(areas) == 7
    assert all("\n".join(line["text"] for line in s.custom["lines"]) == s.text for s in areas)
    assert {line["symbol"] for s in areas for line in s.custom["lines"]} == {answer_scale().by_value("yes").symbol}
    # An answer's line changes it in one tap: the same payload as choosing it after "Change an answer".
    first = SurveyPlan(load_framework("york"), "children_young_people", "core").questions[0]
    assert areas[0].custom["lines"][0]["change"] == checkin.change_options(db, session)[0].buttons[0]["payload"]
    assert first.id in areas[0].custom["lines"][0]["change"]


def test_the_readback_gives_a_childs_words_as_plain_text_never_through_rasas_template_filling(db, session):
    """Rasa fills a response's {names} with str.format and its own markers: a comment holding "{"
    or "0[" came back as "{lines}". So the child's words travel as text, never as a fill-in."""
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("affirm"))
    words = "my {best} mate says I got 10[out of 10] {0[lines]}"
    checkin.handle_reply(db, session, typed(words, "out_of_scope", 0.5))
    answer_everything(db, session)
    says = checkin.read_back(db, session)
    [area] = [s for s in says if words in (s.text or "")]
    assert area.response is None and area.fill == {}
    assert f"You said: \u201c{words}\u201d" in area.text.splitlines()
    assert not any(words in str(s.fill) for s in says)


def test_one_answer_changed_at_readback_keeps_the_original(db, session):
    prefer(db, session)
    answer_everything(db, session)
    target = SurveyPlan(load_framework("york"), "children_young_people", "core").questions[2]
    options = checkin.change_options(db, session)[0].buttons
    assert len(options) == 7 and target.id in options[2]["payload"]
    assert checkin.begin_change(db, session, target.id)
    outcome = checkin.handle_reply(db, session, tapped("deny"), changing=True)
    assert outcome.done and session.position is None
    current = {a.statement_id: a.value for a in repo.current_answers(db, session)}
    assert current[target.id] == "no" and list(current.values()).count("yes") == 6
    assert not checkin.begin_change(db, session, "york.not_a_statement")


def test_a_break_after_the_readback_was_right_resumes_at_consent(db, session):
    prefer(db, session)
    answer_everything(db, session)
    checkin.confirm_readback(db, session)
    assert checkin.stage(db, session) == "consent"
    checkin.take_break(db, session)
    resumed = repo.start_or_resume_session(db, session.invite).session
    assert [s.response for s in checkin.opening(db, resumed)] == ["utter_welcome_back"]
    assert checkin.stage(db, resumed) == "consent"


def test_consent_is_stored_and_the_checkin_finishes(db, session):
    prefer(db, session)
    answer_everything(db, session)
    says = checkin.save_consent(db, session, "school_and_family")
    assert repo.latest_consent(db, session).audiences == ["school_and_family"]
    assert session.status == "finished" and checkin.stage(db, session) == "finished"
    assert says[-1].custom == {"kind": "end"}


def test_a_break_resumes_at_the_same_step(db, session):
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("affirm"))
    position = session.position
    checkin.take_break(db, session)
    assert session.status == "paused"
    invite = session.invite
    resumed = repo.start_or_resume_session(db, invite)
    assert resumed.resumed and resumed.session.id == session.id
    assert [s.response for s in checkin.opening(db, resumed.session)] == ["utter_welcome_back"]
    assert checkin.stage(db, resumed.session) == "survey" and resumed.session.position == position


def test_stop_keeps_what_was_given_and_asks_who_may_see_it_first(db, session):
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("deny"))
    says = checkin.stop(db, session)
    assert [s.response for s in says] == ["utter_stop"] and not any(s.custom for s in says)  # not the end yet
    assert checkin.stage(db, session) == "consent" and session.status == "active"
    ending = checkin.save_consent(db, session, "school_and_family")
    assert [s.response for s in ending] == ["utter_consent_safety", "utter_goodbye"]
    assert ending[-1].custom == {"kind": "stopped"}
    assert session.status == "stopped" and repo.latest_consent(db, session).audiences == ["school_and_family"]
    assert [a.value for a in repo.current_answers(db, session)] == ["no"]


def test_a_child_who_leaves_at_who_may_see_after_stop_is_asked_it_again_on_return(db, session):
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("deny"))
    checkin.stop(db, session)
    resumed = repo.start_or_resume_session(db, session.invite)
    assert resumed.resumed and checkin.stage(db, resumed.session) == "consent"
    assert repo.latest_consent(db, session) is None  # meanwhile: only the school, the most private


def test_stop_at_who_may_see_ends_with_the_most_private_choice(db, session):
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("deny"))
    checkin.stop(db, session)
    says = checkin.stop(db, session)  # "stop" again, at "Who can see your answers?"
    assert [s.response for s in says] == ["utter_stop_school_only", "utter_goodbye"]
    assert says[-1].custom == {"kind": "stopped"}
    assert session.status == "stopped" and repo.latest_consent(db, session) is None


def test_stop_with_nothing_given_ends_at_once(db, session):
    says = checkin.stop(db, session)
    assert [s.response for s in says] == ["utter_stop", "utter_goodbye"] and session.status == "stopped"


@pytest.mark.parametrize(("invited", "offered"), [
    ("full", ["full", "standard", "core"]), ("standard", ["standard", "core"]), ("core", ["core"]),
])
def test_the_question_sets_offered_start_with_staffs_and_are_never_longer(db, invited, offered):
    school = repo.create_school(db, "Sets School")
    invite = repo.create_invite(db, repo.create_pupil(db, school, "Pupil"), "york", question_set=invited)
    session = repo.start_or_resume_session(db, invite).session
    assert checkin.question_sets_offered(session) == offered
    checkin.save_preferences(db, session, input_mode="tap", read_aloud=False, question_set="full", who_with="alone")
    assert session.question_set == invited  # asking for more keeps staff's
    checkin.save_preferences(db, session, input_mode="tap", read_aloud=False, question_set=None, who_with="alone")
    assert session.question_set == invited  # not asked: staff's
    checkin.save_preferences(db, session, input_mode="tap", read_aloud=False, question_set="core", who_with="alone")
    assert session.question_set == "core"  # fewer is always allowed


def test_a_stray_button_at_a_comment_prompt_is_not_kept_as_words(db, session):
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("affirm"))
    prompt = session.position
    assert prompt.startswith("anything_else:")
    outcome = checkin.handle_reply(db, session, tapped("start_checkin"))
    assert outcome.says == [] and not outcome.done
    assert session.position == prompt and repo.comments_for(db, session) == []


def test_help_at_a_question_says_it_another_way_with_an_example(db, session):
    prefer(db, session)
    statement = checkin.plan_for(session).questions[0]
    says = checkin.explain_current(db, session)
    assert [s.response for s in says] == ["utter_another_way", None, None]
    assert [s.text for s in says[1:]] == [statement.reworded, statement.example]
    assert session.position == f"question:{statement.id}"  # the same question is asked again


def test_help_anywhere_else_says_how_to_answer(db, session):
    assert [s.response for s in checkin.explain_current(db, session)] == ["utter_help", "utter_help_more"]
    prefer(db, session)
    checkin.handle_reply(db, session, tapped("affirm"))
    assert not checkin.plan_for(session).step(session.position).is_question
    assert [s.response for s in checkin.explain_current(db, session)] == ["utter_help", "utter_help_more"]
