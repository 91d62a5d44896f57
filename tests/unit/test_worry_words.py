"""The words after a worry fit who said it. A child hears that a grown-up at school will be
told, and Childline. A parent carer or a partner is an adult: they hear adult words, who will
be told (their child's school's safeguarding lead; for a partner, the officer who invited
them) and adult help (the NSPCC, 999), never the children's helpline. Whether the screen or
the action server's signal noticed it. The words are data (bot/safeguarding/support.yml),
checked when loaded."""
from __future__ import annotations

import pytest

from accessibility.plain_language import ADULTS, problems
from bot.chat.prompts import SUPPORT_FILE, load_support, support
from bot.chat.replies import drafts_from_rasa
from framework.db import repository as repo
from framework.db.models import DEFAULT_PERSPECTIVE, PARENT_CARERS, PARTNERS
from framework.loader import FrameworkError, load_framework
from tests.unit.chat_without_rasa import ChatApp, chat_app  # noqa: F401  (the fixture)

MESSAGES = "/api/sessions/current/messages"
WORRY = "my step dad hurts me"
ADULTS_HELP = ("NSPCC", "0808 800 5000", "999")


def invite(chat_app: ChatApp, perspective: str) -> str:
    """A Shropshire code for one voice: a pupil, their parent carer, or a health partner."""
    with chat_app.sessions.begin() as db:
        if perspective == PARTNERS:
            return repo.create_partner_invite(db, "shropshire", "health", question_set="core").code
        school = repo.create_school(db, "Oak School")
        repo.create_staff(db, "dsl@oak.example", "not-a-login", "dsl", school)
        pupil = repo.create_pupil(db, school, "Sam Smith", year_group="Year 6")
        return repo.create_invite(db, pupil, "shropshire", perspective=perspective, question_set="core").code


def worry_reply(chat_app: ChatApp, perspective: str) -> list[dict]:
    auth = chat_app.start(invite(chat_app, perspective))
    reply = chat_app.client.post(MESSAGES, json={"text": WORRY}, headers=auth)
    assert reply.status_code == 200, reply.text
    return reply.json()["messages"]


@pytest.mark.parametrize("perspective,told", [
    (PARENT_CARERS, "the person at your child's school who keeps children safe"),
    (PARTNERS, "the council officer who invited you"),
])
def test_an_adults_worry_gets_adult_words_and_adult_help(chat_app: ChatApp, perspective, told):
    messages = worry_reply(chat_app, perspective)
    said = [m["text"] for m in messages]
    assert said == list(support(perspective).messages)
    words = " ".join(said)
    assert all(help_ in words for help_ in ADULTS_HELP) and told in words
    assert "Childline" not in words and "grown-up" not in words
    assert {m["kind"] for m in messages} == {"safeguarding"}
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/carry_on", "/stop"]
    assert all(problems(text, ADULTS) == [] for text in said)


def test_a_childs_worry_still_gets_the_childrens_words(chat_app: ChatApp):
    said = [m["text"] for m in worry_reply(chat_app, DEFAULT_PERSPECTIVE)]
    assert said == list(support(DEFAULT_PERSPECTIVE).messages)
    assert "Childline" in " ".join(said) and "NSPCC" not in " ".join(said)


@pytest.mark.parametrize("perspective", [PARENT_CARERS, PARTNERS])
def test_the_action_servers_signal_in_an_adults_checkin_gets_the_adults_words(perspective):
    elements = [{"recipient_id": "0f3c", "custom": {"kind": "safeguarding"}}]
    drafts = drafts_from_rasa(elements, load_framework("shropshire"), perspective)
    assert [d.text for d in drafts] == list(support(perspective).messages)


def test_the_support_words_are_checked_when_loaded(tmp_path):
    text = SUPPORT_FILE.read_text(encoding="utf-8")
    hard = tmp_path / "support.yml"
    hard.write_text(text.replace('"If someone is in danger right now, call 999."',
                                 '"Notwithstanding the aforementioned, telephone emergency services immediately."', 1),
                    encoding="utf-8")
    with pytest.raises(FrameworkError) as refused:
        load_support(hard)
    assert "support.yml:" in str(refused.value) and "aforementioned" in str(refused.value)

    without_partners = tmp_path / "partial.yml"
    without_partners.write_text(text[:text.index("  # A partner's check-in")], encoding="utf-8")
    with pytest.raises(FrameworkError, match="needs words for partners"):
        load_support(without_partners)
