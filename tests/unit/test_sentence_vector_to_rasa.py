"""Typed words go to Rasa with their sentence vector, so Rasa's NLU runs no encoder of its own
(tests/integration/test_nlu_understanding.py checks Rasa's parse is the same with it)."""
from __future__ import annotations

import numpy as np
import pytest

from framework.conversation import SENTENCE_VECTOR
from framework.onnx_encoder import sentence_encoder
from tests.unit.chat_without_rasa import ChatApp, chat_app  # noqa: F401  (the fixture)

MESSAGES = "/api/sessions/current/messages"


def test_typed_words_carry_their_vector_and_button_payloads_none(chat_app: ChatApp):
    auth = chat_app.start()
    for text in ("I like art", "/skip"):
        assert chat_app.client.post(MESSAGES, json={"text": text}, headers=auth).status_code == 200
    sent = {body["message"]: (body.get("metadata") or {}) for body in chat_app.rasa.received}
    vector = np.array(sent["I like art"][SENTENCE_VECTOR])
    assert vector.shape == (sentence_encoder().dimensions,)
    assert vector == pytest.approx(sentence_encoder().encode(["I like art"])[0], abs=1e-6)
    payloads = [words for words in sent if words.startswith("/")]
    assert "/skip" in payloads
    assert all(SENTENCE_VECTOR not in sent[words] for words in payloads)
