"""How well comments are filed under their outcome area, on the labelled eval sets.

tests/data/eval/comments_{dev,test}.yml label each comment with the one area a SENCO would file
it under (`also`: a second, equally right area) or "none". A comment counts as filed right at
top-1 when the mapper files it in a right area (or files it nowhere, for "none"), and at top-3
when a right area (or "none") is among the mapper's first three choices.

    .venv/bin/python scripts/mapping_eval.py dev tune4_odd

`tune4` is an outside writer's blind batch (tests/data/comments_tune4.yml), scored once before any
tuning; `tune4_odd` (its 1st, 3rd, ... comments) may be tuned on, `tune4_even` checks whether a
change tuned there holds on comments it never saw.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from answers_eval import SPLITS
from framework.mapping import mapper_for

EVAL_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval"
BATCHES = {"tune4": EVAL_DIR.parent / "comments_tune4.yml"}
HALVES = {"_odd": 0, "_even": 1}  # the 1st, 3rd, ... comments, or the 2nd, 4th, ...
NONE = "none"


@dataclass(frozen=True)
class Labelled:
    text: str
    framework: str
    areas: tuple[str, ...]  # the right areas, or ("none",)


@dataclass
class Scores:
    split: str
    total: int = 0
    top1: int = 0
    top3: int = 0
    # per label (an area id, or "none"): how often it was given rightly, given, found when wanted
    # (an `also` area given counts as found), and wanted
    right: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    given: Counter = field(default_factory=Counter)
    wanted: Counter = field(default_factory=Counter)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # text, wanted, given

    def precision(self, label: str) -> float:
        return self.right[label] / self.given[label] if self.given[label] else 0.0

    def recall(self, label: str) -> float:
        return self.found[label] / self.wanted[label] if self.wanted[label] else 0.0


def load(split: str) -> list[Labelled]:
    """An eval split (`dev`), a batch (`tune4`), or half of a batch (`tune4_odd`)."""
    for suffix, start in HALVES.items():
        if split.endswith(suffix) and split.removesuffix(suffix) in BATCHES:
            return load(split.removesuffix(suffix))[start::2]
    path = BATCHES.get(split, EVAL_DIR / f"comments_{split}.yml")
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return [
        Labelled(str(c["text"]), c["framework"], (c["area"], *c.get("also", [])))
        for c in data["comments"]
    ]


def evaluate(split: str) -> Scores:
    scores = Scores(split)
    for item in load(split):
        ranked_areas = mapper_for(item.framework).file(item.text).ranking
        given = ranked_areas[0]
        scores.total += 1
        scores.wanted[item.areas[0]] += 1
        scores.given[given] += 1
        if given in item.areas:
            scores.top1 += 1
            scores.right[given] += 1
            scores.found[item.areas[0]] += 1
        else:
            scores.wrong.append((item.text, item.areas[0], given))
        if any(area in item.areas for area in ranked_areas[:3]):
            scores.top3 += 1
    return scores


def format_scores(scores: Scores) -> str:
    lines = [
        f"comment mapping, {scores.split}: {scores.total} comments, "
        f"top-1 {scores.top1 / scores.total:.1%}, top-3 {scores.top3 / scores.total:.1%}",
        f"{'area':<26}{'precision':>10}{'recall':>8}{'support':>9}",
    ]
    for label in sorted(scores.wanted, key=lambda name: (name == NONE, name)):
        lines.append(
            f"{label:<26}{scores.precision(label):>10.3f}{scores.recall(label):>8.3f}{scores.wanted[label]:>9}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    for split in [a for a in argv if a != "-v"] or SPLITS:
        scores = evaluate(split)
        print(format_scores(scores))
        if verbose:
            for text, wanted, given in scores.wrong:
                print(f"  {wanted:<24} {given:<24} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
