"""The chat API's contract, through FastAPI's TestClient against the real Rasa stack.

Rasa is out of the picture only where a test is about Rasa being down: then the app is
pointed at a closed port (the same database, so the real stack can pick the chat up).
"""
from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from accessibility.plain_language import problems
from bot.chat import texts
from bot.chat.limits import SlidingWindow
from bot.chat.prompts import domain_text, support
from bot.chat.replies import drafts_from_rasa, support_drafts
from bot.reports.voice import checkin_summary
from framework.db import repository as repo
from framework.db.models import SurveySession, TranscriptMessage, utcnow
from framework.loader import load_framework
from tests.stack import app_client, free_port

MESSAGES = "/api/sessions/current/messages"


def start(client, code: str) -> tuple[dict, dict]:
    response = client.post("/api/sessions", json={"invite_code": code})
    assert response.status_code == 201, response.text
    body = response.json()
    return body, {"Authorization": f"Bearer {body['token']}"}


def send(client, auth: dict, text, client_message_id: str | None = None):
    return client.post(MESSAGES, json={"text": text, "client_message_id": client_message_id}, headers=auth)


def incoming(stack, token_header: dict) -> list[TranscriptMessage]:
    """The check-in's stored incoming messages, oldest first."""
    from framework.db.repository import hash_token

    token = token_header["Authorization"].removeprefix("Bearer ")
    with stack.sessions() as db:
        session = db.scalar(select(SurveySession).where(SurveySession.token_hash == hash_token(token)))
        return list(db.scalars(select(TranscriptMessage).where(
            TranscriptMessage.session_id == session.id, TranscriptMessage.direction == "in").order_by(TranscriptMessage.id)))


def rasa_last_text(stack, token_header: dict) -> str:
    """What Rasa itself last received for this check-in (from its tracker)."""
    from framework.db.repository import hash_token

    token = token_header["Authorization"].removeprefix("Bearer ")
    with stack.sessions() as db:
        sender = db.scalar(select(SurveySession.sender_id).where(SurveySession.token_hash == hash_token(token)))
    tracker = httpx.get(f"{stack.settings.rasa_url}/conversations/{sender}/tracker",
                        headers=stack.rasa_headers(), timeout=30).json()
    # The last user event: the tracker's "latest_message" can lag behind inside a form.
    return [e["text"] for e in tracker["events"] if e["event"] == "user"][-1]


@pytest.fixture
def rasa_down(stack):
    """The app with Rasa unreachable (a closed port), over the stack's database."""
    settings = stack.settings.model_copy(update={"rasa_url": f"http://127.0.0.1:{free_port()}"})
    with app_client(settings) as client:
        yield client


# ---- starting -----------------------------------------------------------------------------------


def test_an_invite_code_starts_a_checkin_with_a_server_made_session(chat_client, new_invite, stack):
    code = new_invite()
    body, _ = start(chat_client, code.lower())  # typed any old way
    assert body["resumed"] is False and body["error"] is None and len(body["token"]) >= 40
    said = [m["text"] for m in body["messages"]]
    assert said[0] == domain_text("utter_opening")
    choice = body["messages"][-1]
    assert [b["label"] for b in choice["buttons"]] == ["Tap buttons", "Type"]
    assert all(b["symbol"] and b["symbol_url"] == f"/symbols/{b['symbol']}.svg" for b in choice["buttons"])
    assert all(m["audio_url"].startswith("/api/audio/") for m in body["messages"])
    assert body["progress"] is None  # no questions yet
    with stack.sessions() as db:
        session = db.scalar(select(SurveySession).order_by(SurveySession.id.desc()).limit(1))
        assert session.sender_id not in json.dumps(body)  # Rasa's id for the child never leaves the server


def test_starting_again_resumes_with_a_new_token(chat_client, new_invite):
    code = new_invite()
    _, old = start(chat_client, code)
    body, new = start(chat_client, code)
    assert body["resumed"] is True
    assert send(chat_client, old, "hello").status_code == 401
    assert send(chat_client, new, "/help").status_code == 200


def test_wrong_and_expired_codes_get_the_same_answer(chat_client, new_invite):
    expired = new_invite(valid_for=timedelta(seconds=-1))
    wrong = chat_client.post("/api/sessions", json={"invite_code": "ZZZZ-ZZZZ"})
    old = chat_client.post("/api/sessions", json={"invite_code": expired})
    assert wrong.status_code == old.status_code == 404
    assert wrong.json() == old.json() == {"error": texts.CODE_NOT_FOUND}


def test_code_guessing_is_limited_per_address(stack, new_invite):
    good = new_invite()
    with app_client(stack.settings, address="203.0.113.10") as stranger:
        for i in range(10):
            assert stranger.post("/api/sessions", json={"invite_code": f"ABCD-{i:04d}"}).status_code == 404
        blocked = stranger.post("/api/sessions", json={"invite_code": good})  # even a right code, for now
        assert blocked.status_code == 429 and blocked.json() == {"error": texts.TOO_MANY_CODE_TRIES}


def test_a_missing_code_is_a_kind_422(chat_client):
    for body in ({}, {"invite_code": "  "}, {"invite_code": 12345678}):
        response = chat_client.post("/api/sessions", json=body)
        assert response.status_code == 422 and response.json() == {"error": texts.CODE_MISSING}


def test_a_code_starts_nothing_once_its_checkin_is_stopped_and_the_token_ends_with_it(chat_client, new_invite):
    code = new_invite()
    _, auth = start(chat_client, code)
    stopped = send(chat_client, auth, "/stop")
    assert stopped.status_code == 200 and stopped.json()["messages"][-1]["kind"] == "stopped"
    after = send(chat_client, auth, "/help")
    assert after.status_code == 401 and after.json() == {"error": texts.CHECKIN_OVER}
    again = chat_client.post("/api/sessions", json={"invite_code": code})
    assert again.status_code == 404 and again.json() == {"error": texts.CODE_NOT_FOUND}


# ---- choices that respect everyone ---------------------------------------------------------------


def choose(slot: str, value: str) -> str:
    return "/choose" + json.dumps({slot: value}, separators=(",", ":"))


def labels(body: dict) -> list[str]:
    return [b["label"] for b in body["messages"][-1]["buttons"]]


def session_for(stack, auth: dict) -> SurveySession:
    token = auth["Authorization"].removeprefix("Bearer ")
    with stack.sessions() as db:
        session = db.scalar(select(SurveySession).where(SurveySession.token_hash == repo.hash_token(token)))
        db.expunge(session)
        return session


@pytest.mark.parametrize(("invited", "offered"), [("standard", ["Some", "A few"]), ("core", None)])
def test_the_question_sets_offered_start_with_staffs_and_are_never_more(chat_client, new_invite, stack, invited, offered):
    _, auth = start(chat_client, new_invite(question_set=invited))
    send(chat_client, auth, choose("input_mode", "tap"))
    asked = send(chat_client, auth, choose("read_aloud", "off")).json()
    if offered is None:  # staff chose the shortest: nothing fewer to choose, so not asked
        assert asked["messages"][-1]["text"] == domain_text("utter_ask_who_with")
        stale = send(chat_client, auth, choose("question_set", "full")).json()  # an old page's button
        assert stale["messages"][-1]["text"] == domain_text("utter_ask_who_with")
        send(chat_client, auth, choose("who_with", "alone"))
        assert session_for(stack, auth).question_set == "core"
        return
    assert asked["messages"][-1]["text"] == domain_text("utter_ask_question_set")
    assert labels(asked) == offered  # staff's set first: the default, and where focus lands
    more = send(chat_client, auth, "all of them please").json()  # more than staff chose
    assert more["messages"][-1]["text"] == domain_text("utter_ask_who_with")
    send(chat_client, auth, choose("who_with", "alone"))
    assert session_for(stack, auth).question_set == invited


def test_a_child_who_chooses_fewer_questions_gets_them_and_the_senco_is_told(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite(question_set="standard"))
    for slot, value in (("input_mode", "tap"), ("read_aloud", "off"), ("question_set", "core")):
        send(chat_client, auth, choose(slot, value))
    first = send(chat_client, auth, choose("who_with", "alone")).json()
    assert first["progress"]["question_total"] == len(load_framework("york").questions("children_young_people", "core"))
    with stack.sessions() as db:
        summary = checkin_summary(db, db.get(SurveySession, session_for(stack, auth).id))
        assert summary.chose_shorter_set and summary.invited_question_set.startswith("Standard")


def start_and_answer_one(chat_client, new_invite) -> dict:
    _, auth = start(chat_client, new_invite())
    for slot, value in (("input_mode", "tap"), ("read_aloud", "off"), ("question_set", "core"), ("who_with", "alone")):
        send(chat_client, auth, choose(slot, value))
    assert send(chat_client, auth, "/deny").status_code == 200
    return auth


def test_stop_asks_who_may_see_the_answers_in_one_step_then_ends(chat_client, new_invite, stack):
    auth = start_and_answer_one(chat_client, new_invite)
    asked = send(chat_client, auth, "can we stop").json()
    said = [m["text"] for m in asked["messages"]]
    assert said == [domain_text("utter_stop"), domain_text("utter_ask_consent")]
    assert labels(asked) == ["Only my school", "My school and my family", "Also the council, with no name"]
    assert not {m["kind"] for m in asked["messages"]} & {"stopped", "end"}  # not over yet
    ended = send(chat_client, auth, choose("consent", "school_and_family")).json()
    assert [m["kind"] for m in ended["messages"]][-1] == "stopped"
    assert not any(m["buttons"] for m in ended["messages"])  # one ending: the widget's Close
    session = session_for(stack, auth)
    assert session.status == "stopped"
    with stack.sessions() as db:
        assert repo.latest_consent(db, db.get(SurveySession, session.id)).audiences == ["school_and_family"]
    assert send(chat_client, auth, "/help").status_code == 401


def test_the_stop_button_after_a_worry_also_asks_who_may_see(chat_client, new_invite, stack):
    auth = start_and_answer_one(chat_client, new_invite)
    support = send(chat_client, auth, "my dad hits me").json()
    assert [b["payload"] for b in support["messages"][-1]["buttons"]] == ["/carry_on", "/stop"]
    asked = send(chat_client, auth, "/stop").json()
    assert [m["text"] for m in asked["messages"]][-1] == domain_text("utter_ask_consent")
    assert session_for(stack, auth).status == "active"


def test_stop_at_who_may_see_keeps_the_most_private_choice(chat_client, new_invite, stack):
    auth = start_and_answer_one(chat_client, new_invite)
    send(chat_client, auth, "/stop")
    ended = send(chat_client, auth, "/stop").json()
    assert [m["text"] for m in ended["messages"]] == [domain_text("utter_stop_school_only"), domain_text("utter_goodbye")]
    assert ended["messages"][-1]["kind"] == "stopped"
    session = session_for(stack, auth)
    assert session.status == "stopped"
    with stack.sessions() as db:
        assert repo.latest_consent(db, db.get(SurveySession, session.id)) is None


def test_a_token_left_unused_too_long_ends_and_the_code_carries_on(chat_client, new_invite, stack):
    code = new_invite()
    _, auth = start(chat_client, code)
    [opening] = incoming(stack, auth)
    idle = timedelta(minutes=stack.settings.chat_idle_minutes)
    with stack.sessions.begin() as db:
        db.execute(update(TranscriptMessage).where(TranscriptMessage.session_id == opening.session_id)
                   .values(created_at=utcnow() - idle - timedelta(minutes=1)))
    away = send(chat_client, auth, "/help")
    assert away.status_code == 401 and away.json() == {"error": texts.AWAY_TOO_LONG}
    body, back = start(chat_client, code)
    assert body["resumed"] is True and send(chat_client, back, "/help").status_code == 200


# ---- messages: who may send ---------------------------------------------------------------------


def test_a_token_is_needed(chat_client):
    for headers in ({}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = chat_client.post(MESSAGES, json={"text": "hi"}, headers=headers)
        assert response.status_code == 401 and response.json() == {"error": texts.SESSION_ENDED}


# ---- messages: bad input ------------------------------------------------------------------------


def test_bad_input_gets_a_kind_error_and_stores_nothing(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    before = len(incoming(stack, auth))
    not_text = [{"text": ""}, {"text": "   \n\t "}, {"text": "\x00\x01\x1b"}, {"text": "///"}, {"text": 42},
                {"text": None}, {"text": ["hi"]}, {}, {"text": "hi", "client_message_id": "x" * 65}]
    for body in not_text:
        response = chat_client.post(MESSAGES, json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.json() == {"error": texts.EMPTY_OR_NOT_TEXT}
    for raw in (b'{"text": "\xff\xfe caf\xe9"}', b"\x89PNG\r\n\x1a\n\x00\x00", b'{"text": "unfinished'):
        response = chat_client.post(MESSAGES, content=raw, headers={**auth, "Content-Type": "application/json"})
        assert response.status_code == 422 and response.json() == {"error": texts.EMPTY_OR_NOT_TEXT}
    huge = chat_client.post(MESSAGES, json={"text": "a" * 100_000}, headers=auth)
    assert huge.status_code == 413 and huge.json() == {"error": texts.TOO_BIG}
    assert len(incoming(stack, auth)) == before


def test_control_characters_are_removed_before_storing(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    # JSON may carry a lone surrogate ("\ud800"), which no database can store.
    body = json.dumps({"text": "I like\x00 art\x07\tand\r\nmusic\x1b[31m\ud800"}).encode()
    response = chat_client.post(MESSAGES, content=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 200
    assert incoming(stack, auth)[-1].text == "I like art\tand\nmusic[31m"


def test_script_is_stored_word_for_word_and_only_ever_returned_as_data(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    script = '<script>alert("hi")</script><img src=x onerror=alert(1)> I like <b>art</b>'
    response = send(chat_client, auth, script)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert incoming(stack, auth)[-1].text == script
    assert rasa_last_text(stack, auth) == script  # passed on as words, not markup


def test_a_leading_slash_cannot_inject_an_intent(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    injections = {
        "/goodbye": "goodbye",
        '/choose{"consent":"school_family_and_council"}extra': 'choose{"consent":"school_family_and_council"}extra',
        '/choose{"statement_id":"york.not_a_statement"}': 'choose{"statement_id":"york.not_a_statement"}',
        '/choose{"input_mode":"hack"}': 'choose{"input_mode":"hack"}',
        '/affirm{"consent":"school"}': 'affirm{"consent":"school"}',
        "  //concern": "concern",
    }
    for sent, forwarded in injections.items():
        assert send(chat_client, auth, sent).status_code == 200
        assert rasa_last_text(stack, auth) == forwarded
        assert incoming(stack, auth)[-1].text == sent  # kept as sent
    # Our own buttons' payloads do go through, in their one canonical form.
    assert send(chat_client, auth, '/choose{"input_mode": "type"}').status_code == 200
    assert rasa_last_text(stack, auth) == '/choose{"input_mode":"type"}'
    assert send(chat_client, auth, "/help").status_code == 200
    assert rasa_last_text(stack, auth) == "/help"


def test_a_message_longer_than_the_text_box_allows_is_refused_kindly(chat_client, new_invite, stack):
    """Its screening and storing would hold the database for seconds; the widget's box stops at 2,000."""
    _, auth = start(chat_client, new_invite())
    before = len(incoming(stack, auth))
    too_long = send(chat_client, auth, "I like drawing and music. " * 120)  # 3,120 characters
    assert too_long.status_code == 422 and too_long.json() == {"error": texts.TOO_LONG}
    assert len(incoming(stack, auth)) == before
    words = ("I like drawing and music. " * 80)[:2000]
    assert send(chat_client, auth, words).status_code == 200
    assert incoming(stack, auth)[-1].text == words
    assert rasa_last_text(stack, auth) == words.rstrip()


# ---- messages: retries and double-submits -------------------------------------------------------


def test_a_double_submit_is_stored_once_and_gets_the_same_replies(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    first = send(chat_client, auth, '/choose{"input_mode":"tap"}', "msg-1")
    again = send(chat_client, auth, '/choose{"input_mode":"tap"}', "msg-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    assert again.json()["messages"] == first.json()["messages"] and first.json()["messages"]
    assert [m.client_message_id for m in incoming(stack, auth)].count("msg-1") == 1


def test_with_rasa_down_the_message_is_kept_and_a_retry_delivers_it(rasa_down, chat_client, new_invite, stack):
    start_down = rasa_down.post("/api/sessions", json={"invite_code": new_invite()})
    assert start_down.status_code == 201
    assert start_down.json()["messages"] == [] and start_down.json()["error"] == texts.LOST_CONNECTION
    auth = {"Authorization": f"Bearer {start_down.json()['token']}"}
    down = send(rasa_down, auth, "/start_checkin", "retry-1")
    assert down.status_code == 503
    assert down.json() == {"error": texts.LOST_CONNECTION, "stored": True}
    stored = incoming(stack, auth)[-1]
    assert (stored.text, stored.client_message_id, stored.delivered_at) == ("/start_checkin", "retry-1", None)
    # Rasa is back (the real stack): the same message, retried, is sent on and answered.
    back = send(chat_client, auth, "/start_checkin", "retry-1")
    assert back.status_code == 200 and back.json()["duplicate"] is True
    assert back.json()["messages"][0]["text"] == domain_text("utter_opening")
    retried = incoming(stack, auth)
    assert [m.client_message_id for m in retried].count("retry-1") == 1
    assert retried[-1].delivered_at is not None


# ---- rate limits --------------------------------------------------------------------------------


def test_messages_are_rate_limited_per_session(rasa_down, new_invite):
    _, auth = start(rasa_down, new_invite())
    statuses = [send(rasa_down, auth, f"hello {i}").status_code for i in range(31)]
    assert statuses[:30] == [503] * 30  # stored, Rasa down: quick
    assert statuses[30] == 429
    assert send(rasa_down, auth, "hello").json() == {"error": texts.TOO_FAST}


def test_requests_are_rate_limited_per_address(chat_client, new_invite):
    chat_client.app.state.chat.limits.per_ip = SlidingWindow(3, 60)
    _, auth = start(chat_client, new_invite())
    assert send(chat_client, auth, "/help").status_code == 200
    assert send(chat_client, auth, "/repeat").status_code == 200
    limited = send(chat_client, auth, "/help")
    assert limited.status_code == 429 and limited.json() == {"error": texts.TOO_FAST}


def test_the_sliding_window_forgets_old_events():
    now = [0.0]
    window = SlidingWindow(2, 10, clock=lambda: now[0])
    assert window.allow("a") and window.allow("a") and not window.allow("a")
    assert window.allow("b")
    now[0] = 10.5
    assert window.allow("a")


# ---- the contract -------------------------------------------------------------------------------


def test_every_error_text_is_plain():
    for text in texts.ALL:
        assert problems(text) == [], text


def test_openapi_describes_the_chat_api(chat_client):
    spec = chat_client.get("/openapi.json").json()
    start_op = spec["paths"]["/api/sessions"]["post"]
    message_op = spec["paths"]["/api/sessions/current/messages"]["post"]
    assert start_op["requestBody"]["content"]["application/json"]["schema"]["properties"]["invite_code"]
    assert set(message_op["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {"text", "client_message_id"}
    assert {"401", "413", "422", "429", "503"} <= set(message_op["responses"])
    schemas = spec["components"]["schemas"]
    assert set(schemas["BotMessage"]["properties"]) >= {
        "id", "text", "kind", "buttons", "symbol", "symbol_url", "audio_url", "statement_id", "area_title",
        "contains_child_words"}
    assert set(schemas["Progress"]["properties"]) >= {"question_number", "question_total", "label", "areas"}
    assert "/api/audio/{key}.mp3" in spec["paths"] and "/symbols/{code}.svg" in spec["paths"]


def test_transcript_rows_for_replies_are_outgoing(chat_client, new_invite, stack):
    body, _ = start(chat_client, new_invite())
    ids = [m["id"] for m in body["messages"]]
    with stack.sessions() as db:
        rows = db.scalars(select(TranscriptMessage).where(TranscriptMessage.id.in_(ids)).order_by(TranscriptMessage.id))
        assert [(r.direction, r.text) for r in rows] == [("out", m["text"]) for m in body["messages"]]
        assert db.scalar(select(func.count()).select_from(TranscriptMessage).where(TranscriptMessage.id.in_(ids))) == len(ids)


# ---- Rasa's reply, as the widget gets it ---------------------------------------------------------

RECIPIENT = "0f3c"


def test_rasa_custom_data_joins_the_text_before_it():
    question = {"kind": "question", "statement_id": "york.safe.cyp1", "symbol": "1F3EB"}
    elements = [
        {"recipient_id": RECIPIENT, "text": "Now let's talk about feeling safe."},
        {"recipient_id": RECIPIENT, "custom": {"kind": "area_intro", "symbol": "1F6E1", "area_title": "Being safe"}},
        {"recipient_id": RECIPIENT, "text": "Do you feel safe at school?",
         "buttons": [{"title": "Yes", "payload": "/affirm", "symbol": "1F44D"}]},
        {"recipient_id": RECIPIENT, "custom": question},
    ]
    intro, asked = drafts_from_rasa(elements, load_framework("york"), "children_young_people")
    assert (intro.kind, intro.symbol, intro.area_title) == ("area_intro", "1F6E1", "Being safe")
    assert (asked.kind, asked.statement_id, asked.symbol, asked.area_title) == ("question", "york.safe.cyp1", "1F3EB", "Being safe")
    assert asked.buttons == [{"title": "Yes", "payload": "/affirm", "symbol": "1F44D"}]


def test_the_action_servers_safeguarding_signal_shows_the_support_words():
    elements = [
        {"recipient_id": RECIPIENT, "buttons": [{"title": "Carry on", "payload": "/carry_on", "symbol": "25B6"}]},
        {"recipient_id": RECIPIENT, "custom": {"kind": "safeguarding"}},
    ]
    drafts = drafts_from_rasa(elements, load_framework("york"), "children_young_people")
    assert drafts == support_drafts("children_young_people")
    assert [d.text for d in drafts] == list(support().messages)
    assert [b["payload"] for b in drafts[-1].buttons] == ["/carry_on", "/stop"]
