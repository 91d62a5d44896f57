"""Load and check the safeguarding rules file (rules.yml).

The file holds the screen's own content (symbols, lexicons, patterns; the text-speak it rewrites is
shared, framework/text_speak.yml); this module turns it into checked data structures and names the file in every error, so a bad edit fails loudly at
start-up instead of silently screening nothing. The pattern language is described in rules.yml.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from framework.safeguarding import safeguarding_categories

CATEGORIES = safeguarding_categories().ids  # framework/safeguarding_categories.yml
RULES_PATH = Path(__file__).with_name("rules.yml")
MAX_GAP = 10

_TOP_KEYS = {"version", "symbols", "lemma_fixes", "lexicons", "rules"}
_RULE_KEYS = {"id", "categories", "match", "unless", "needs", "negatable"}
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_GAP = re.compile(r"~(\d+)")


class RulesError(ValueError):
    """The rules file is missing, unreadable or wrong; `problems` lists every fault found."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class Slot:
    """One element of a pattern. kind: 'lemma' or 'lower' (values is a set), 'regex', or 'gap'."""

    kind: str
    values: frozenset[str] = frozenset()
    regex: str = ""
    gap: int = 0
    optional: bool = False
    anchor: bool = False


@dataclass(frozen=True)
class Pattern:
    source: str
    slots: tuple[Slot, ...]

    @property
    def anchor(self) -> int:
        """Index of the anchor slot: the marked one, else the first required word."""
        for i, slot in enumerate(self.slots):
            if slot.anchor:
                return i
        return next(i for i, s in enumerate(self.slots) if s.kind != "gap" and not s.optional)


@dataclass(frozen=True)
class Rule:
    id: str
    categories: tuple[str, ...]
    match: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    needs: tuple[Pattern, ...]
    negatable: bool


@dataclass(frozen=True)
class RuleSet:
    path: Path
    text_speak: dict[str, str]
    symbols: dict[str, str]
    lemma_fixes: dict[str, str]
    lexicons: dict[str, frozenset[str]]
    phrases: frozenset[str]  # multi-word lexicon entries, tokens joined by one space
    rules: tuple[Rule, ...]
    vocabulary: frozenset[str]  # every single word the rules mention: what misspellings are repaired towards


def load_rules(
    path: Path,
    lemmatize: Callable[[str], str],
    tokenize: Callable[[str], list[str]],
    text_speak: Mapping[str, str],
) -> RuleSet:
    """Read and check `path`. `lemmatize` maps one lower-case word to its lemma (before the file's
    lemma_fixes); `tokenize` splits text the way the screen's pipeline does; `text_speak` is what
    the screen rewrites before matching (its words are words misspellings may be repaired to)."""
    path = Path(path)
    try:
        tree = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise RulesError(path, [f"cannot read: {exc}"]) from exc
    return _Loader(path, lemmatize, tokenize).build(tree, dict(text_speak))


class _Loader:
    def __init__(self, path: Path, lemmatize: Callable[[str], str], tokenize: Callable[[str], list[str]]):
        self.path = path
        self.base_lemmatize = lemmatize
        self.tokenize = tokenize
        self.problems: list[str] = []
        self.lemma_fixes: dict[str, str] = {}
        self.lexicons: dict[str, frozenset[str]] = {}
        self.phrases: set[str] = set()
        self.vocabulary: set[str] = set()

    def lemma(self, word: str) -> str:
        return self.lemma_fixes.get(word, self.base_lemmatize(word).lower())

    def build(self, tree: object, text_speak: dict[str, str]) -> RuleSet:
        if not isinstance(tree, dict):
            raise RulesError(self.path, ["the file must be a mapping with 'lexicons' and 'rules'"])
        for key in sorted(set(tree) - _TOP_KEYS):
            self.problems.append(f"unknown top-level key '{key}'")
        for key in ("lexicons", "rules"):
            if key not in tree:
                self.problems.append(f"missing '{key}'")
        symbols = self._string_map(tree, "symbols")
        self.lemma_fixes = self._string_map(tree, "lemma_fixes")
        for value in text_speak.values():
            self.vocabulary.update(value.split())
        self._resolve_lexicons(tree.get("lexicons") or {})
        rules = self._rules(tree.get("rules") or [])
        if self.problems:
            raise RulesError(self.path, self.problems)
        return RuleSet(
            path=self.path,
            text_speak=text_speak,
            symbols=symbols,
            lemma_fixes=self.lemma_fixes,
            lexicons=self.lexicons,
            phrases=frozenset(self.phrases),
            rules=tuple(rules),
            vocabulary=frozenset(w for w in self.vocabulary if w.isalpha()),
        )

    def _string_map(self, tree: dict, key: str) -> dict[str, str]:
        raw = tree.get(key) or {}
        if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            self.problems.append(f"'{key}' must map text to text")
            return {}
        bad = [k for k in raw if k != k.lower()]
        if bad:
            self.problems.append(f"'{key}' keys must be lower case: {', '.join(bad)}")
        return {str(k): str(v) for k, v in raw.items()}

    # ---- lexicons ---------------------------------------------------------------------------
    def _resolve_lexicons(self, raw: object) -> None:
        if not isinstance(raw, dict):
            self.problems.append("'lexicons' must map names to lists of words")
            return
        for name, words in raw.items():
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                self.problems.append(f"lexicon name '{name}' must be lower_case_with_underscores")
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                self.problems.append(f"lexicon '{name}' must be a non-empty list of words")
        valid = {n: w for n, w in raw.items() if isinstance(w, list) and all(isinstance(x, str) for x in w)}
        for name in valid:
            self._lexicon(name, valid, ())

    def _lexicon(self, name: str, raw: dict[str, list[str]], stack: tuple[str, ...]) -> frozenset[str]:
        if name in self.lexicons:
            return self.lexicons[name]
        if name in stack:
            self.problems.append(f"lexicon '{name}' includes itself via {' -> '.join(stack + (name,))}")
            return frozenset()
        entries: set[str] = set()
        for word in raw[name]:
            word = word.strip().lower()
            if word.startswith("@"):
                if word[1:] not in raw:
                    self.problems.append(f"lexicon '{name}' includes unknown lexicon '{word}'")
                    continue
                entries |= self._lexicon(word[1:], raw, stack + (name,))
            else:
                entries |= self._entry_keys(word)
        self.lexicons[name] = frozenset(entries)
        return self.lexicons[name]

    def _entry_keys(self, word: str) -> set[str]:
        """The lemma keys a lexicon entry matches: a phrase becomes one merged token whose lemma
        is its tokens joined by spaces; a single word matches its own lemma."""
        tokens = [t.lower() for t in self.tokenize(word)]
        self.vocabulary.update(tokens)
        if len(tokens) > 1:
            phrase = " ".join(tokens)
            self.phrases.add(phrase)
            return {phrase}
        return {word, self.lemma(word)}

    # ---- rules --------------------------------------------------------------------------------
    def _rules(self, raw: object) -> list[Rule]:
        if not isinstance(raw, list) or not raw:
            self.problems.append("'rules' must be a non-empty list")
            return []
        rules, seen = [], set()
        for n, item in enumerate(raw, start=1):
            where = f"rule {n}"
            if not isinstance(item, dict):
                self.problems.append(f"{where} must be a mapping")
                continue
            rule_id = item.get("id")
            if not isinstance(rule_id, str) or not _NAME.fullmatch(rule_id):
                self.problems.append(f"{where} needs an 'id' in lower_case_with_underscores")
                rule_id = f"rule_{n}"
            where = f"rule '{rule_id}'"
            if rule_id in seen:
                self.problems.append(f"{where} is defined twice")
            seen.add(rule_id)
            for key in sorted(set(item) - _RULE_KEYS):
                self.problems.append(f"{where}: unknown key '{key}'")
            categories = item.get("categories")
            if not isinstance(categories, list) or not categories:
                self.problems.append(f"{where}: 'categories' must be a non-empty list")
                categories = []
            for category in categories:
                if category not in CATEGORIES:
                    self.problems.append(f"{where}: unknown category '{category}' (known: {', '.join(CATEGORIES)})")
            negatable = item.get("negatable", False)
            if not isinstance(negatable, bool):
                self.problems.append(f"{where}: 'negatable' must be true or false")
            match = self._patterns(item, "match", where, required=True)
            rules.append(
                Rule(
                    id=rule_id,
                    categories=tuple(sorted(set(c for c in categories if c in CATEGORIES))),
                    match=match,
                    unless=self._patterns(item, "unless", where),
                    needs=self._patterns(item, "needs", where),
                    negatable=bool(negatable),
                )
            )
        return rules

    def _patterns(self, item: dict, key: str, where: str, required: bool = False) -> tuple[Pattern, ...]:
        raw = item.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw) or (required and not raw):
            self.problems.append(f"{where}: '{key}' must be a {'non-empty ' if required else ''}list of patterns")
            return ()
        patterns = []
        for source in raw:
            try:
                patterns.append(self._pattern(source))
            except ValueError as exc:
                self.problems.append(f"{where}: {key} pattern \"{source}\": {exc}")
        return tuple(patterns)

    def _pattern(self, source: str) -> Pattern:
        slots = [self._slot(part) for part in source.split()]
        if not slots:
            raise ValueError("is empty")
        if slots[0].kind == "gap" or slots[-1].kind == "gap":
            raise ValueError("cannot start or end with a gap")
        if all(s.kind == "gap" or s.optional for s in slots):
            raise ValueError("needs at least one required word")
        anchors = [s for s in slots if s.anchor]
        if len(anchors) > 1:
            raise ValueError("has more than one ^ anchor")
        return Pattern(source=source, slots=tuple(slots))

    def _slot(self, part: str) -> Slot:
        gap = _GAP.fullmatch(part)
        if gap:
            size = int(gap.group(1))
            if not 1 <= size <= MAX_GAP:
                raise ValueError(f"gap '{part}' must be ~1 to ~{MAX_GAP}")
            return Slot(kind="gap", gap=size)
        anchor = part.startswith("^")
        part = part[1:] if anchor else part
        optional = len(part) > 1 and part.endswith("?")
        part = part[:-1] if optional else part
        if anchor and optional:
            raise ValueError(f"the anchor '^{part}?' cannot be optional")
        if len(part) > 2 and part.startswith("/") and part.endswith("/"):
            try:
                re.compile(part[1:-1])
            except re.error as exc:
                raise ValueError(f"bad regex {part}: {exc}") from None
            return Slot(kind="regex", regex=part[1:-1], optional=optional, anchor=anchor)
        alternatives = [a for a in part.lower().split("|")]
        if not all(alternatives):
            raise ValueError(f"empty alternative in '{part}'")
        exact = [a.startswith("=") for a in alternatives]
        if any(exact) and not all(exact):
            raise ValueError(f"'{part}' mixes =exact words with lemmas; split it into two patterns")
        values: set[str] = set()
        for alt in alternatives:
            if alt.startswith("="):
                values.add(alt[1:])
                self.vocabulary.add(alt[1:])
            elif alt.startswith("@"):
                if alt[1:] not in self.lexicons:
                    raise ValueError(f"unknown lexicon '{alt}'")
                values |= self.lexicons[alt[1:]]
            else:
                # Both: the lookup table is not idempotent ("feeds" -> "feed", but "feed" -> "fee").
                values |= {alt, self.lemma(alt)}
                self.vocabulary.add(alt)
        return Slot(kind="lower" if exact[0] else "lemma", values=frozenset(values), optional=optional, anchor=anchor)


def lexicon_words(ruleset: RuleSet, names: Iterable[str]) -> frozenset[str]:
    """The union of some lexicons (used for the engine's own lexicons: negation and its cancels)."""
    out: set[str] = set()
    for name in names:
        if name not in ruleset.lexicons:
            raise RulesError(ruleset.path, [f"missing lexicon '{name}' (the screen needs it)"])
        out |= ruleset.lexicons[name]
    return frozenset(out)
