"""Run with .venv-rasa's Python from the project root: builds Heard's sentence-embedding
featurizer as config.yml configures it, featurizes messages through Rasa's own tokenizer
and prints one JSON line of what a test needs to see."""
import json
import os
import sys

sys.path.insert(0, os.getcwd())

import numpy as np  # noqa: E402
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer, pool_by_spans  # noqa: E402

TEXTS = {
    "again": "can u say that again",
    "repeat": "what did you just say",
    "pet": "my dog is called max",
    "yes": "yeah i do",
    "emoji": "🤷",
    "mixed": "idk 🤷 maybe",
}

# Buttons' payloads, which Rasa's RegexMessageHandler reads: not encoded.
PAYLOADS = {"tapped": "/affirm", "chosen": '/choose{"input_mode": "type"}'}

featurizer = SentenceEmbeddingFeaturizer(SentenceEmbeddingFeaturizer.get_default_config(), "probe")
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
messages = {name: Message(data={"text": text}) for name, text in TEXTS.items()}
payloads = {name: Message(data={"text": text}) for name, text in PAYLOADS.items()}
tokenizer.process([*messages.values(), *payloads.values()])
featurizer.process([*messages.values(), *payloads.values()])

report = {"weight": featurizer._config["weight"], "messages": {}, "texts": TEXTS, "vectors": {}}
sentence = {}
for name, message in messages.items():
    sequence_features, sentence_features = message.get_dense_features("text")
    tokens = message.get("text_tokens")
    sentence[name] = sentence_features.features[0]
    report["vectors"][name] = (sentence[name] / featurizer._config["weight"]).tolist()
    report["messages"][name] = {
        "tokens": len(tokens),
        "sequence_rows": int(sequence_features.features.shape[0]),
        "width": int(sentence_features.features.shape[1]),
        "sentence_norm": float(np.linalg.norm(sentence_features.features[0])),
        "zero_token_rows": int((~sequence_features.features.any(axis=1)).sum()),
    }


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


report["payloads"] = {}
for name, message in payloads.items():
    sequence_features, sentence_features = message.get_dense_features("text")
    report["payloads"][name] = {
        "tokens": len(message.get("text_tokens")),
        "sequence_shape": list(sequence_features.features.shape),
        "sentence_shape": list(sentence_features.features.shape),
        "any_nonzero": bool(sequence_features.features.any() or sentence_features.features.any()),
    }
report["similar"] = {
    "again~repeat": cosine(sentence["again"], sentence["repeat"]),
    "again~pet": cosine(sentence["again"], sentence["pet"]),
    "repeat~pet": cosine(sentence["repeat"], sentence["pet"]),
}
# A span no word piece covers gets a zero row; a span covering two pieces gets their mean.
hidden = np.array([[0.0, 0.0], [1.0, 3.0], [3.0, 5.0], [0.0, 0.0]])
offsets = np.array([[0, 0], [0, 2], [2, 4], [0, 0]])
report["pooled"] = pool_by_spans(hidden, offsets, [(0, 4), (5, 7)]).tolist()
print(json.dumps(report))
