"""Comments filed under their outcome by meaning (framework/mapping.py), the example comments
as data (framework/comment_examples.py), and the `heard map` contract."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from framework import mapping
from framework.comment_examples import load_examples, load_examples_file
from framework.loader import FrameworkError, load_framework
from framework.mapping import CommentMapper, LabelledComment, cached_vectors, examples_for, mapper_for
from framework.onnx_encoder import sentence_encoder
from framework.schema import Framework

ROOT = Path(__file__).resolve().parents[2]
CHILD = "children_young_people"


def framework() -> Framework:
    def area(ident, title, statement_id, text, question, keywords):
        statement = {"id": statement_id, "perspective": CHILD, "text": text, "question": question, "keywords": keywords}
        return {"id": ident, "title": title, "plain_title": title, "symbol": "1F44D", "statements": [statement]}

    return Framework.model_validate({
        "id": "mini",
        "title": "Mini outcomes framework",
        "source": {"council": "Test council", "document": "Test outcomes", "years": "2024", "seed_file": "none.txt"},
        "perspectives": {CHILD: {"label": "Children and young people"}},
        "areas": [
            area("mini.friends", "I have friends", "mini.friends.cyp1", "I have friends to play with.",
                 "Do you have friends?", ["friend", "play"]),
            area("mini.healthy", "I am healthy", "mini.healthy.cyp1", "I sleep and eat well.",
                 "Do you sleep well?", ["sleep", "food"]),
        ],
    })


EXAMPLES = [
    LabelledComment("nobody wants to hang out with me at lunch", "mini.friends", "mini.friends.cyp1", 1.0),
    LabelledComment("i sit on my own every break", "mini.friends", "mini.friends.cyp1", 1.0),
    LabelledComment("my best mate moved away and i miss him", "mini.friends", "mini.friends.cyp1", 1.0),
    LabelledComment("i stay up really late on my phone", "mini.healthy", "mini.healthy.cyp1", 1.0),
    LabelledComment("i only eat chicken nuggets and chips", "mini.healthy", "mini.healthy.cyp1", 1.0),
    LabelledComment("i am always tired in the morning", "mini.healthy", "mini.healthy.cyp1", 1.0),
    LabelledComment("idk", "none", None, 1.0),
    LabelledComment("my cat is called socks", "none", None, 1.0),
    LabelledComment("nothing else", "none", None, 1.0),
    LabelledComment("lol", "none", None, 1.0),
]


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> CommentMapper:
    return CommentMapper(framework(), examples=EXAMPLES, cache_dir=tmp_path_factory.mktemp("vectors"))


@pytest.mark.parametrize("text, area_id", [
    # none of the statements' words: only their meaning links them
    ("no one sits next to me in the dinner hall", "mini.friends"),
    ("i cant get to bed before midnight", "mini.healthy"),
])
def test_a_comment_is_filed_by_meaning(mini, text, area_id):
    top = mini.map(text)[0]
    assert (top.area_id, top.statement_id, top.area_title) == (area_id, area_id + ".cyp1", mini.framework.area(area_id).title)


@pytest.mark.parametrize("text", ["idk", "my dog is called biscuit", "", "   "])
def test_a_comment_about_no_outcome_is_filed_nowhere(mini, text):
    assert mini.map(text) == []
    assert mini.file(text).ranking[0] == "none"


def test_keyword_evidence_and_negation_come_with_the_match(mini):
    top = mini.map("i have no friends to play with")[0]
    assert top.area_id == "mini.friends"
    assert top.negated is True and "friends" in top.evidence


def test_json_shape_is_the_contract_plus_confidence(mini):
    text = "I sit alone at break and nobody talks to me"
    result = mini.as_json(text)
    assert set(result) == {"text", "matches", "confidence"}
    assert result["text"] == text  # the child's words exactly
    assert result["matches"][0]["area_id"] == "mini.friends"
    for match in result["matches"]:
        assert set(match) == {"statement_id", "area_id", "area_title", "score"}
        assert 0 < match["score"] <= 1
    assert [m["score"] for m in result["matches"]] == sorted((m["score"] for m in result["matches"]), reverse=True)
    assert result["confidence"] == result["matches"][0]["score"]
    assert json.loads(json.dumps(result)) == result
    nothing = mini.as_json("lol idk")
    assert nothing["matches"] == [] and 0.5 < nothing["confidence"] <= 1


def test_a_clear_comment_is_surer_than_a_vague_one(mini):
    clear = mini.file("nobody will play with me at break").confidence
    vague = mini.file("things are ok i guess").confidence
    assert clear > vague


def test_a_framework_without_examples_is_compared_with_its_wording(tmp_path):
    bare = CommentMapper(framework(), cache_dir=tmp_path)
    assert bare.map("I have lots of friends to play with")[0].area_id == "mini.friends"
    assert bare.map("I don't sleep well")[0].area_id == "mini.healthy"


class CountingEncoder:
    """The real encoder, counting the texts it is asked for."""

    def __init__(self):
        self.encoded = 0
        self.dimensions = sentence_encoder().dimensions
        self.identity = f"counting {id(self)}"  # its own, so no other test's vectors are reused

    def encode(self, texts):
        self.encoded += len(texts)
        return sentence_encoder().encode(texts)


def test_vectors_are_cached_on_disk_by_content(tmp_path, monkeypatch):
    monkeypatch.setattr(mapping, "_ENCODED", {})
    encoder = CountingEncoder()
    first = cached_vectors(["one text", "another"], encoder, tmp_path)
    again = cached_vectors(["one text", "another"], encoder, tmp_path)
    assert encoder.encoded == 2 and np.array_equal(first, again)
    changed = cached_vectors(["one text", "changed", "one text"], encoder, tmp_path)
    assert len(list(tmp_path.glob("comment-vectors-*.npy"))) == 2  # other texts, another file
    assert encoder.encoded == 3  # but each text is encoded once by a process
    assert np.array_equal(changed[0], first[0]) and np.array_equal(changed[2], first[0])
    # a damaged file is encoded again and replaced
    monkeypatch.setattr(mapping, "_ENCODED", {})
    for path in tmp_path.glob("comment-vectors-*.npy"):
        path.write_bytes(b"not numpy")
    assert np.allclose(cached_vectors(["one text", "another"], encoder, tmp_path), first, atol=1e-6)
    assert encoder.encoded == 5
    monkeypatch.setattr(mapping, "_ENCODED", {})
    cached_vectors(["one text", "another"], encoder, tmp_path)
    assert encoder.encoded == 5  # read from the file that replaced the damaged one


# ---- the bundled frameworks and their examples -------------------------------
@pytest.mark.parametrize("framework_id", ["york", "shropshire"])
def test_bundled_examples_cover_every_area_and_none(framework_id):
    examples = load_examples(framework_id)
    areas = {e.area for e in examples.examples}
    assert areas == {a.id for a in load_framework(framework_id).areas} | {"none"}


def test_areas_borrow_the_examples_of_their_crosswalked_areas():
    york = examples_for(load_framework("york"))
    own = len(load_examples("york").examples)
    borrowed = york[own:]
    assert len(borrowed) == len(load_examples("shropshire").examples)
    assert {e.area_id for e in borrowed} <= {a.id for a in load_framework("york").areas} | {"none"}
    # Shropshire's "happy" pairs with York's "overcome" by Shropshire's crosswalk
    happy = next(e.text for e in load_examples("shropshire").examples if e.area == "shropshire.happy")
    assert any(e.text == happy and e.area_id == "york.overcome" and e.weight < 1 for e in borrowed)


@pytest.mark.parametrize("text, area_id", [
    # from issue 13: what keyword lists filed wrongly or nowhere
    ("kids laugh at me on the school bus", "york.safe"),
    ("i want to get my english gcse", "york.goals"),
    ("nobody sits with me at break", "york.included"),
    ("i can tie my own shoes now", "york.independent"),
    ("teachers decide stuff without asking me", "york.heard"),
])
def test_york_comments_from_the_issue(text, area_id):
    assert mapper_for("york").map(text)[0].area_id == area_id


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "examples.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("body, line, says", [
    ("  - text: hi\n    area: york.nowhere\n    statement: york.nowhere.cyp1\n", 5, "unknown area 'york.nowhere'"),
    ("  - text: hi\n    area: york.safe\n    statement: york.safe.cyp9\n", 6, "unknown children_young_people statement"),
    ("  - text: hi\n    area: york.safe\n    statement: york.heard.cyp1\n", 4, "is not in area 'york.safe'"),
    ("  - text: idk\n    area: none\n    statement: york.safe.cyp1\n", 4, "has no 'statement'"),
    ("  - text: hi\n    area: york.safe\n", 4, "give the 'statement'"),
    ("  - text: hi\n    area: york.safe\n    statement: york.safe.cyp1\n    also: [york.nope]\n", 7, "'also' must name"),
    ("  - text: same\n    area: none\n  - text: Same\n    area: none\n", 6, "the same text as example 1"),
    ("  - text: hi\n    area: none\n    colour: red\n", 6, "unknown field"),
])
def test_a_broken_examples_file_names_the_file_and_line(tmp_path, body, line, says):
    path = write(tmp_path, "framework: york\nperspective: children_young_people\nexamples:\n" + body)
    with pytest.raises(FrameworkError) as raised:
        load_examples_file(path)
    [problem] = raised.value.problems
    assert problem.startswith(f"{path}:{line}: ") and says in problem, problem


def test_examples_for_an_unknown_framework_are_refused(tmp_path):
    path = write(tmp_path, "framework: atlantis\nperspective: children_young_people\nexamples:\n  - text: hi\n    area: none\n")
    with pytest.raises(FrameworkError, match=r"examples.yml:1: unknown framework 'atlantis'"):
        load_examples_file(path)


def test_heard_map_reads_stdin_and_prints_one_json_object_a_line():
    texts = ["the big kids push me in the line", "my hamster is called nugget", "nobody asks me what i think"]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "map", "-", "--framework", "york", "--json"],
        input="\n".join(texts) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == texts
    assert lines[0]["matches"][0]["area_id"] == "york.safe"
    assert lines[0]["matches"][0]["area_title"] == "I am safe"
    assert lines[1]["matches"] == [] and 0 < lines[1]["confidence"] <= 1
    assert lines[2]["matches"][0]["area_id"] == "york.heard"
