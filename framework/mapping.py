"""Which outcome a child's free-text comment speaks to, by meaning, or none.

The child's words are stored as typed; this adds the outcome statements they speak to, with
how sure the mapper is, so a SENCO or council sees what a comment is about. Keyword lists
cannot reach meaning ("nobody sits with me at break" is about friends, with none of the
friendship words), so comments are compared as sentence vectors, from two encoders: MiniLM
(framework/encoder.py, the one Rasa uses) and the stronger MPNet (framework/onnx_encoder.py).

How a comment is filed:
1. Each area, and "none" (off topic, "idk", "no"), has labelled example comments
   (framework/examples/, see framework/comment_examples.py). An area scores the mean similarity
   of its NEAREST closest examples plus CLOSEST_WEIGHT of the closest one, plus a little for its
   closest statement wording (text, question or keyword); each encoder scores so, and an area's
   score is their weighted mean (MPNET_SHARE). A framework's areas also borrow the
   examples of the areas another framework's crosswalk pairs them with, and every framework's
   "none" examples, at BORROWED_WEIGHT. An area with no examples (a council's new framework) is compared with its statements' wording.
2. The keyword signal (framework/keyword_mapping.py) gives each match the child's words that
   matched and whether they were negated. Its score is not added: any share of it filed fewer
   dev comments right (78.6 % -> 77.2 % at a tenth, with the first batch of examples).
3. A softmax over the area scores says how sure the filing is (`confidence`). When "none"
   scores highest, nothing is filed. The best areas are returned (those within RELATIVE_CUTOFF
   of the best, at most MAX_AREAS), each as its best statement: scored the same way with that
   statement's own examples and wording.
All constants were chosen on tests/data/eval/comments_dev.yml and half of an outside batch,
tests/data/comments_tune4.yml (scripts/mapping_eval.py; the other half checks them).
A trained classifier (softmax regression over the example vectors), alone or blended with these
scores, filed no more dev comments right, so the mapper has none (README, "How comments are filed").
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from framework.comment_examples import NONE, Examples, load_examples
from framework.encoder import SentenceEncoder
from framework.keyword_mapping import KeywordMapper, KeywordMatch
from framework.loader import all_frameworks, load_framework
from framework.onnx_encoder import mpnet_encoder, sentence_encoder
from framework.schema import Framework
from framework.settings import get_settings

CHILD = "children_young_people"
# NEAREST, CLOSEST_WEIGHT, WORDING_WEIGHT and MPNET_SHARE were last chosen together on dev and half
# of the outside batch tune4 (scripts/mapping_eval.py dev tune4_odd), and checked on the other half:
# from 20, 0.5, 0.1, 0.5 they took dev top-1 85.2 -> 86.6 % and tune4_even 87.8 -> 90.8 %. Fewer,
# nearer examples and less pull from the single closest one: a comment's few true neighbours say
# more than an area's twentieth-best example, and one odd near-twin less.
NEAREST = 12  # examples whose mean similarity counts, besides the closest one
CLOSEST_WEIGHT = 0.3  # the one closest example: a near twin says much, but one example can be odd
WORDING_WEIGHT = 0.05  # the closest statement text, question or keyword
MPNET_SHARE = 0.6  # of each area's score, MiniLM's the rest (alone, at the old weights: MiniLM 81.5 %, MPNet 82.3)
BORROWED_WEIGHT = 0.9  # a crosswalked area's example counts a little less than our own
SHARPNESS = 30.0  # turns score gaps into confidence (the best-calibrated value on dev: least log loss)
RELATIVE_CUTOFF = 0.3  # further areas kept when at least this share of the best's confidence
MAX_AREAS = 3
# A filing at least this sure is shown to staff as sure: on dev, 97.2 % of those (half of all
# comments) were filed right, and 75 % of the rest (tune4: 95.9 % of 62 %, and 80 %).
SURE_AT = 0.9


@dataclass(frozen=True)
class Match:
    statement_id: str
    area_id: str
    area_title: str
    score: float  # how sure the mapper is that the comment belongs to this area (0..1)
    evidence: tuple[str, ...] = ()  # the comment's words that matched keywords, if any
    negated: bool = False  # the comment negates those words ("my teacher never listens")

    def as_json(self) -> dict:
        return {
            "statement_id": self.statement_id,
            "area_id": self.area_id,
            "area_title": self.area_title,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True)
class Filing:
    """The mapper's answer for one comment: the matches (empty when none fits), best first, and
    how sure it is of the first match, or that none fits."""

    matches: tuple[Match, ...]
    confidence: float
    ranking: tuple[str, ...]  # every area id and "none", most likely first


@dataclass(frozen=True)
class LabelledComment:
    text: str
    area_id: str
    statement_id: str | None
    weight: float


class CommentMapper:
    """Built once per framework and perspective (vectors of examples and wording, cached on disk
    by content); map() then takes one pass of each encoder, about 10-30 ms in all."""

    def __init__(
        self,
        framework: Framework,
        perspective: str = CHILD,
        examples: Sequence[LabelledComment] = (),
        encoders: Sequence[tuple[SentenceEncoder, float]] | None = None,
        cache_dir: Path | None = None,
    ):
        """`encoders`: each with its share of an area's score (default MiniLM and MPNet)."""
        self.framework = framework
        self.perspective = perspective
        self._encoders = encoders or ((sentence_encoder(), 1.0 - MPNET_SHARE), (mpnet_encoder(), MPNET_SHARE))
        self._keywords = KeywordMapper(framework, perspective)
        statements = [(st, area) for area in framework.areas for st in area.statements if st.perspective == perspective]
        self._statements = [st.id for st, _ in statements]
        self._area_of = {st.id: area.id for st, area in statements}
        self._titles = {area.id: area.title for area in framework.areas}
        self.labels = [area.id for area in framework.areas if any(a is area for _, a in statements)] + [NONE]
        wording = [(text, st.id) for st, _ in statements
                   for text in dict.fromkeys([st.text, *([st.question] if st.question else []), *st.keywords])]
        examples = [e for e in examples if e.area_id in self.labels]
        texts = [t for t, _ in wording] + [e.text for e in examples]
        vectors = [cached_vectors(texts, encoder, cache_dir) for encoder, _ in self._encoders]
        self._wording = [v[: len(wording)] for v in vectors]
        self._wording_statement = np.array([self._statements.index(s) for _, s in wording])
        self._examples = [v[len(wording):] for v in vectors]
        self._example_weight = np.array([e.weight for e in examples], dtype=np.float32)
        # the rows of each label's and statement's examples (none: compare with its wording instead)
        self._area_rows = {label: _rows(e.area_id == label for e in examples) for label in self.labels}
        self._statement_rows = [_rows(e.statement_id == s for e in examples) for s in self._statements]
        self._wording_rows = [_rows(owner == j for owner in self._wording_statement) for j in range(len(self._statements))]
        self._members = {label: [j for j, s in enumerate(self._statements) if self._area_of[s] == label] for label in self.labels}
        self._threads = ThreadpoolController()

    def map(self, text: str) -> list[Match]:
        return list(self.file(text).matches)

    def as_json(self, text: str) -> dict:
        filing = self.file(text)
        return {"text": text, "matches": [m.as_json() for m in filing.matches], "confidence": round(filing.confidence, 3)}

    def file(self, text: str) -> Filing:
        if not text.strip():
            return Filing((), 1.0, (NONE,))
        near = self._similarities(text)
        scores = self._area_scores(near)
        confidence = np.exp(SHARPNESS * (scores - scores.max()))
        confidence /= confidence.sum()
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        ranking = tuple(self.labels[i] for i in order)
        matches = []
        for i in order:
            label = self.labels[i]
            if label == NONE or confidence[i] < RELATIVE_CUTOFF * confidence[order[0]] or len(matches) == MAX_AREAS:
                break
            best = max(self._members[label], key=lambda j: self._score(
                near, self._statement_rows[j], [j], self._wording_rows[j]))
            words = near.keyword.get(self._statements[best])
            matches.append(Match(
                statement_id=self._statements[best], area_id=label, area_title=self._titles[label],
                score=float(confidence[i]),
                evidence=words.evidence if words else (), negated=words.negated if words else False,
            ))
        return Filing(tuple(matches), float(confidence[order[0]]), ranking)

    def _similarities(self, text: str) -> _Near:
        views = []
        for (encoder, share), examples, wording_vectors in zip(self._encoders, self._examples, self._wording):
            vector = encoder.encode([text])[0]
            # one BLAS thread, as in the encoders: for one vector, more threads only wait on each other
            with self._threads.limit(limits=1, user_api="blas"):
                wording = wording_vectors @ vector
                similar = (examples @ vector) * self._example_weight
            closest = np.full(len(self._statements), -1.0, dtype=np.float32)
            np.maximum.at(closest, self._wording_statement, wording)
            views.append(_View(share, similar, wording, closest))
        return _Near(tuple(views), keyword={m.statement_id: m for m in self._keywords.map(text)})

    def _area_scores(self, near: _Near) -> np.ndarray:
        """One score per label (each area, then none)."""
        scores = []
        for label in self.labels:
            if label == NONE:
                scores.append(self._score(near, self._area_rows[label], [], np.array([], dtype=int)))
                continue
            members = self._members[label]
            scores.append(self._score(
                near, self._area_rows[label], members, np.concatenate([self._wording_rows[j] for j in members]),
            ))
        return np.array(scores)

    @staticmethod
    def _score(near: _Near, example_rows: np.ndarray, statements: list[int], wording_rows: np.ndarray) -> float:
        """Per encoder, a share of the closest example plus the mean of the NEAREST closest (or,
        without examples, the same over the wording), plus a share of the statements' closest
        wording; then the encoders' scores by their shares."""
        total = 0.0
        for view in near.views:
            sims = view.examples[example_rows] if example_rows.size else view.all_wording[wording_rows]
            if not sims.size:
                return -1.0
            nearest = np.sort(sims)[::-1]
            wording = float(view.wording[statements].max()) if statements else 0.0
            total += view.share * (CLOSEST_WEIGHT * nearest[0] + nearest[:NEAREST].mean() + WORDING_WEIGHT * wording)
        return total


@dataclass(frozen=True)
class _View:
    """How close one comment is to everything the mapper compares it with, by one encoder."""

    share: float  # of the area scores
    examples: np.ndarray  # per example, weighted
    all_wording: np.ndarray  # per statement wording (text, question, keyword)
    wording: np.ndarray  # per statement, its closest wording


@dataclass(frozen=True)
class _Near:
    views: tuple[_View, ...]  # one per encoder
    keyword: dict[str, KeywordMatch]


# Vectors this process has encoded, by encoder and text: every framework borrows the others'
# examples, so preparing each framework's file would otherwise encode each example again
# (with MPNet, about a minute of `make setup`). Filled only when a file is missing.
_ENCODED: dict[str, dict[str, np.ndarray]] = {}


def cached_vectors(texts: list[str], encoder: SentenceEncoder, cache_dir: Path | None) -> np.ndarray:
    """The encoder's vectors for `texts`, from a file named by a hash of the model and the texts
    when one exists (encoding ~2,700 examples takes a minute or two with MPNet on a busy machine)."""
    if not texts:
        return np.zeros((0, encoder.dimensions), dtype=np.float32)
    key = hashlib.sha256("\0".join([encoder.identity, *texts]).encode("utf-8")).hexdigest()[:24]
    path = cache_dir / f"comment-vectors-{key}.npy" if cache_dir else None
    if path and path.is_file():
        try:
            # mapped, not read: every process that maps comments shares one copy in the page cache
            vectors = np.load(path, mmap_mode="r").view(np.ndarray)
            if vectors.shape == (len(texts), encoder.dimensions):
                return vectors
        except (OSError, ValueError):
            pass  # a damaged file is recomputed and replaced
    known = _ENCODED.setdefault(encoder.identity, {})
    new = list(dict.fromkeys(t for t in texts if t not in known))
    if new:
        known.update(zip(new, encoder.encode(new)))
    vectors = np.stack([known[t] for t in texts])
    if path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # written aside and renamed: a process reading at the same time sees a whole file
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as handle:
                np.save(handle, vectors)
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, path)
        except OSError:
            pass  # a read-only folder only costs the time to encode again next process
    return vectors


def examples_for(framework: Framework, perspective: str = CHILD) -> list[LabelledComment]:
    """The framework's own examples, and those of other frameworks' areas a crosswalk pairs with
    its areas (in either direction), for one perspective."""
    own = load_examples(framework.id)
    labelled = [LabelledComment(e.text, e.area, e.statement, 1.0) for e in _of(own, perspective)]
    for other in all_frameworks().values():
        if other.id == framework.id:
            continue
        # other area -> our area: from their crosswalk to us, or ours to them when one-to-one
        pairs = {theirs: ours for theirs, ours in other.crosswalk.items() if ours.startswith(framework.id + ".")}
        ours_to_theirs = {ours: theirs for ours, theirs in framework.crosswalk.items() if theirs.startswith(other.id + ".")}
        for ours, theirs in ours_to_theirs.items():
            if list(ours_to_theirs.values()).count(theirs) == 1:
                pairs.setdefault(theirs, ours)
        pairs[NONE] = NONE
        labelled += [LabelledComment(e.text, pairs[e.area], None, BORROWED_WEIGHT)
                     for e in _of(load_examples(other.id), perspective) if e.area in pairs]
    return labelled


def _rows(chosen) -> np.ndarray:
    return np.array([i for i, yes in enumerate(chosen) if yes], dtype=int)


def _of(examples: Examples | None, perspective: str):
    return examples.examples if examples and examples.perspective == perspective else ()


@lru_cache(maxsize=None)
def mapper_for(framework_id: str, perspective: str = CHILD) -> CommentMapper:
    """One mapper per framework and perspective, built on first use and kept by the process."""
    framework = load_framework(framework_id)
    return CommentMapper(framework, perspective, examples_for(framework, perspective),
                         cache_dir=get_settings().model_dir)
