"""What the young person notices of the NLU: phrasings it never saw in training are still
understood, and the meaning features behind that behave as the model they come from."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pytest
from ruamel.yaml import YAML

from bot.processes import PROJECT_ROOT
from scripts.answers_eval import MISRECORDED_BAR, format_score, load, score
from tests.rasa_probe import run_in_rasa

pytestmark = pytest.mark.integration

HELD_OUT = Path(__file__).resolve().parents[1] / "data" / "nlu_heldout.yml"
PROBE = Path(__file__).with_name("sentence_embedding_probe.py")
SENT_VECTOR_PROBE = Path(__file__).with_name("sent_vector_probe.py")
MODEL = PROJECT_ROOT / "models" / "heard.tar.gz"
# Typed the way children type, short and long, with and without meaning n-grams would catch.
SENT_TEXTS = ["yeah i do", "nah not rly", "idk 🤷 maybe", "can u say that again",
              "people are mean to me at lunch and i dont like it", "my dog is called max", "sometimes"]
load_yaml = YAML(typ="safe").load


def training_texts() -> set[str]:
    texts = set()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for block in load_yaml(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                texts.add(line.strip().removeprefix("- ").strip().lower())
    return texts


def held_out() -> list[tuple[str, str]]:
    data = load_yaml(HELD_OUT.read_text(encoding="utf-8"))
    return [(intent, str(text)) for intent, texts in data.items() for text in texts]


def test_unseen_phrasings_are_understood(stack):
    """Only the held-out phrasings that are not training examples count; a fallback (the bot
    asks back) counts as not understood."""
    seen = training_texts()
    unseen = [(intent, text) for intent, text in held_out() if text.strip().lower() not in seen]
    assert len(unseen) >= 150, "the held-out set has leaked into the training data"
    url = f"{stack.settings.rasa_url}/model/parse"
    understood, missed = Counter(), []
    with httpx.Client(timeout=30) as client:
        for intent, text in unseen:
            parsed = client.post(url, headers=stack.rasa_headers(), json={"text": text}).raise_for_status().json()
            if parsed["intent"]["name"] == intent:
                understood[intent] += 1
            else:
                missed.append((intent, text, parsed["intent"]["name"]))
    share = sum(understood.values()) / len(unseen)
    assert share >= 0.85, f"{share:.1%} understood; missed: {missed}"
    # No answer intent may be mostly misunderstood.
    for intent in ("affirm", "deny", "sometimes", "dont_know"):
        total = sum(1 for wanted, _ in unseen if wanted == intent)
        assert understood[intent] >= 0.8 * total, (intent, missed)


def test_outside_answers_are_never_misrecorded(stack):
    """Typed answers written by outsiders (the dev split of tests/data/eval/answers_*), read as
    a check-in reads them: Rasa's parse, the form's control words, the confidence bar and the
    guard. A different answer stored without asking back is the worst outcome."""
    items = load("dev")
    url = f"{stack.settings.rasa_url}/model/parse"
    with httpx.Client(timeout=30) as client:
        intents = [client.post(url, headers=stack.rasa_headers(), json={"text": item.text}).raise_for_status().json()["intent"]
                   for item in items]
    result = score(items, [(intent["name"], intent["confidence"]) for intent in intents])
    assert result.misrecorded() <= MISRECORDED_BAR, format_score("dev", result)


@pytest.fixture(scope="module")
def report() -> dict:
    """What Rasa's own featurizer makes of a few messages (run in .venv-rasa)."""
    return json.loads(run_in_rasa(str(PROBE)))


def test_sentence_features_carry_meaning(report):
    for name, message in report["messages"].items():
        # One row per Rasa token, the model's width, and the configured weight as length.
        assert message["sequence_rows"] == message["tokens"], name
        assert message["width"] == 384, name
        assert message["sentence_norm"] == pytest.approx(report["weight"], rel=1e-4), name
        assert message["zero_token_rows"] == 0, name
    # Two ways to ask for the question again sit closer than either does to a pet's name,
    # though they share almost no letters.
    similar = report["similar"]
    assert similar["again~repeat"] > similar["again~pet"] + 0.15
    assert similar["again~repeat"] > similar["repeat~pet"] + 0.15
    assert report["pooled"] == [[2.0, 4.0], [0.0, 0.0]]


def test_a_buttons_payload_is_not_encoded_but_keeps_the_features_shape(report):
    # Rasa's RegexMessageHandler takes the intent from the payload itself; the classifier still
    # gets features of the usual shape, all zero, so nothing downstream changes.
    for name, payload in report["payloads"].items():
        assert payload["sequence_shape"] == [payload["tokens"], 384], name
        assert payload["sentence_shape"] == [1, 384], name
        assert not payload["any_nonzero"], name


def test_the_app_encoder_gives_rasas_sentence_vectors(report):
    """The app's MiniLM (framework/onnx_encoder.py, on onnxruntime: the worry signal and comment
    mapping) and Rasa's featurizer (TensorFlow) run the same weights: their sentence vectors for
    the same words point the same way."""
    from framework.onnx_encoder import sentence_encoder

    texts = report["texts"]
    assert len(texts) >= 5
    ours = sentence_encoder().encode(list(texts.values()))
    for row, name in enumerate(texts):
        rasa = np.array(report["vectors"][name])
        assert float(ours[row] @ rasa / np.linalg.norm(rasa)) == pytest.approx(1.0, abs=1e-4), name
        assert float(np.linalg.norm(ours[row])) == pytest.approx(1.0, abs=1e-5), name


def test_rasa_parses_the_same_with_the_web_apps_vector_and_loads_no_encoder(tmp_path):
    """The web app sends typed words' sentence vector (framework/onnx_encoder.py) in the message's
    metadata; Rasa's parse with it is the parse Rasa makes with its own encoder, which it then
    never loads, and the vector is not kept in the metadata Rasa stores and sends to the actions."""
    from framework.onnx_encoder import sentence_encoder

    vectors = sentence_encoder().encode(SENT_TEXTS)
    sent = tmp_path / "vectors.json"
    sent.write_text(json.dumps({text: vectors[row].tolist() for row, text in enumerate(SENT_TEXTS)}), encoding="utf-8")
    report = json.loads(run_in_rasa(str(SENT_VECTOR_PROBE), str(MODEL), str(sent)))
    assert report["encoder_loaded_with"] is False
    assert report["encoder_loaded_without"] is True
    for text in SENT_TEXTS:
        with_vector, without = report["with"][text], report["without"][text]
        assert [i["name"] for i in with_vector[:2]] == [i["name"] for i in without[:2]], text
        for ours, theirs in zip(with_vector, without):
            assert ours["confidence"] == pytest.approx(theirs["confidence"], abs=1e-3), text
        assert report["kept_metadata"][text] == ["message_id"], text
