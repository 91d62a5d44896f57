"""The questions a young person asks about what happens to their words: after a worry,
honest and specific answers with the carry-on or stop choice; before, plain ones."""
from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from framework import checkin, followups
from framework.conversation import FOLLOW_UPS
from framework.db import repository as repo
from framework.settings import PROJECT_ROOT

SECRET = ("secret", "won't tell", "will not tell", "wont tell", "just between us")


@pytest.fixture
def session(db):
    school = repo.create_school(db, "Follow-up School")
    invite = repo.create_invite(db, repo.create_pupil(db, school, "Pupil"), "york", question_set="core")
    session = repo.start_or_resume_session(db, invite).session
    checkin.save_preferences(db, session, input_mode="type", read_aloud=False, question_set="core", who_with="alone")
    return session


def responses(answer: followups.FollowUp) -> list[str]:
    return [say.response for say in answer.says]


@pytest.mark.parametrize("intent", FOLLOW_UPS)
def test_after_a_worry_each_question_gets_its_own_answer_then_carry_on_or_stop(db, session, intent):
    repo.raise_alert(db, session, "my step dad hurts me", ["abuse"], ["hurts me"], "screen")
    answer = followups.answer(db, session, intent)
    assert answer.on_hold
    assert responses(answer) == [*followups.AFTER_A_WORRY[intent], "utter_carry_on_or_stop"]
    assert [b["payload"] for b in answer.says[-1].buttons] == ["/carry_on", "/stop"]


def test_the_answers_after_a_worry_are_all_different():
    assert len({names for names in followups.AFTER_A_WORRY.values()}) == len(FOLLOW_UPS)


def test_no_answer_promises_secrecy_and_one_says_it_cannot_be_secret():
    texts = YAML(typ="safe").load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    said = {name: texts[name][0]["text"].lower() for names in followups.AFTER_A_WORRY.values() for name in names}
    assert "cannot keep this a secret" in said["utter_told_after_worry"]
    assert "0800 1111" in said["utter_person_childline"] and "trust" in said["utter_person_trusted"]
    for name, text in said.items():
        if name != "utter_told_after_worry":
            assert not any(word in text for word in SECRET), name


def test_before_any_worry_the_check_in_goes_on(db, session):
    told = followups.answer(db, session, "who_is_told")
    assert not told.on_hold and responses(told) == ["utter_opening_who_sees", "utter_opening_safety"]
    person = followups.answer(db, session, "talk_to_person")
    assert not person.on_hold and "utter_person_childline" in responses(person)
    # "what happens now" at a question: the question said another way
    assert responses(followups.answer(db, session, "what_happens_now"))[0] == "utter_another_way"
