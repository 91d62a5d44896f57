"""Typed answers from outside phrasings (tests/data/eval/answers_*.yml), read the way a
check-in reads them: Rasa's parse, the form's control words, then framework.answers.interpret
(the confidence bar and the guard on statement words).

- understood: the answer a careful adult would record (for `ask_back` items: asked back);
- misrecorded: a different answer stored without asking back, the worst outcome;
- asked back: nothing stored, the young person is asked again (or a control word is answered).

    nice -n 10 .venv/bin/python scripts/answers_eval.py dev own everyday  # tuned on: lists what went wrong
    nice -n 10 .venv/bin/python scripts/answers_eval.py test fresh   # held out: figures only
    nice -n 10 .venv/bin/python scripts/answers_eval.py dev crowd_own --curve  # understood against
        # misrecorded for each length from which the model's Yes needs a yes-word in the reply

`own` is the team's own sarcastic, mixed and contrastive replies (tests/data/answers_own.yml),
`everyday` the team's own plain ones in everyday words (tests/data/answers_everyday.yml), `crowd_own`
the team's crowd-style batch of everyday, conditional, person-naming and sarcastic replies
(tests/data/answers_crowd_own.yml), `crowd_own2` a second one, scored once and never tuned on,
`tune4` an outside writer's batch (tests/data/answers_tune4.yml), scored blind once, then tuned on.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from framework.answers import CONFIDENT, WORDS_FOR_A_YES_WITHOUT_A_YES_WORD, Answer, Reply, interpret
from framework.conversation import CONCERN, LEAVING_INTENTS, form_replies
from framework.leaving import asks_to_leave

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO / "tests" / "data" / "eval"
CHILDREN = REPO / "tests" / "data" / "nlu_heldout.yml"  # children's own phrasings, by intent
# The team's own replies: sarcastic and mixed ones, everyday ones, and a crowd-style batch
TEAM = {name: REPO / "tests" / "data" / f"answers_{name}.yml"
        for name in ("own", "everyday", "crowd_own", "crowd_own2", "tune4")}
# Sets whose items may be read while tuning; the others are reported as figures only.
TUNED_ON = ("dev", "own", "everyday", "crowd_own", "tune4", "children")
# The labelled splits (tests/data/eval/README.md). dev: tuned on; test: split from the same batch;
# fresh, fresh2, fresh3, fresh4: outside batches by writers who never saw Heard. All but dev are only reported.
SPLITS = ("dev", "test", "fresh", "fresh2", "fresh3", "fresh4")
# What each label asks to be stored; None: a careful adult would ask back. The sets have no
# skip label: "prefer not to say" is labelled dont_know, and Skip records no view just as
# "I don't know" does, so either counts.
EXPECTED = {"affirm": {"yes"}, "deny": {"no"}, "sometimes": {"sometimes"}, "dont_know": {"dont_know", "skipped"},
            "ask_back": None}
ASKED_BACK = "asked back"
MISRECORDED_BAR = 0.01
Parsed = tuple[str | None, float | None]  # the model's intent and its confidence
Parse = Callable[[Sequence[str]], list[Parsed]]
# The reply lengths the curve is drawn at: from so many words the model's Yes needs a yes-word
# in the reply (99: never, as before)
CURVE = (99, 8, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class Item:
    question: str
    text: str
    label: str
    style: str


def load(split: str) -> list[Item]:
    """The `dev`, `test` or `fresh` answers, or the team's `own` or `everyday` ones."""
    path = TEAM.get(split, EVAL_DIR / f"answers_{split}.yml")
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return [Item(a["question"], str(a["text"]), a["label"], a.get("style", "")) for a in data["answers"]]


def load_children() -> list[Item]:
    """The answers among the children's held-out phrasings (no question is recorded with them)."""
    data = YAML(typ="safe").load(CHILDREN.read_text(encoding="utf-8"))
    return [Item("", str(text), label, "children") for label in EXPECTED if label in data for text in data[label]]


def reading(question: str, text: str, intent: str | None, confidence: float | None,
            yes_needs_a_word_from: int = WORDS_FOR_A_YES_WITHOUT_A_YES_WORD) -> str:
    """What a check-in does with typed `text` at `question` (actions/forms.py, then
    framework.checkin): the answer value it stores, or ASKED_BACK."""
    if intent in LEAVING_INTENTS and asks_to_leave(intent, text):
        return ASKED_BACK  # the check-in stops or pauses; nothing is stored
    if (confidence or 0.0) >= CONFIDENT and (intent == CONCERN or form_replies(intent) is not None):
        return ASKED_BACK  # a control word or a worry is answered, then the question is asked again
    result = interpret(Reply(text=text, intent=intent, confidence=confidence, tapped=False),
                       question=question, yes_needs_a_word_from=yes_needs_a_word_from)
    return result.value if isinstance(result, Answer) else ASKED_BACK


@dataclass
class Score:
    results: list[tuple[Item, str]]

    def _count(self, judge: Callable[[Item, str], bool], style: str | None = None) -> float:
        chosen = [(i, got) for i, got in self.results if style is None or i.style == style]
        return sum(judge(i, got) for i, got in chosen) / max(len(chosen), 1)

    @staticmethod
    def is_understood(item: Item, got: str) -> bool:
        wanted = EXPECTED[item.label]
        return got == ASKED_BACK if wanted is None else got in wanted

    @staticmethod
    def is_misrecorded(item: Item, got: str) -> bool:
        return got != ASKED_BACK and got not in (EXPECTED[item.label] or ())

    def understood(self, style: str | None = None) -> float:
        return self._count(self.is_understood, style)

    def misrecorded(self, style: str | None = None) -> float:
        return self._count(self.is_misrecorded, style)

    def asked_back(self, style: str | None = None) -> float:
        return self._count(lambda i, got: got == ASKED_BACK, style)

    def misrecorded_items(self) -> list[tuple[Item, str]]:
        return [(i, got) for i, got in self.results if self.is_misrecorded(i, got)]

    def needlessly_asked_items(self) -> list[Item]:
        """Answers a careful adult would have recorded that were asked back instead."""
        return [i for i, got in self.results if got == ASKED_BACK and not self.is_understood(i, got)]


def score(items: Sequence[Item], parsed: Sequence[Parsed],
          yes_needs_a_word_from: int = WORDS_FOR_A_YES_WITHOUT_A_YES_WORD) -> Score:
    """Each item read from its parse (in the same order)."""
    return Score([(item, reading(item.question, item.text, intent, confidence, yes_needs_a_word_from))
                  for item, (intent, confidence) in zip(items, parsed)])


def parse_with_model(rasa_python: str, model: Path) -> Parse:
    """Rasa's own parse of each text, by the trained model, in Rasa's environment."""

    def parse(texts: Sequence[str]) -> list[Parsed]:
        done = subprocess.run(
            # as a module from the project root, so Rasa finds our component (nlu_components/)
            [rasa_python, "-m", "scripts.rasa_parse", str(model)], input="".join(json.dumps(t) + "\n" for t in texts),
            capture_output=True, text=True, check=True, cwd=REPO,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return [(row["intent"], row["confidence"]) for row in rows]

    return parse


def format_score(name: str, result: Score, list_items: bool = True) -> str:
    """The figures by style, then (with `list_items`) each misrecorded reply and each answer asked back."""
    styles = sorted(Counter(i.style for i, _ in result.results).items())
    lines = [f"answers {name}: {len(result.results)} typed replies",
             f"{'style':<12}{'n':>5}{'understood':>12}{'misrecorded':>13}{'asked back':>12}"]
    for style, n in [*styles, ("all", len(result.results))]:
        which = None if style == "all" else style
        lines.append(f"{style:<12}{n:>5}{result.understood(which):>12.1%}"
                     f"{result.misrecorded(which):>13.1%}{result.asked_back(which):>12.1%}")
    if list_items:
        lines += [f"  misrecorded: {item.text!r} ({item.label}) stored {got}"
                  for item, got in result.misrecorded_items()]
        lines += [f"  asked back: {item.text!r} ({item.label}, {item.style})" for item in result.needlessly_asked_items()]
    return "\n".join(lines)


def format_curve(scored: dict[str, Callable[[int], Score]]) -> str:
    """Understood and misrecorded on each set, and on all of them together, at each length in
    CURVE (`scored`: a set's score at a length)."""
    lines = ["words   " + "".join(f"{name:>20}" for name in (*scored, "together")),
             "        " + "".join(f"{'understood / mis':>20}" for _ in range(len(scored) + 1))]
    for length in CURVE:
        results = {name: at(length) for name, at in scored.items()}
        results["together"] = Score([r for result in results.values() for r in result.results])
        lines.append(f"{length:<8}" + "".join(f"{f'{r.understood():.1%} / {r.misrecorded():.1%}':>20}"
                                               for r in results.values()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", choices=(*SPLITS, *TEAM, "children"))
    parser.add_argument("--model", type=Path, default=REPO / "models" / "heard.tar.gz")
    parser.add_argument("--rasa-python", default=str(REPO / ".venv-rasa" / "bin" / "python"))
    parser.add_argument("--curve", action="store_true", help="understood / misrecorded at each length in CURVE")
    args = parser.parse_args(argv)
    sets = {name: load_children() if name == "children" else load(name) for name in args.sets}
    parsed = iter(parse_with_model(args.rasa_python, args.model)([i.text for items in sets.values() for i in items]))
    parses = {name: [next(parsed) for _ in items] for name, items in sets.items()}
    if args.curve:
        print(format_curve({name: lambda length, items=items, name=name: score(items, parses[name], length)
                            for name, items in sets.items()}))
        return 0
    for name, items in sets.items():
        print(format_score(name, score(items, parses[name]), list_items=name in TUNED_ON))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
