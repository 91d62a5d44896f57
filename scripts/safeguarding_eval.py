"""Safeguarding alerts on the labelled sets (tests/data/eval/safeguarding_*.yml), the way the chat
raises them: the screen's rules (bot/safeguarding/, through `heard screen -`) OR the worry signal
alone (framework/worry.py) OR Rasa's `concern` intent, confident, with the worry signal agreeing.

- recall: disclosures that raise an alert (the bar is 100 %);
- false alarms: benign look-alikes that raise one (the bar is 5 %);
- the curve: the worry signal's threshold for long messages (`alone_long`; short ones keep at
  least `alone`) against recall and false alarms on that split, which is how the thresholds in
  framework/safeguarding_examples.yml were chosen (on dev only).

    .venv/bin/python scripts/safeguarding_eval.py dev test    # Rasa's parses from .venv-rasa

`own` and `own2` are the team's own batches (tests/data/safeguarding_own_batch*.yml: the second
is indirect disclosures and hard look-alikes), each written before anything ran on it and then
tuned on like dev. `tune4` (tests/data/safeguarding_own_tune4.yml) was written by an outside
writer who saw only the seed texts; `tune4a` and `tune4b` are its halves, alternate messages (the
file runs category by category, so alternating keeps every category in both): tune on one,
check on the other, to see whether a change generalises before the lead's held-out sets.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from framework.answers import CONFIDENT
from framework.conversation import CONCERN
from framework.worry import worry_signal

REPO = Path(__file__).resolve().parent.parent
HEARD = REPO / ".venv" / "bin" / "heard"
EVAL_DIR = REPO / "tests" / "data" / "eval"
OWN_BATCHES = {"own": REPO / "tests" / "data" / "safeguarding_own_batch.yml",
               "own2": REPO / "tests" / "data" / "safeguarding_own_batch2.yml",
               "tune4": REPO / "tests" / "data" / "safeguarding_own_tune4.yml"}
DISCLOSURE = "disclosure"
FALSE_ALARM_BAR = 0.05  # the bar for the whole system (recall's is 100 %)
CURVE = tuple(round(-0.04 + 0.01 * i, 2) for i in range(21))  # -0.04 to 0.16


@dataclass(frozen=True)
class Item:
    text: str
    disclosure: bool
    category: str


@dataclass(frozen=True)
class Judged:
    item: Item
    rules: bool
    cleared: bool  # the rules found the message's act negated ("nobody hurts me"): the screen skips the signal
    score: float  # the worry signal
    words: int  # the message's words, as the signal counts them
    concern: bool  # Rasa's concern intent, confident

    def alerts(self, alone_long: float | None = None, with_concern: float | None = None) -> bool:
        """Whether the chat raises an alert (at the shipped thresholds unless others are given)."""
        shipped = worry_signal().thresholds
        with_concern = shipped.with_concern if with_concern is None else with_concern
        return self.rules or self.heard_alone(alone_long) or (self.concern and self.score >= with_concern)

    def heard_alone(self, alone_long: float | None = None) -> bool:
        """Whether the screen's worry signal alerts on its own: at the shipped bars, or with
        `alone_long` as the bar for long messages (and for short ones, if it is above `alone`)."""
        shipped = worry_signal().thresholds
        if alone_long is None:
            bar = shipped.alone_for(self.words)
        else:
            bar = alone_long if self.words >= shipped.long_from else max(alone_long, shipped.alone)
        return not self.cleared and self.score >= bar


HALVES = {"a": 0, "b": 1}  # "tune4a" is tune4's messages 0, 2, 4...; "tune4b" 1, 3, 5...


def load(split: str) -> list[Item]:
    half = None
    if split not in OWN_BATCHES and split[:-1] in OWN_BATCHES and split[-1] in HALVES:
        split, half = split[:-1], HALVES[split[-1]]
    path = OWN_BATCHES.get(split, EVAL_DIR / f"safeguarding_{split}.yml")
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    messages = data["messages"] if half is None else data["messages"][half::2]
    return [Item(str(m["text"]), m["label"] == DISCLOSURE, m["category"]) for m in messages]


def rules_fire(texts: Sequence[str]) -> list[tuple[bool, bool]]:
    """For each text, whether the screen's rules fire and whether they cleared it (its act
    negated): `heard screen` (the web app's own code, which scripts/ may not import) gives an
    alert of the rules a category; the worry signal's has none."""
    done = subprocess.run([str(HEARD), "screen", "-", "--json"], input="".join(t + "\n" for t in texts),
                          capture_output=True, text=True, check=True, cwd=REPO)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    return [(r["risk"] and bool(r["categories"]), r["cleared"]) for r in results]


def judge(items: Sequence[Item], parsed: Sequence[tuple[str | None, float | None]]) -> list[Judged]:
    texts = [" ".join(i.text.split()) for i in items]  # one line each for `heard screen -`
    signal = worry_signal()
    scores = signal.scores(texts)
    return [
        Judged(item, rules, cleared, float(score), signal.words(text), intent == CONCERN and (confidence or 0.0) >= CONFIDENT)
        for item, text, (rules, cleared), score, (intent, confidence) in zip(items, texts, rules_fire(texts), scores, parsed)
    ]


def rates(judged: Sequence[Judged], alerts) -> tuple[float, float]:
    """(recall on disclosures, false-alarm rate on benign look-alikes)."""
    disclosures = [j for j in judged if j.item.disclosure]
    benign = [j for j in judged if not j.item.disclosure]
    return (sum(map(alerts, disclosures)) / max(len(disclosures), 1), sum(map(alerts, benign)) / max(len(benign), 1))


def format_report(split: str, judged: Sequence[Judged]) -> str:
    t = worry_signal().thresholds
    rows = {
        "rules": lambda j: j.rules,
        "concern (confident)": lambda j: j.concern,
        "rules OR concern": lambda j: j.rules or j.concern,
        "worry signal alone": lambda j: j.heard_alone(),
        "alert (all)": lambda j: j.alerts(),
    }
    n_disclosures = sum(j.item.disclosure for j in judged)
    lines = [f"safeguarding {split}: {n_disclosures} disclosures, {len(judged) - n_disclosures} look-alikes "
             f"(thresholds: alone {t.alone:g}, from {t.long_from} words {t.alone_long:g}, with concern {t.with_concern:g})",
             f"{'signal':<22}{'recall':>8}{'false alarms':>14}"]
    for name, alerts in rows.items():
        recall, false_alarms = rates(judged, alerts)
        lines.append(f"{name:<22}{recall:>8.1%}{false_alarms:>14.1%}")
    # The rules were written with dev's disclosures in view, so on dev the curve of the signal on
    # its own is the honest guide: rules OR signal only shows what it adds on top.
    lines.append("curve, worry signal threshold: recall / false alarms of the signal alone (that bar for long"
                 " messages), of a confident concern with the signal at that bar, and of the alert with"
                 " `alone_long` at that bar")
    for threshold in CURVE:
        alone = rates(judged, lambda j: j.heard_alone(threshold))
        with_concern = rates(judged, lambda j: j.concern and j.score >= threshold)
        alert = rates(judged, lambda j: j.alerts(threshold, min(threshold, t.with_concern)))
        lines.append(f"  {threshold:>6.2f}  alone {alone[0]:>6.1%} / {alone[1]:>5.1%}"
                     f"   concern and signal {with_concern[0]:>6.1%} / {with_concern[1]:>5.1%}"
                     f"   alert {alert[0]:>6.1%} / {alert[1]:>5.1%}")
    final = [j for j in judged if j.item.disclosure != j.alerts()]
    missed = Counter(j.item.category for j in final if j.item.disclosure)
    alarms = Counter(j.item.category for j in final if not j.item.disclosure)
    lines.append("missed by category: " + (", ".join(f"{c} {n}" for c, n in missed.most_common()) or "none"))
    lines.append("false alarms by category: " + (", ".join(f"{c} {n}" for c, n in alarms.most_common()) or "none"))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from answers_eval import parse_with_model

    rasa_python = Path(os.environ.get("RASA", str(REPO / ".venv-rasa" / "bin" / "rasa"))).parent / "python"
    parse = parse_with_model(str(rasa_python), REPO / "models" / "heard.tar.gz")
    for split in argv or ["dev"]:
        items = load(split)
        print(format_report(split, judge(items, parse([i.text for i in items]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
