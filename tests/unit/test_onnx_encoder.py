"""The sentence encoders on onnxruntime (framework/onnx_encoder.py): their graph computes the
NumPy forward pass of framework/encoder.py, MiniLM's vectors equal NumPy's on its real weights,
and MPNet's int8 weights keep the vectors close."""
from __future__ import annotations

import numpy as np
import pytest

from framework.encoder import BERT, MPNET, Architecture, Weights, numpy_encoder, numpy_forward, relative_buckets
from framework.onnx_encoder import (MODEL_FILE, MPNET_MODEL, WEIGHTS_FILE, BuiltModel, OnnxForward, build, build_graph, load,
                                    mpnet_encoder, read_minilm, read_mpnet, sentence_encoder)


def random_arrays(architecture: Architecture, width: int = 48, layers: int = 2, vocabulary: int = 50) -> dict[str, np.ndarray]:
    """A small model of the architecture's weights, named as Hugging Face names the real one's."""
    rng = np.random.default_rng(7)
    names = architecture.names
    w = {}

    def fill(name: str, *shape: int, around: float = 0.0) -> None:
        w[name] = (around + rng.standard_normal(shape) * 0.2).astype(np.float32)

    fill("embeddings.word_embeddings.weight", vocabulary, width)
    fill("embeddings.position_embeddings.weight", 40, width)
    fill("embeddings.LayerNorm.weight", width, around=1.0)
    fill("embeddings.LayerNorm.bias", width)
    if architecture.relative_buckets:
        fill("encoder.relative_attention_bias.weight", architecture.relative_buckets, architecture.heads)
    else:
        fill("embeddings.token_type_embeddings.weight", 2, width)
    sizes = {"q": (width, width), "k": (width, width), "v": (width, width), "out": (width, width),
             "up": (4 * width, width), "down": (width, 4 * width)}
    for index in range(layers):
        prefix = f"encoder.layer.{index}."
        for part, (rows, columns) in sizes.items():
            fill(prefix + names[part] + ".weight", rows, columns)
            fill(prefix + names[part] + ".bias", rows)
        for part in ("norm1", "norm2"):
            fill(prefix + names[part] + ".weight", width, around=1.0)
            fill(prefix + names[part] + ".bias", width)
    return w


def random_weights(architecture: Architecture) -> Weights:
    return Weights.read(random_arrays(architecture), architecture)


def random_input() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, (3, 30))
    mask = np.ones((3, 30), dtype=np.float32)
    mask[1, 20:] = 0  # shorter texts, padded
    mask[2, 5:] = 0
    return ids, mask


@pytest.mark.parametrize("architecture", [BERT, MPNET], ids=["bert", "mpnet"])
def test_the_onnx_graph_computes_the_numpy_forward_pass(architecture):
    weights = random_weights(architecture)
    graph = OnnxForward(build_graph(weights).SerializeToString(), architecture)
    ids, mask = random_input()
    expected = numpy_forward(weights, ids, mask)
    got = graph(ids, mask)
    assert got.shape == expected.shape == (3, 30, 48)
    real = mask[..., None] == 1  # padding pieces' own vectors are never pooled
    assert np.abs(np.where(real, got - expected, 0)).max() < 1e-4
    assert np.abs(expected[mask == 1]).max() > 0.5  # the comparison is of real numbers


@pytest.mark.parametrize("architecture", [BERT, MPNET], ids=["bert", "mpnet"])
def test_a_built_model_keeps_its_weights_in_a_file_beside_it_and_computes_as_its_graph(architecture, tmp_path):
    arrays = random_arrays(architecture)
    built = BuiltModel("tiny", architecture, 48, int8=False, read=lambda: (arrays, b"{}"), weights_identity=lambda: "tiny")
    folder = build(built, tmp_path)
    # the weights (and their rearranged copies) are in the file processes map, not in the graph
    assert (folder / WEIGHTS_FILE).stat().st_size > 10 * (folder / MODEL_FILE).stat().st_size
    ids, mask = random_input()
    expected = OnnxForward(build_graph(Weights.read(arrays, architecture)).SerializeToString(), architecture)(ids, mask)
    assert np.array_equal(OnnxForward(folder / MODEL_FILE, architecture)(ids, mask), expected)


def test_mpnet_buckets_distances_as_it_was_trained():
    buckets = relative_buckets(140, 32)
    # exact up to 7 pieces apart, later keys in the upper half, then log-spaced, capped at 128 apart
    assert list(buckets[10, 3:18]) == [7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23]
    assert (buckets[0, 8], buckets[0, 16], buckets[0, 32], buckets[0, 64], buckets[0, 139]) == (24, 26, 28, 30, 31)
    assert (buckets[16, 0], buckets[139, 0]) == (10, 15)


def test_an_unbuilt_model_says_to_run_setup(tmp_path):
    with pytest.raises(RuntimeError, match="make setup"):
        load(MPNET_MODEL, tmp_path / "mpnet-missing")


SENTENCES = [
    "nobody sits with me at break", "I like maths because the teacher explains it well",
    "idk", "my mum helps me get dressed in the morning", "I want to be a vet when I'm older",
    "the dinner hall is too loud and I cover my ears", "I text my friends on my own phone",
    "some kids on the bus call me names", "I go swimming on saturdays with my dad",
    "my TA helps me read the questions", "i get the school taxi and the driver is nice",
    "I don't sleep well because of my brother", "my hamster is called nugget",
    "When I get angry I go to the calm room", "i wish teachers asked me what i think",
    "I can make toast by myself now", "my legs hurt after PE", "I'm scared of the big boys in the toilets",
    "I feel left out at lunch", "I'm going to college next year to learn cooking",
    "lol", "my sister steals my stuff", "I like it when we do art", "I don't know who to tell when I'm sad",
]


def test_minilm_on_onnxruntime_gives_the_numpy_vectors():
    arrays, tokenizer = read_minilm()
    expected = numpy_encoder(arrays, tokenizer.decode("utf-8"), BERT).encode(SENTENCES)
    got = sentence_encoder().encode(SENTENCES)
    assert np.abs(got - expected).max() < 1e-5


def test_int8_mpnet_keeps_the_vectors_of_the_float_weights():
    """The built model (int8) against the NumPy forward pass of the packaged float weights."""
    arrays, tokenizer = read_mpnet()
    expected = numpy_encoder(arrays, tokenizer.decode("utf-8"), MPNET).encode(SENTENCES)
    del arrays
    got = mpnet_encoder().encode(SENTENCES)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.99, dict(zip(SENTENCES, cosines.round(4)))
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # and the model means: two ways of saying one thing are closer than two different things
    assert float(expected[0] @ expected[18]) > float(expected[0] @ expected[12]) + 0.2


def test_a_text_with_the_pieces_of_one_just_encoded_is_not_run_again():
    """The worry signal encodes "I like my TA" as "i like my ta"; Rasa's vector is of the typed
    words. The tokenizer lowercases, so the second is the first's vector, with no forward pass."""
    arrays, tokenizer = read_minilm()
    encoder = numpy_encoder(arrays, tokenizer.decode("utf-8"), BERT)
    forward, runs = encoder._forward, []
    encoder._forward = lambda ids, mask: runs.append(len(ids)) or forward(ids, mask)
    first = encoder.encode(["i like my ta", "nobody sits with me"])
    again = encoder.encode(["I like my TA", "nobody sits with me.", "i like my ta"])
    assert runs == [2, 1]  # only "nobody sits with me." (its full stop is a piece) ran again
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[2], first[0])
