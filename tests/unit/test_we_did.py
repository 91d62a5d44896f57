""""You said, we did" in the check-in, without Rasa: a done item is told before the first question,
one at a time, in plain words with its area's symbol; "Did that help?" is asked with a symbol
and a word on every button and the reply is stored; an item is told once, only to the same
perspective, and never says a child's typed words back."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from accessibility.plain_language import problems
from bot.reports.we_did import child_sentence_problem
from framework import checkin, we_did
from framework.answers import Reply
from framework.db import repository as repo
from framework.db.models import SchoolAction, utcnow
from framework.loader import FrameworkError, load_framework

YORK = load_framework("york")
CORE = YORK.questions("children_young_people", "core")
SAFE = CORE[0]  # york.safe.cyp1, the first question of the core set
SAFE_AREA = YORK.area_of(SAFE.id)
QUIET_ROOM = "you can eat in the quiet room"


def tapped(intent: str) -> Reply:
    return Reply(text=f"/{intent}", intent=intent, confidence=1.0, tapped=True)


def typed(text: str, intent: str | None, confidence: float) -> Reply:
    return Reply(text=text, intent=intent, confidence=confidence, tapped=False)


@pytest.fixture
def school(db):
    school = repo.create_school(db, "Test School")
    return school, repo.create_pupil(db, school, "Pupil", year_group="Year 6"), \
        repo.create_staff(db, "senco@school.example", "not-a-login", "senco", school)


def new_checkin(db, pupil, perspective="children_young_people", days_ago=0):
    invite = repo.create_invite(db, pupil, "york", question_set="core")
    invite.perspective = perspective
    session = repo.start_or_resume_session(db, invite).session
    session.started_at = utcnow() - timedelta(days=days_ago)
    return session


def finished_checkin(db, pupil, answers: dict[str, str], comments=(), days_ago=30):
    session = new_checkin(db, pupil, days_ago=days_ago)
    repo.save_preferences(db, session, input_mode="tap", read_aloud=False, who_with="alone")
    for statement_id, value in answers.items():
        repo.record_answer(db, session, statement_id, YORK.area_of(statement_id).id, value, "tapped")
    made = [repo.record_comment(db, session, area_id, kind, text, cards=cards) for area_id, kind, text, cards in comments]
    repo.set_status(db, session, "finished")
    return session, made


def plan_about(db, staff, session, *, answer=None, comment=None, done=True, words=QUIET_ROOM):
    action = we_did.record(db, staff, session, answer=answer, comment=comment, what="Lunch in the quiet room",
                           who="Mrs Patel", due_on=date.today() + timedelta(days=7), child_words=words)
    if done:
        we_did.mark_done(db, action, staff)
    return action


def start_questions(db, session):
    return checkin.save_preferences(db, session, input_mode="tap", read_aloud=True, question_set="core",
                                    who_with="alone")


def test_a_done_item_is_told_before_the_first_question_and_the_reply_is_stored(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {SAFE.id: "no"})
    action = plan_about(db, staff, before, answer=repo.current_answers(db, before)[0])
    now = new_checkin(db, pupil)
    start_questions(db, now)

    says = checkin.ask_current(db, now)
    assert [s.text for s in says] == [
        "Here is what your school did after our last chat.",
        f"Last time, I asked you this. {SAFE.question} You said no.",
        "Now you can eat in the quiet room.",
        "Did that help?",
    ]
    assert all(s.custom["symbol"] == SAFE_AREA.symbol for s in says[1:3])
    assert [(b["title"], b["payload"]) for b in says[-1].buttons] == \
        [("Yes", "/affirm"), ("A bit", "/sometimes"), ("No", "/deny"), ("Skip", "/skip")]
    assert all(b["symbol"] for b in says[-1].buttons)
    for say in says:
        assert problems(say.text) == [], say.text
    assert action.told_session_id == now.id and action.told_at is not None

    outcome = checkin.handle_reply(db, now, tapped("sometimes"))
    assert [s.text for s in outcome.says] == ["Thank you for telling me."] and not outcome.done
    assert (action.helped, action.helped_method, action.helped_words) == ("a_bit", "tapped", None)
    assert repo.current_answers(db, now) == []  # the reply is not an answer to the first question
    asked = checkin.ask_current(db, now)
    assert [s.response for s in asked] == ["utter_area_intro", "utter_question"]
    assert asked[1].custom["statement_id"] == SAFE.id


def test_items_are_told_one_at_a_time_at_most_three_and_each_only_once(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {q.id: "no" for q in CORE})
    answers = repo.current_answers(db, before)
    actions = [plan_about(db, staff, before, answer=a, words=f"we did thing {i}") for i, a in enumerate(answers[:4])]
    plan_about(db, staff, before, answer=answers[4], done=False)  # planned, not done: not told
    now = new_checkin(db, pupil, days_ago=1)
    start_questions(db, now)
    heard = []
    for _ in range(3):
        says = checkin.ask_current(db, now)
        heard.append(next(s.text for s in says if s.text.startswith("Now ")))
        checkin.handle_reply(db, now, tapped("affirm"))
    assert heard == ["Now we did thing 0.", "Now we did thing 1.", "Now we did thing 2."]
    assert checkin.ask_current(db, now)[-1].response == "utter_question"
    assert [a.helped for a in actions] == ["yes", "yes", "yes", None]

    later = new_checkin(db, pupil)
    start_questions(db, later)
    says = checkin.ask_current(db, later)
    assert [s.text for s in says if s.text and s.text.startswith("Now ")] == ["Now we did thing 3."]
    checkin.handle_reply(db, later, tapped("skip"))
    assert actions[3].helped == "skipped" and actions[3].told_session_id == later.id
    assert checkin.ask_current(db, later)[-1].response == "utter_question"


def test_an_item_left_without_a_reply_is_told_again_at_the_next_checkin(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {SAFE.id: "no"}, days_ago=30)
    action = plan_about(db, staff, before, answer=repo.current_answers(db, before)[0])
    left = new_checkin(db, pupil, days_ago=2)
    start_questions(db, left)
    checkin.ask_current(db, left)
    checkin.stop(db, left)  # "stop", before answering "Did that help?"
    later = new_checkin(db, pupil)
    start_questions(db, later)
    says = checkin.ask_current(db, later)
    assert says[0].text == "Here is what your school did after our last chat." and action.told_session_id == later.id
    checkin.handle_reply(db, later, tapped("affirm"))
    assert action.helped == "yes"


def test_an_item_is_told_only_to_the_same_perspective(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {SAFE.id: "no"})
    action = plan_about(db, staff, before, answer=repo.current_answers(db, before)[0])
    parent = new_checkin(db, pupil, perspective="parent_carers")
    we_did.keep_for(db, parent)
    assert action.told_session_id is None
    child = new_checkin(db, pupil)
    we_did.keep_for(db, child)
    assert action.told_session_id == child.id


def test_unclear_typed_words_ask_again_and_are_kept_with_the_reply(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {SAFE.id: "no"})
    action = plan_about(db, staff, before, answer=repo.current_answers(db, before)[0])
    now = new_checkin(db, pupil)
    start_questions(db, now)
    checkin.ask_current(db, now)
    outcome = checkin.handle_reply(db, now, typed("idk really", "dont_know", 0.9))
    assert outcome.clarifying == "idk really" and action.helped is None
    [check] = checkin.ask_current(db, now, clarifying=outcome.clarifying)
    assert check.text == "Did it help? Tap yes, a bit or no." and len(check.buttons) == 4
    checkin.handle_reply(db, now, tapped("deny"), clarifying=outcome.clarifying)
    assert (action.helped, action.helped_method, action.helped_words) == ("no", "clarified", "idk really")


def test_help_at_an_item_says_how_to_answer_not_the_first_question(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {SAFE.id: "no"})
    plan_about(db, staff, before, answer=repo.current_answers(db, before)[0])
    now = new_checkin(db, pupil)
    start_questions(db, now)
    checkin.ask_current(db, now)
    assert [s.response for s in checkin.explain_current(db, now)] == ["utter_help", "utter_help_more"]


def test_a_comment_is_recalled_by_its_prompt_and_cards_never_by_typed_words(db, school):
    _, pupil, staff = school
    secret = "my nan is poorly and lunch is loud"
    before, (typed_comment, cards_comment) = finished_checkin(db, pupil, {}, comments=(
        (SAFE_AREA.id, "what_would_help", secret, None),
        (SAFE_AREA.id, "anything_else", "too noisy", ["too noisy"]),
    ))
    plan_about(db, staff, before, comment=typed_comment)
    plan_about(db, staff, before, comment=cards_comment)
    now = new_checkin(db, pupil)
    start_questions(db, now)
    prompts = SAFE_AREA.prompts["children_young_people"]
    first = checkin.ask_current(db, now)
    assert first[1].text == f"Last time, I asked you this. {prompts.what_would_help} You told me what you think."
    assert all(secret not in (s.text or "") for s in first)
    checkin.handle_reply(db, now, tapped("affirm"))
    second = checkin.ask_current(db, now)
    assert second[0].text == f"Last time, I asked you this. {prompts.anything_else} Your cards said: too noisy."


@pytest.mark.parametrize("typed,expected", [
    ("you can eat in the quiet room", None),
    ("Now you can eat in the quiet room.", None),  # "Now" and the full stop are the bot's
    ("", "Please write what the young person will hear"),
    ("you can eat in the quiet room. Mrs Patel will help", "one sentence"),
    ("you can eat your lunch in the quiet room with your friends every single day of the week",
     "words. Young people read 12 or fewer best"),
    ("the designated practitioner will facilitate differentiated provision", "may be hard for a young reader"),
])
def test_the_sentence_a_child_hears_is_checked_kindly(typed, expected):
    problem = child_sentence_problem(typed)
    assert (problem is None) if expected is None else (expected in problem), problem


def test_the_words_file_is_checked_when_loaded(tmp_path):
    bad = tmp_path / "we_did.yml"
    text = we_did.WORDS_FILE.read_text(encoding="utf-8").replace('label: "A bit"', 'label: "A modicum"')
    bad.write_text(text.replace('did_it_help: "Did that help?"', 'did_it_help: "Was the intervention beneficial?"'),
                   encoding="utf-8")
    with pytest.raises(FrameworkError) as refused:
        we_did.load_words(bad)
    assert "we_did.yml:" in str(refused.value) and "modicum" in str(refused.value)
    assert "intervention" in str(refused.value)


def test_erasing_the_checkin_an_item_is_about_erases_the_item(db, school):
    _, pupil, staff = school
    before, _ = finished_checkin(db, pupil, {SAFE.id: "no"})
    plan_about(db, staff, before, answer=repo.current_answers(db, before)[0])
    repo.delete_pupil_data(db, pupil)
    assert db.query(SchoolAction).count() == 0
