"""The chat gateway against the real stack: Rasa, the action server and the database, with
the web app in this process (TestClient) or served by uvicorn (`web_url`)."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from accessibility import tts
from bot.chat import texts
from bot.chat.prompts import domain_text, fixed_prompts, support
from framework.db import repository as repo
from framework.db.models import AlertMessage, OutboxEmail, SafeguardingAlert, SurveySession, TranscriptMessage
from framework.loader import load_framework
from framework.survey import SurveyPlan
from tests.rasa_probe import run_in_rasa
from tests.unit.test_chat_api import MESSAGES, incoming, rasa_last_text, send, start

pytestmark = pytest.mark.integration

YORK_CORE = SurveyPlan(load_framework("york"), "children_young_people", "core")


def choose(slot: str, value: str) -> str:
    return '/choose{"%s":"%s"}' % (slot, value)


def said(response) -> list[str]:
    return [m["text"] for m in response.json()["messages"]]


def through_preferences(client, auth: dict) -> dict:
    for slot, value in (("input_mode", "tap"), ("read_aloud", "on"), ("question_set", "core")):
        assert send(client, auth, choose(slot, value)).status_code == 200
    response = send(client, auth, choose("who_with", "alone"))
    assert response.status_code == 200, response.text
    return response.json()


def session_of(stack, auth: dict) -> SurveySession:
    token = auth["Authorization"].removeprefix("Bearer ")
    with stack.sessions() as db:
        return db.scalar(select(SurveySession).where(SurveySession.token_hash == repo.hash_token(token)))


def test_a_checkin_through_the_gateway(chat_client, new_invite, stack):
    opening, auth = start(chat_client, new_invite())
    assert [m["text"] for m in opening["messages"]][:2] == [
        domain_text("utter_opening"), domain_text("utter_opening_no_wrong_answers")]
    first_choice = opening["messages"][-1]
    assert first_choice["text"] == domain_text("utter_ask_input_mode")
    assert [(b["label"], b["symbol"]) for b in first_choice["buttons"]] == [("Tap buttons", "1F446"), ("Type", "2328")]

    reply = through_preferences(chat_client, auth)
    first_area = YORK_CORE.areas[0]
    intro, question = [m for m in reply["messages"] if m["kind"] in ("area_intro", "question")]
    assert intro["symbol"] == first_area.symbol and intro["area_title"] == first_area.plain_title
    statement = YORK_CORE.questions[0]
    assert (question["text"], question["statement_id"], question["symbol"]) == (statement.question, statement.id, statement.symbol)
    assert question["area_title"] == first_area.plain_title
    assert [b["label"] for b in question["buttons"]] == ["Yes", "Sometimes", "No", "I don't know", "Skip"]
    assert all(b["symbol_url"] for b in question["buttons"])
    progress = reply["progress"]
    assert progress["label"] == "Question 1 of 7" and progress["current_area"] == first_area.id
    assert [a["id"] for a in progress["areas"]] == [a.id for a in YORK_CORE.areas]
    assert progress["areas"][0]["current"] and not progress["areas"][0]["done"]

    reply = send(chat_client, auth, "/affirm").json()
    assert reply["messages"][-1]["kind"] == "comment"
    reply = send(chat_client, auth, "/skip").json()  # "No more": the area's second prompt is not asked
    assert reply["messages"][-1]["statement_id"] == YORK_CORE.questions[1].id
    assert reply["progress"]["label"] == "Question 2 of 7"
    assert reply["progress"]["areas_done"] == [first_area.id] and reply["progress"]["areas"][0]["done"]
    with stack.sessions() as db:
        answers = repo.current_answers(db, db.get(SurveySession, session_of(stack, auth).id))
        assert [(a.statement_id, a.value) for a in answers] == [(statement.id, "yes")]


def test_a_message_is_in_the_transcript_before_rasa_sees_it(chat_client, new_invite, stack, monkeypatch):
    _, auth = start(chat_client, new_invite())
    rasa = chat_client.app.state.chat.rasa
    real_send = rasa.send
    stored_when_sent: list = []

    async def send_and_look(sender_id: str, text: str, message_id: int | None = None,
                            unnegated: str | None = None, sentence_vector: list[float] | None = None) -> list[dict]:
        with stack.sessions() as db:  # another connection: only committed rows are seen
            stored_when_sent.append(db.execute(
                select(TranscriptMessage.text, TranscriptMessage.delivered_at)
                .where(TranscriptMessage.client_message_id == "first-look")).one_or_none())
        return await real_send(sender_id, text, message_id, unnegated, sentence_vector)

    monkeypatch.setattr(rasa, "send", send_and_look)
    assert send(chat_client, auth, "i want to type", "first-look").status_code == 200
    assert stored_when_sent == [("i want to type", None)]
    assert incoming(stack, auth)[-1].delivered_at is not None


def test_with_rasa_stopped_words_are_kept_worries_answered_and_the_chat_picks_up(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    reply = through_preferences(chat_client, auth)
    assert reply["progress"]["label"] == "Question 1 of 7"
    session = session_of(stack, auth)

    stack.processes["rasa"].stop()
    try:
        down = send(chat_client, auth, "/affirm", "answer-1")
        assert down.status_code == 503
        assert down.json() == {"error": texts.LOST_CONNECTION, "stored": True}
        kept = incoming(stack, auth)[-1]
        assert (kept.text, kept.delivered_at) == ("/affirm", None)

        worry = send(chat_client, auth, "my step dad hurts me", "worry-1")
        assert worry.status_code == 200
        assert said(worry) == list(support().messages)
        assert {m["kind"] for m in worry.json()["messages"]} == {"safeguarding"}
        assert [b["payload"] for b in worry.json()["messages"][-1]["buttons"]] == ["/carry_on", "/stop"]
    finally:
        stack.restart("rasa")

    with stack.sessions() as db:
        alert = db.scalar(select(SafeguardingAlert).where(SafeguardingAlert.session_id == session.id))
        assert (alert.words, alert.source, alert.status) == ("my step dad hurts me", "screen", "open")
        assert alert.categories and alert.evidence
        worry_row = db.scalar(select(TranscriptMessage).where(TranscriptMessage.client_message_id == "worry-1"))
        assert db.scalar(select(AlertMessage.message_id).where(AlertMessage.alert_id == alert.id)) == worry_row.id
        email = db.scalar(select(OutboxEmail).where(OutboxEmail.to_address == f"dsl{alert.school_id}@school.example"))
        assert email is not None and "step dad" not in email.body  # the lead is told; the words stay in Heard

    back = send(chat_client, auth, "/affirm", "answer-1")
    assert back.status_code == 200 and back.json()["duplicate"] is True
    assert back.json()["messages"][-1]["kind"] == "comment"  # answered; on to "anything else?"
    assert rasa_last_text(stack, auth) == "/affirm"
    assert [m.client_message_id for m in incoming(stack, auth)].count("answer-1") == 1
    with stack.sessions() as db:
        answers = repo.current_answers(db, db.get(SurveySession, session.id))
        assert [(a.statement_id, a.value) for a in answers] == [(YORK_CORE.questions[0].id, "yes")]
    assert send(chat_client, auth, "/skip").status_code == 200  # and the chat goes on


def test_a_worry_mid_checkin_is_screened_before_rasa(chat_client, new_invite, stack):
    _, auth = start(chat_client, new_invite())
    through_preferences(chat_client, auth)
    before = rasa_last_text(stack, auth)
    worry = send(chat_client, auth, "my step dad hurts me")
    assert said(worry) == list(support().messages)
    assert rasa_last_text(stack, auth) == before  # Rasa never had the words
    carry_on = send(chat_client, auth, "/carry_on").json()
    assert carry_on["messages"][-1]["statement_id"] == YORK_CORE.questions[0].id  # the question again


def test_a_readback_of_a_childs_words_is_never_sent_to_gtts(chat_client, new_invite, stack, monkeypatch):
    """The whole core check-in, with a comment in the child's own words (markup included):
    the read-back returns the words as data, and its audio is made offline, not by gTTS."""
    sent_to_google: list[str] = []

    class RecordingGTTS:
        def __init__(self, text: str, **kwargs):
            sent_to_google.append(text)

        def write_to_fp(self, fp):
            fp.write(b"ID3" + b"\x00" * 2000)

    monkeypatch.setattr(tts, "gTTS", RecordingGTTS)
    _, auth = start(chat_client, new_invite())
    reply = through_preferences(chat_client, auth)
    comment = "<b>I like art</b> & my friend Sam"
    questions = iter(YORK_CORE.questions)
    commented = False
    while reply["messages"][-1]["kind"] in ("question", "comment"):
        current = reply["messages"][-1]
        if current["kind"] == "question":
            assert current["statement_id"] == next(questions).id
            reply = send(chat_client, auth, "/affirm").json()
        elif not commented:
            reply = send(chat_client, auth, comment).json()
            commented = True
        else:
            reply = send(chat_client, auth, "/skip").json()
    assert next(questions, None) is None
    readback = [m for m in reply["messages"] if m["kind"] == "readback_area"]
    with_words = [m for m in readback if m["contains_child_words"]]
    assert len(with_words) == 1 and f"\u201c{comment}\u201d" in with_words[0]["text"]
    assert reply["messages"][-1]["text"] == domain_text("utter_readback_check")
    try:
        for message in reply["messages"]:
            audio = chat_client.get(message["audio_url"])
            assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    finally:
        # The stand-in's silent files would be played to later tests: the audio cache is shared.
        for text in sent_to_google:
            (stack.settings.var_dir / "audio" / f"{tts.audio_key(text, tts.LANGUAGE, tts.GTTS_VOICE)}.mp3").unlink(
                missing_ok=True)
    assert sent_to_google and set(sent_to_google) <= fixed_prompts()
    assert not any("Sam" in text for text in sent_to_google)


def test_the_web_process_serves_the_chat(web_url, new_invite):
    health = httpx.get(f"{web_url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["ok"]
    started = httpx.post(f"{web_url}/api/sessions", json={"invite_code": new_invite()}, timeout=60)
    assert started.status_code == 201 and started.json()["messages"]
    reply = httpx.post(f"{web_url}{MESSAGES}", json={"text": "/help"}, timeout=60,
                       headers={"Authorization": f"Bearer {started.json()['token']}"})
    assert reply.status_code == 200 and reply.json()["messages"]


def test_comment_cards_through_the_gateway(chat_client, new_invite, stack):
    """A comment made of cards: the board comes with the prompt, the cards' payload is passed
    to Rasa as a payload, kept as one comment with the cards' words, and the second prompt follows."""
    _, auth = start(chat_client, new_invite())
    through_preferences(chat_client, auth)
    prompt = send(chat_client, auth, "/affirm").json()["messages"][-1]
    assert prompt["kind"] == "comment" and [b["label"] for b in prompt["buttons"]] == ["No more"]
    board = prompt["board"]
    cards = {card["label"]: card for card in board["cards"]}
    assert {"too noisy", "people are kind", "I like it", "I need more help"} <= set(cards)
    assert all(card["symbol_url"] and card["audio_url"] for card in board["cards"])
    assert (board["send"]["label"], board["own_way"]["label"]) == ("Send my cards", "Say it my own way")
    chosen = board["payload"] + '{"cards":"%s %s"}' % (cards["too noisy"]["id"], cards["people are kind"]["id"])
    reply = send(chat_client, auth, chosen)
    assert reply.status_code == 200, reply.text
    assert "Thank you. I have kept your cards." in said(reply)
    assert rasa_last_text(stack, auth) == chosen
    helping = reply.json()["messages"][-1]
    assert helping["kind"] == "comment" and helping["board"]["cards"]
    assert helping["text"] == load_framework("york").area("york.safe").prompts["children_young_people"].what_would_help
    with stack.sessions() as db:
        [comment] = repo.comments_for(db, session_of(stack, auth))
        assert (comment.kind, comment.cards) == ("anything_else", ["too noisy", "people are kind"])
        assert comment.text == "too noisy; people are kind"


def test_rasa_runs_typed_words_without_an_encoder_or_jax(chat_client, new_invite, stack):
    """The web app sends typed words' sentence vector, so Rasa never loads its own encoder (~300 MB);
    and it never imports jax (TensorFlow's optional TFLite helper, ~65 MB)."""
    encoder_loaded = run_in_rasa("-c", "from nlu_components.sentence_embeddings import ENCODER_LOADED as m; print(m)")
    stack.restart("rasa")  # a fresh log: other tests send Rasa bare words (/model/parse)
    _, auth = start(chat_client, new_invite())
    through_preferences(chat_client, auth)
    assert send(chat_client, auth, "yeah i think so").status_code == 200
    rasa = stack.processes["rasa"]
    assert rasa_last_text(stack, auth) == "yeah i think so"
    assert encoder_loaded not in rasa.log.read_text(errors="replace")
    maps = Path(f"/proc/{rasa.popen.pid}/maps").read_text()
    assert "libtensorflow" in maps and "jaxlib" not in maps
