"""The questions a young person asks about what happens to their words: after a worry,
honest and specific answers with the carry-on or stop choice; before, plain ones. An adult who
raised a worry gets adult words about the adults who are told."""
from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from framework import checkin, followups
from framework.conversation import FOLLOW_UPS
from framework.db import repository as repo
from framework.db.models import PARTNERS, PERSPECTIVES
from framework.loader import FrameworkError, load_yaml_model
from framework.schema import CHILDREN
from framework.settings import PROJECT_ROOT

SECRET = ("secret", "won't tell", "will not tell", "wont tell", "just between us")


def start(db, framework_id: str = "york", perspective: str = CHILDREN):
    if perspective == PARTNERS:
        invite = repo.create_partner_invite(db, framework_id, "health", question_set="core")
    else:
        school = repo.create_school(db, "Follow-up School")
        invite = repo.create_invite(db, repo.create_pupil(db, school, "Pupil"), framework_id, question_set="core",
                                    perspective=perspective)
    session = repo.start_or_resume_session(db, invite).session
    checkin.save_preferences(db, session, input_mode="type", read_aloud=False, question_set="core", who_with="alone")
    return session


@pytest.fixture
def session(db):
    return start(db)


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


ADULT_WORDS = {"parent_carers": ("your child's school", "NSPCC"), "partners": ("council officer", "NSPCC")}


@pytest.mark.parametrize("perspective", sorted(ADULT_WORDS))
def test_an_adult_after_their_worry_gets_adult_words_about_the_adults_told(db, perspective):
    session = start(db, "shropshire", perspective)
    repo.raise_alert(db, session, "i think my neighbour's child is being hurt", [], [], "intent")
    said = {}
    for intent in FOLLOW_UPS:
        answer = followups.answer(db, session, intent)
        assert answer.on_hold and answer.says[-1].response == "utter_carry_on_or_stop"
        assert all(say.response is None and say.text for say in answer.says[:-1])  # no child's wording
        said[intent] = " ".join(say.text for say in answer.says[:-1])
    where, helpline = ADULT_WORDS[perspective]
    assert where in said["who_is_told"] and where in said["what_happens_now"] and helpline in said["talk_to_person"]
    everything = " ".join(said.values()).lower()
    assert "grown-up" not in everything and "childline" not in everything
    assert "cannot keep this private" in said["who_is_told"]
    assert not any(word in everything for word in SECRET)


def test_every_adult_perspective_has_follow_up_words_and_children_have_none():
    assert set(followups.adult_follow_ups().by_perspective) == set(PERSPECTIVES) - {CHILDREN} == set(ADULT_WORDS)


def test_adult_follow_up_words_missing_a_question_are_refused(tmp_path):
    bad = tmp_path / "worry_follow_ups.yml"
    bad.write_text("by_perspective:\n  partners:\n    who_is_told: [\"I will pass it on.\"]\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match="what_happens_now"):
        load_yaml_model(bad, followups.AdultFollowUps)
