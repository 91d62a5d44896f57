#!/usr/bin/env python3
"""Cross-validated precision, recall and F1 per intent for Heard's Rasa NLU, then typed
answers from outside phrasings (tests/data/eval/answers_*.yml) through the check-in's path,
then safeguarding alerts on disclosures and look-alikes (scripts/safeguarding_eval.py), then
how well comments are filed under their outcome (scripts/mapping_eval.py), dev and test.

Runs `rasa test nlu --cross-validation` on data/nlu with config.yml, prints one row
per intent and exits 1 when any intent scores F1 below the bar (or a contract intent
is missing). Then the trained model (models/heard.tar.gz) reads the answers' dev and test
sets (scripts/answers_eval.py); it exits 1 when dev's misrecorded share is over the bar.
It runs from the app venv and calls the Rasa venv's executable (env RASA,
default .venv-rasa/bin/rasa).

    make nlu-report
    RASA=/path/to/rasa python scripts/nlu_report.py --folds 5 --out results
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from answers_eval import MISRECORDED_BAR, SPLITS, TUNED_ON, format_score, load, load_children, parse_with_model, score
from framework.answers import answer_scale
from framework.conversation import INTENTS
from mapping_eval import evaluate, format_scores
from safeguarding_eval import FALSE_ALARM_BAR, format_report, judge, rates
from safeguarding_eval import load as load_safeguarding

REPO = Path(__file__).resolve().parent.parent
MIN_F1 = 0.90
# Every intent young people type: the answer scale's and the conversation's typed ones.
TYPED_INTENTS = (
    *(a.intent for a in answer_scale().answers),
    *(intent.name for intent in INTENTS if intent.typed),
)
# Rows of sklearn's report that are summaries, not intents.
SUMMARY_ROWS = {"accuracy", "micro avg", "macro avg", "weighted avg"}


# rasa shuffles the folds with numpy's global random state and no seed; seeding it
# makes the split, and so the gate, the same on every run.
SEEDED_RASA = (
    "import sys, numpy; numpy.random.seed(0); sys.argv[0] = 'rasa'; "
    "from rasa.__main__ import main; main()"
)


def rasa_python(rasa: str) -> str:
    """The interpreter of the venv that holds the rasa executable."""
    executable = Path(shutil.which(rasa) or rasa)
    return str(executable.parent / "python")


def run_cross_validation(rasa: str, folds: int, out: Path) -> None:
    arguments = [
        "test", "nlu",
        "--nlu", "data/nlu", "--config", "config.yml",
        "--cross-validation", "--folds", str(folds),
        "--out", str(out),
    ]
    print("$", rasa, " ".join(arguments), flush=True)
    subprocess.run(
        [rasa_python(rasa), "-c", SEEDED_RASA, *arguments],
        cwd=REPO, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )


def intent_rows(report: dict) -> dict[str, dict]:
    return {name: row for name, row in report.items() if name not in SUMMARY_ROWS}


def failures(rows: dict[str, dict], min_f1: float) -> list[str]:
    """Every intent below the bar, and every contract intent with no examples."""
    problems = [
        f"{name}: F1 {row['f1-score']:.3f} < {min_f1:.2f}"
        for name, row in sorted(rows.items())
        if row["f1-score"] < min_f1
    ]
    problems += [f"{name}: missing from the data" for name in TYPED_INTENTS if name not in rows]
    return problems


def format_table(report: dict) -> str:
    rows = intent_rows(report)
    lines = [f"{'intent':<16}{'precision':>10}{'recall':>10}{'F1':>8}{'support':>9}"]
    for name in sorted(rows, key=lambda n: (rows[n]["f1-score"], n)):
        row = rows[name]
        mark = "" if name in TYPED_INTENTS else "  (extra)"
        lines.append(
            f"{name:<16}{row['precision']:>10.3f}{row['recall']:>10.3f}"
            f"{row['f1-score']:>8.3f}{row['support']:>9}{mark}"
        )
    for name in ("macro avg", "weighted avg"):
        if name in report:
            row = report[name]
            lines.append(
                f"{name:<16}{row['precision']:>10.3f}{row['recall']:>10.3f}"
                f"{row['f1-score']:>8.3f}{row['support']:>9}"
            )
    if "accuracy" in report:
        lines.append(f"{'accuracy':<16}{report['accuracy']:>28.3f}")
    return "\n".join(lines)


def answers_section(parse) -> list[str]:
    """Print the answers' figures on each split, and the children's held-out answers; dev's
    misrecorded share over the bar is a failure."""
    sets = {**{split: load(split) for split in SPLITS}, "children": load_children()}
    parsed = iter(parse([item.text for items in sets.values() for item in items]))
    results = {name: score(items, [next(parsed) for _ in items]) for name, items in sets.items()}
    for name, result in results.items():
        print()
        print(format_score(name, result, list_items=name in TUNED_ON))
    misrecorded = results["dev"].misrecorded()
    return [f"answers dev: misrecorded {misrecorded:.1%} > {MISRECORDED_BAR:.0%}"] if misrecorded > MISRECORDED_BAR else []


def safeguarding_section(parse) -> list[str]:
    """Print the alert figures on each split; dev's false alarms over the bar are a failure
    (the others are only reported: nothing is tuned on them)."""
    sets = {split: load_safeguarding(split) for split in SPLITS}
    parsed = iter(parse([item.text for items in sets.values() for item in items]))
    problems = []
    for split, items in sets.items():
        judged = judge(items, [next(parsed) for _ in items])
        print()
        print(format_report(split, judged))
        _, false_alarms = rates(judged, lambda j: j.alerts())
        if split == "dev" and false_alarms > FALSE_ALARM_BAR:
            problems.append(f"safeguarding dev: false alarms {false_alarms:.1%} > {FALSE_ALARM_BAR:.0%}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "results",
                        help="where rasa writes its reports (default: results/)")
    parser.add_argument("--min-f1", type=float, default=MIN_F1)
    parser.add_argument("--no-run", action="store_true",
                        help="only read an existing intent_report.json")
    parser.add_argument("--answers-only", action="store_true",
                        help="skip the cross-validation; only read the answers sets")
    parser.add_argument("--model", type=Path, default=REPO / "models" / "heard.tar.gz",
                        help="the trained model that reads the answers sets")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    rasa = os.environ.get("RASA", str(REPO / ".venv-rasa" / "bin" / "rasa"))

    problems = []
    if not args.answers_only:
        if not args.no_run:
            run_cross_validation(rasa, args.folds, out)
        report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
        print(format_table(report))
        problems += failures(intent_rows(report), args.min_f1)
    parse = parse_with_model(rasa_python(rasa), args.model)
    problems += answers_section(parse)
    problems += safeguarding_section(parse)
    for problem in problems:
        print("FAIL", problem, file=sys.stderr)
    for split in SPLITS:
        print()
        print(format_scores(evaluate(split)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
