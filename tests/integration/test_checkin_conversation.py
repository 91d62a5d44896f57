"""Whole check-ins against the real Rasa server and action server, over HTTP, with a real
database: what the young person sees, and what is stored, exactly."""
from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.reports.council import COUNCIL_CONSENT, term_start
from framework import checkin
from framework.db import repository as repo
from framework.db.models import Answer, Pupil, SchoolAction, SurveySession, utcnow
from framework.loader import load_framework
from framework.survey import SurveyPlan
from tests.stack import RasaChat, app_client
from tests.unit.staff_site import CSRF_IN_PAGE, PASSWORD, password_hash

pytestmark = pytest.mark.integration

YORK_CORE = SurveyPlan(load_framework("york"), "children_young_people", "core")


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if m.get("text")]


def customs(messages: list[dict]) -> list[dict]:
    return [m["custom"] for m in messages if m.get("custom")]


def last_buttons(messages: list[dict]) -> list[dict]:
    with_buttons = [m["buttons"] for m in messages if m.get("buttons")]
    return with_buttons[-1] if with_buttons else []


def last_step(messages: list[dict]) -> dict | None:
    """What the bot is now asking: the last question, comment or clarify metadata."""
    asked = [c for c in customs(messages) if c.get("kind") in ("question", "comment", "clarify")]
    return asked[-1] if asked else None


def choose(slot: str, value: str) -> str:
    return "/choose" + json.dumps({slot: value}, separators=(",", ":"))


def start_and_choose(chat, input_mode="tap", question_set="core") -> list[dict]:
    opening = chat.send("/start_checkin")
    said = " ".join(texts(opening))
    assert "no right or wrong answers" in said
    assert "I must tell a grown-up" in said  # honest: safety is always passed on
    assert "tap buttons or type" in texts(opening)[-1]
    assert [b["payload"] for b in last_buttons(opening)] == [choose("input_mode", "tap"), choose("input_mode", "type")]
    assert all(b.get("symbol") for b in last_buttons(opening))
    chat.send(choose("input_mode", input_mode))
    asked = chat.send(choose("read_aloud", "on"))
    if texts(asked)[-1] == "How many questions do you want today?":  # not when staff chose the fewest
        chat.send(choose("question_set", question_set))
    return chat.send(choose("who_with", "with_support"))


def session_of(stack, pupil) -> SurveySession:
    db = stack.sessions()
    return db.get(SurveySession, pupil.session_id), db


def test_a_whole_checkin_by_buttons_only(stack, new_checkin):
    pupil, chat = new_checkin("york", "standard")
    messages = start_and_choose(chat, question_set="core")
    scripted = ["affirm", "sometimes", "deny", "dont_know", "skip", "affirm", "deny"]
    values = {"affirm": "yes", "sometimes": "sometimes", "deny": "no", "dont_know": "dont_know", "skip": "skipped"}
    asked_questions = []
    prompts = []
    for _ in range(len(YORK_CORE.steps)):
        step = last_step(messages)
        if step is None:  # the read-back
            break
        if step["kind"] == "question":
            asked_questions.append(step["statement_id"])
            session, db = session_of(chat.stack, pupil)
            with db:
                assert checkin.progress(db, session).question_number == len(asked_questions)
                assert checkin.progress(db, session).question_total == 7
            messages = chat.send(f"/{scripted[len(asked_questions) - 1]}")
        else:
            prompts.append((step["comment_kind"], step["area_id"]))
            messages = chat.send("/skip")  # "No more"
    assert asked_questions == [st.id for st in YORK_CORE.questions]
    # One comment prompt per area: with nothing more said, "What would help?" is not asked.
    assert prompts == [("anything_else", area.id) for area in YORK_CORE.areas]
    said = texts(messages)
    assert "Here is what you told me." in said and said[-1] == "Is that right?"
    readback = "\n".join(said)
    for statement, intent in zip(YORK_CORE.questions, scripted):
        assert statement.question in readback
    end = chat.send("/affirm")
    assert texts(end)[-1] == "Who can see your answers?"
    end = chat.send(choose("consent", "school_and_family"))
    assert "You have finished. You can close this now." in texts(end)

    session, db = session_of(chat.stack, pupil)
    with db:
        assert (session.input_mode, session.read_aloud, session.question_set, session.who_with) == \
            ("tap", True, "core", "with_support")
        answers = repo.current_answers(db, session)
        assert [(a.statement_id, a.value, a.method, a.words) for a in answers] == [
            (st.id, values[i], "tapped", None) for st, i in zip(YORK_CORE.questions, scripted)
        ]
        assert all(a.read_aloud and a.who_answered == "with_support" for a in answers)
        assert repo.comments_for(db, session) == []
        assert repo.latest_consent(db, session).audiences == ["school_and_family"]
        assert session.status == "finished"


def test_a_whole_checkin_by_typing_with_typos_and_slang(stack, new_checkin):
    pupil, chat = new_checkin("york", "core")
    chat.send("/start_checkin")
    chat.send("i wanna type")
    chat.send("yes pls")
    chat.send("just a few")
    messages = chat.send("on my own")
    typed = ["yh", "nah", "kinda", "idk", "yess", "noo", "sometimes i guess"]
    expected = ["yes", "no", "sometimes", "dont_know", "yes", "no", "sometimes"]
    comment = "my teacher never lisens to me"
    asked = 0
    comments_given = 0
    prompts = []
    for _ in range(len(YORK_CORE.steps)):
        step = last_step(messages)
        if step is None:  # the read-back
            break
        assert step["kind"] != "clarify", chat.readable()
        if step["kind"] == "comment":
            prompts.append(step["comment_kind"])
        if step["kind"] == "question":
            messages = chat.send(typed[asked])
            assert f"You said: {['Yes', 'No', 'Sometimes', 'You did not know'][['yes', 'no', 'sometimes', 'dont_know'].index(expected[asked])]}." in texts(messages)
            asked += 1
        elif comments_given == 0:
            messages = chat.send(comment)
            assert "Thank you. I have kept your words." in texts(messages)
            comments_given += 1
        else:
            messages = chat.send("no")
    assert asked == len(YORK_CORE.questions) and texts(messages)[-1] == "Is that right?"
    # The first area had more to say, so it was asked what would help; the others were not.
    assert prompts == ["anything_else", "what_would_help"] + ["anything_else"] * (len(YORK_CORE.areas) - 1)

    session, db = session_of(chat.stack, pupil)
    with db:
        assert (session.input_mode, session.read_aloud, session.question_set, session.who_with) == \
            ("type", True, "core", "alone")
        answers = repo.current_answers(db, session)
        assert [(a.value, a.method, a.words) for a in answers] == [
            (value, "typed", words) for value, words in zip(expected, typed)
        ]
        assert all(a.confidence is not None and a.confidence >= 0.7 for a in answers)
        [stored] = repo.comments_for(db, session)
        assert stored.text == comment
        assert any(m.statement_id.startswith("york.heard") for m in stored.mappings)


def test_an_unclear_answer_is_asked_back_and_the_words_kept(stack, new_checkin):
    pupil, chat = new_checkin()
    start_and_choose(chat)
    messages = chat.send("my hamster is called biscuit")
    assert "Do you mean yes, sometimes or no?" in texts(messages)
    assert last_step(messages)["kind"] == "clarify"
    assert [b["payload"] for b in last_buttons(messages)] == ["/affirm", "/sometimes", "/deny", "/dont_know", "/skip"]
    chat.send("/sometimes")
    session, db = session_of(chat.stack, pupil)
    with db:
        [answer] = repo.current_answers(db, session)
        assert (answer.value, answer.method, answer.words) == ("sometimes", "clarified", "my hamster is called biscuit")


def test_help_repeat_and_skip_return_to_the_question(stack, new_checkin):
    pupil, chat = new_checkin()
    messages = start_and_choose(chat)
    first = last_step(messages)["statement_id"]
    help_reply = chat.send("help")
    assert "Here it is another way." in texts(help_reply)  # the question said another way
    assert last_step(help_reply)["statement_id"] == first
    again = chat.send("say it again")
    assert "Here it is again." in texts(again)
    assert last_step(again)["statement_id"] == first
    skipped = chat.send("skip this one")
    assert last_step(skipped)["kind"] == "comment"
    session, db = session_of(chat.stack, pupil)
    with db:
        [answer] = repo.current_answers(db, session)
        assert (answer.statement_id, answer.value, answer.words) == (first, "skipped", "skip this one")


def test_a_break_then_resume_at_the_same_question(stack, new_checkin):
    pupil, chat = new_checkin()
    start_and_choose(chat)
    messages = chat.send("/affirm")  # first question
    messages = chat.send("/skip")    # anything else: no more
    waiting = last_step(messages)
    assert waiting["kind"] == "question"
    paused = chat.send("can i have a break")
    assert "Use the same code to carry on later." in texts(paused)
    session, db = session_of(chat.stack, pupil)
    with db:
        assert session.status == "paused"
        invite = session.invite
        resumed = repo.start_or_resume_session(db, invite)
        db.commit()
        assert resumed.resumed and resumed.session.sender_id == pupil.sender_id
    back = chat.send("/start_checkin")
    assert "Welcome back. Let's carry on from where you stopped." in texts(back)
    assert last_step(back)["statement_id"] == waiting["statement_id"]


def test_a_break_at_who_may_see_resumes_there(stack, new_checkin):
    pupil, chat = new_checkin()
    messages = start_and_choose(chat)
    while (step := last_step(messages)) is not None and texts(messages)[-1] != "Is that right?":
        messages = chat.send("/affirm" if step["kind"] == "question" else "/skip")
    assert texts(chat.send("/affirm"))[-1] == "Who can see your answers?"
    assert "Use the same code to carry on later." in texts(chat.send("/take_break"))
    session, db = session_of(chat.stack, pupil)
    with db:
        repo.start_or_resume_session(db, session.invite)
        db.commit()
    back = texts(chat.send("/start_checkin"))
    assert back[0] == "Welcome back. Let's carry on from where you stopped."
    assert back[-1] == "Who can see your answers?" and "Here is what you told me." not in back
    end = chat.send(choose("consent", "school"))
    assert "You have finished. You can close this now." in texts(end)


def test_stop_part_way_keeps_what_was_given(stack, new_checkin):
    pupil, chat = new_checkin()
    start_and_choose(chat)
    chat.send("/deny")
    stopped = chat.send("i want to stop")
    assert texts(stopped) == ["Okay, we will stop now. I have kept your answers.", "Who can see your answers?"]
    end = chat.send(choose("consent", "school"))
    assert texts(end)[-1] == "Bye for now. Thank you for talking to me."
    session, db = session_of(chat.stack, pupil)
    with db:
        assert session.status == "stopped"
        assert [a.value for a in repo.current_answers(db, session)] == ["no"]
        assert repo.latest_consent(db, session).audiences == ["school"]


def test_readback_with_one_answer_changed(stack, new_checkin):
    pupil, chat = new_checkin()
    messages = start_and_choose(chat)
    while (step := last_step(messages)) is not None and texts(messages)[-1] != "Is that right?":
        messages = chat.send("/affirm" if step["kind"] == "question" else "/skip")
    offer = chat.send("/change_answer")
    assert texts(offer)[-1] == "Which answer do you want to change?"
    target = YORK_CORE.questions[3]
    payloads = [b["payload"] for b in last_buttons(offer)]
    assert choose("statement_id", target.id) in payloads and len(payloads) == 7
    asked = chat.send(choose("statement_id", target.id))
    assert last_step(asked)["statement_id"] == target.id
    changed = chat.send("/deny")
    assert "Thank you. I have changed it." in texts(changed)
    assert texts(changed)[-1] == "Is that right?"
    assert f"{target.question} No." in "\n".join(texts(changed))
    session, db = session_of(chat.stack, pupil)
    with db:
        current = {a.statement_id: a.value for a in repo.current_answers(db, session)}
        assert current[target.id] == "no" and list(current.values()).count("yes") == 6
        history = db.scalars(select(Answer).where(Answer.session_id == session.id,
                                                  Answer.statement_id == target.id).order_by(Answer.id)).all()
        assert [(a.value, a.superseded_at is not None) for a in history] == [("yes", True), ("no", False)]


def test_readback_shows_a_comment_with_braces_exactly(stack, new_checkin):
    """Rasa's template filling showed "{lines}" for a comment holding "{" or "0["."""
    pupil, chat = new_checkin()
    words = "my {best} mate says I got 10[out of 10]"
    messages = start_and_choose(chat)
    commented = False
    while (step := last_step(messages)) is not None and texts(messages)[-1] != "Is that right?":
        if step["kind"] == "question":
            messages = chat.send("/affirm")
        elif not commented:
            messages, commented = chat.send(words), True
        else:
            messages = chat.send("/skip")
    readback = "\n".join(texts(messages))
    assert f"You said: \u201c{words}\u201d" in readback, chat.readable()
    assert "{lines}" not in readback


def test_a_comment_that_mentions_being_tired_is_a_comment_not_a_break(stack, new_checkin):
    """At a comment prompt a child's longer words are their comment, even when they sound like
    "take a break" or a question; a short "can i have a break" there still pauses."""
    pupil, chat = new_checkin()
    start_and_choose(chat)
    prompt = chat.send("/affirm")  # first question: the area's comment prompt comes next
    assert last_step(prompt)["kind"] == "comment"
    words = "I get tired in the afternoon"
    after = chat.send(words)
    # Something was said, so the area's second prompt ("What would help?") comes next.
    assert last_step(after)["kind"] == "comment"
    assert last_step(after)["comment_kind"] != last_step(prompt)["comment_kind"]
    session, db = session_of(chat.stack, pupil)
    with db:
        assert session.status != "paused"
        assert [c.text for c in repo.comments_for(db, session)] == [words]
    paused = chat.send("can i have a break")
    assert "Use the same code to carry on later." in texts(paused)


def staff_signed_in(client, email: str) -> str:
    """Signs in through the form; the page's CSRF token for the next form."""
    token = CSRF_IN_PAGE.search(client.get("/staff/login").text)[1]
    assert client.post("/staff/login", data={"csrf_token": token, "email": email, "password": PASSWORD,
                                              "next": "/staff"}).url.path == "/staff"
    return CSRF_IN_PAGE.search(client.get("/staff").text)[1]


def test_you_said_we_did_reaches_the_child_and_their_reply_reaches_the_senco_and_council(stack, new_checkin):
    """A SENCO plans over HTTP for five pupils who said No to feeling safe and marks it done; at
    each pupil's next check-in the bot tells them before the first question and asks "Did that
    help?"; each reply (tapped or typed) is stored, shown to the SENCO and counted for the council."""
    safe = YORK_CORE.questions[0]
    area = YORK_CORE.framework.area_of(safe.id)
    senco, officer = f"senco.{safe.id}@loop.example", f"officer.{safe.id}@loop.example"
    # The council's figures count whole terms only: these check-ins are placed in the last one.
    last_term = term_start(utcnow()) - timedelta(days=10)
    first_checkins = []
    for _ in range(5):
        pupil, _ = new_checkin("york", "core")
        with stack.sessions.begin() as db:
            session = db.get(SurveySession, pupil.session_id)
            session.started_at = last_term - timedelta(days=10)
            repo.save_preferences(db, session, input_mode="tap", read_aloud=False, who_with="alone")
            answer = repo.record_answer(db, session, safe.id, area.id, "no", "tapped")
            repo.record_consent(db, session, [COUNCIL_CONSENT], now=last_term - timedelta(days=9))
            repo.set_status(db, session, "finished")
            if not first_checkins:  # each pupil here gets a school of their own: these share the first one's
                school_id = session.pupil.school_id
                council = repo.create_council(db, f"Council of {safe.id}")
                session.pupil.school.council_id = council.id
                repo.create_staff(db, senco, password_hash(), "senco", session.pupil.school)
                repo.create_staff(db, officer, password_hash(), "la_officer", None, council=council)
            session.pupil.school_id = school_id
            first_checkins.append((session.id, session.pupil_id, answer.id))

    with app_client(stack.settings) as staff:
        token = staff_signed_in(staff, senco)
        for session_id, _, answer_id in first_checkins:
            planned = staff.post(f"/staff/checkins/{session_id}/actions", data={
                "csrf_token": token, "said": f"answer-{answer_id}", "what": "Lunch in the quiet room, with a TA.",
                "who": "Mrs Patel", "due_on": (date.today() + timedelta(days=7)).isoformat(),
                "child_words": "you can eat in the quiet room"})
            assert planned.status_code == 200 and "The plan is saved." in planned.text
            [action_id] = re.findall(rf'/staff/checkins/{session_id}/actions/(\d+)/done', planned.text)
            assert staff.post(f"/staff/checkins/{session_id}/actions/{action_id}/done",
                              data={"csrf_token": token}).status_code == 200

    replies = ["/sometimes", "/affirm", "/deny", "/skip", "yeah"]
    for (session_id, pupil_id, _), reply in zip(first_checkins, replies):
        with stack.sessions.begin() as db:
            invite = repo.create_invite(db, db.get(Pupil, pupil_id), "york", question_set="core")
            chat = RasaChat(stack, repo.start_or_resume_session(db, invite).session.sender_id)
        messages = start_and_choose(chat, input_mode="tap" if reply.startswith("/") else "type")
        said = texts(messages)
        assert said[-4:] == ["Here is what your school did after our last chat.",
                             f"Last time, I asked you this. {safe.question} You said no.",
                             "Now you can eat in the quiet room.", "Did that help?"], chat.readable()
        assert [c.get("symbol") for c in customs(messages) if c.get("kind") == "we_did"] == [area.symbol] * 2
        assert [(b["title"], b["payload"]) for b in last_buttons(messages)] == \
            [("Yes", "/affirm"), ("A bit", "/sometimes"), ("No", "/deny"), ("Skip", "/skip")]
        assert all(b.get("symbol") for b in last_buttons(messages))
        messages = chat.send(reply)
        assert "Thank you for telling me." in texts(messages), chat.readable()
        assert last_step(messages) == {"kind": "question", "statement_id": safe.id, "symbol": safe.symbol}
        chat.send("/affirm")  # the first question's answer is an answer, not a second reply
        with stack.sessions() as db:
            [action] = db.scalars(select(SchoolAction).where(SchoolAction.session_id == session_id))
            [answer] = repo.current_answers(db, db.get(SurveySession, action.told_session_id))
            assert (answer.statement_id, answer.value) == (safe.id, "yes")
            told_checkin = db.get(SurveySession, action.told_session_id)
            told_checkin.started_at = last_term
            repo.record_consent(db, told_checkin, [COUNCIL_CONSENT], now=last_term + timedelta(hours=1))
            db.commit()
        helped = {"/sometimes": ("a_bit", "tapped", None), "/affirm": ("yes", "tapped", None),
                  "/deny": ("no", "tapped", None), "/skip": ("skipped", "tapped", None),
                  "yeah": ("yes", "typed", "yeah")}[reply]
        assert (action.helped, action.helped_method, action.helped_words) == helped

    with app_client(stack.settings) as staff:
        staff_signed_in(staff, senco)
        shown = html.unescape(staff.get(f"/staff/checkins/{first_checkins[0][0]}").text)
        assert "Told to them. They said: It helped a bit" in shown
        staff.cookies.clear()
        staff_signed_in(staff, officer)
        council = staff.get("/staff/council?framework=york").text
        row = re.search(rf'<th scope="row">{re.escape(html.escape(area.title))}</th>(.*?)</tr>',
                        council.split('id="we-did"')[1], re.S)[1]
        # pupils, plans, done, told: 5 each; the replies (2, 1, 1, 1) are each under 5, so hidden
        assert re.findall(r'<td class="number">(\d+)</td>', row) == ["5", "5", "5", "5"]
        assert row.count('class="number hidden-count"') == 4
