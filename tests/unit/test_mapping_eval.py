"""Comment mapping measured on the labelled eval sets (tests/data/eval/comments_*.yml): the
figures may not fall below what was measured when the mapper was built (README), and no eval
comment may become an example the mapper files by."""
from __future__ import annotations

import pytest

from framework.comment_examples import load_examples
from answers_eval import SPLITS
from scripts import mapping_eval
from scripts.mapping_eval import NONE, Scores, evaluate, load

# Just under the figures measured on 2026-12-07 (README, "How comments are filed").
FLOORS = {
    # split: (top-1, top-3, "none" precision, "none" recall)
    "dev": (0.86, 0.97, 0.95, 0.88),  # measured 0.866, 0.983, 0.974, 0.905 (MiniLM and MPNet)
    # test's "none" precision fell from 1.000 to 0.929 with the pooling of 2026-12-07 (3 of its 42 "none"
    # filings had an area) while its top-1 rose; the floor keeps that, measured once, never tuned on
    "test": (0.84, 0.96, 0.92, 0.88),  # measured 0.849, 0.972, 0.929, 0.902 (MiniLM and MPNet)
}


def same(text: str) -> str:
    return " ".join(text.lower().split())


def test_no_eval_comment_is_an_example():
    held_out = {same(item.text) for split in SPLITS for item in load(split)}
    for framework_id in ("york", "shropshire"):
        leaked = [e.text for e in load_examples(framework_id).examples if same(e.text) in held_out]
        assert leaked == [], framework_id


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_comment_mapping_holds_its_measured_figures(split):
    scores = evaluate(split)
    top1, top3, none_precision, none_recall = FLOORS[split]
    assert scores.total == 351
    assert scores.top1 / scores.total >= top1, scores.wrong
    assert scores.top3 / scores.total >= top3
    assert scores.precision(NONE) >= none_precision
    assert scores.recall(NONE) >= none_recall


def test_the_eval_script_lists_wrong_filings_with_v(monkeypatch, capsys):
    splits = []

    def scored(split):
        splits.append(split)
        return Scores(split, total=1, wrong=[("my cat is called biscuit", NONE, "york.heard")])

    monkeypatch.setattr(mapping_eval, "evaluate", scored)
    assert mapping_eval.main(["dev", "-v"]) == 0
    assert splits == ["dev"]  # "-v" is not a split
    printed = capsys.readouterr().out
    assert "comment mapping, dev: 1 comments" in printed
    assert "york.heard" in printed and "my cat is called biscuit" in printed


def test_a_batch_splits_into_two_halves_that_share_no_comment():
    whole, odd, even = load("tune4"), load("tune4_odd"), load("tune4_even")
    assert odd == whole[0::2] and even == whole[1::2]
    assert len(odd) + len(even) == len(whole) == 197
