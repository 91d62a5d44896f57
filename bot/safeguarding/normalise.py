"""Rewrite a child's message into plain lower-case English before matching, remembering where
every character came from so evidence can be quoted in the child's own words.

Handles case, symbols for words (knife emoji), spaced letters ("k i l l"), leetspeak ("k1ll",
"d!e", "h8"), stretched words ("kiiill"), dropped g ("hurtin"), over-regular endings ("hitted",
"bullys"), one-letter slips ("sucide", "slef", "touchs"), words run together ("killmyself") and
text-speak ("kms", "wanna", "no one" -> "nobody").
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache

_QUOTES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"',
           "\u2013": "-", "\u2014": "-"}
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\ufe0f", "\u00ad"}
# Leetspeak: which letters a symbol may stand for inside a word.
_LEET = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
         "*": "aeiou"}
_MAX_VARIANTS = 64
_WORD = re.compile(r"[a-z0-9@$*]+(?:'[a-z]+)*")  # contractions whole: "hasn't" is not "hasn" + "t"
_SPACED = re.compile(r"(?<![a-z0-9@$])((?:[a-z0-9@$][ .\-_*]){2,}[a-z0-9@$])(?![a-z0-9@$])")
_BANG_IN_WORD = re.compile(r"(?<=[a-z])!(?=[a-z])")
_TWO_IN_WORD = re.compile(r"(?<=[a-z]{2})2(?=[a-z]{2})")  # "want2die"
_JOINER = re.compile(r"(?<=[a-z])[-_](?=[a-z])")  # "step-dad", "self_harm"
_SPACE = re.compile(r"\s+")


class TrackedText:
    """Text plus, for each character, the [start, end) range of the original it came from."""

    def __init__(self, text: str, sources: list[tuple[int, int]]):
        self.text = text
        self.sources = sources

    @classmethod
    def from_original(cls, original: str) -> TrackedText:
        chars: list[str] = []
        sources: list[tuple[int, int]] = []
        for i, ch in enumerate(original):
            if ch in _INVISIBLE:
                continue
            out = _QUOTES.get(ch) or unicodedata.normalize("NFKC", ch).lower()
            chars.append(out)
            sources.extend([(i, i + 1)] * len(out))
        return cls("".join(chars), sources)

    def sub(self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str | None]) -> TrackedText:
        """Replace matches of `pattern` by replace(match) (None keeps the match). New characters
        point at the whole original range of the text they replace."""
        parts: list[str] = []
        sources: list[tuple[int, int]] = []
        pos = 0
        for m in pattern.finditer(self.text):
            new = replace(m)
            if new is None or new == m.group(0) or m.start() == m.end():
                continue
            parts.append(self.text[pos:m.start()])
            sources.extend(self.sources[pos:m.start()])
            parts.append(new)
            sources.extend([self.source(m.start(), m.end())] * len(new))
            pos = m.end()
        if not parts:
            return self
        parts.append(self.text[pos:])
        sources.extend(self.sources[pos:])
        return TrackedText("".join(parts), sources)

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The original range behind text[start:end]."""
        covered = self.sources[start:end]
        if not covered:
            return (0, 0)
        return (min(s for s, _ in covered), max(e for _, e in covered))


def _alternation(keys: list[str]) -> re.Pattern[str] | None:
    if not keys:
        return None
    ordered = sorted(keys, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(part) for part in key.split()) for key in ordered)
    return re.compile(rf"(?<![a-z0-9'])(?:{body})(?![a-z0-9'])")


class Normaliser:
    """Turns a raw message into TrackedText ready for the spaCy pipeline.

    targets: words the rules care about (with inflections); misspellings are repaired towards them.
    known: ordinary English words with a frequency rank (lower is more common); they are never
    "repaired", and they rank candidate repairs.
    """

    def __init__(self, text_speak: Mapping[str, str], symbols: Mapping[str, str],
                 targets: frozenset[str], known: Mapping[str, int]):
        self.text_speak = dict(text_speak)
        self.symbols = dict(symbols)
        self.targets = targets
        self.known = known
        self._text_speak_re = _alternation(list(self.text_speak))
        self._symbols_re = re.compile("|".join(re.escape(s) for s in self.symbols)) if self.symbols else None
        # Segments for run-together words: common words and the rules' own words.
        self._segments = frozenset(w for w, r in known.items() if r < 20000 and (len(w) > 1 or w in "ia")) | targets
        # Words that on their own show what a run-together word is about (not "to", "me", "the").
        self._content = frozenset(w for w in targets if len(w) >= 3 and known.get(w, 10**9) >= 150)
        self.repair = lru_cache(maxsize=20000)(self._repair)

    def __call__(self, text: str) -> TrackedText:
        tracked = TrackedText.from_original(text)
        if self._symbols_re:
            tracked = tracked.sub(self._symbols_re, lambda m: f" {self.symbols[m.group(0)]} ")
        tracked = tracked.sub(_BANG_IN_WORD, lambda m: "i")
        tracked = tracked.sub(_TWO_IN_WORD, lambda m: " to ")
        tracked = tracked.sub(_SPACED, self._join_spaced)
        tracked = tracked.sub(_JOINER, lambda m: " ")
        tracked = tracked.sub(_WORD, lambda m: self.repair(m.group(0)))
        if self._text_speak_re:
            tracked = tracked.sub(self._text_speak_re, lambda m: self.text_speak[_SPACE.sub(" ", m.group(0))])
        return tracked.sub(_SPACE, lambda m: " ")

    # ---- word repair ---------------------------------------------------------------------------
    def _is_word(self, word: str) -> bool:
        return word in self.known or word in self.targets or word in self.text_speak

    def _best(self, candidates: list[str]) -> str | None:
        """Prefer a word the rules care about, then text-speak, then the most common word."""
        for pool in (self.targets, self.text_speak):
            hits = [c for c in candidates if c in pool]
            if hits:
                return min(hits, key=lambda w: self.known.get(w, 10**9))
        hits = [c for c in candidates if c in self.known]
        return min(hits, key=self.known.__getitem__) if hits else None

    def _repair(self, word: str) -> str:
        if word.isdigit() or "'" in word or self._is_word(word) or not any(c.isalpha() for c in word):
            return word
        variants = self._variants(word)
        best = self._best(variants)
        if best:
            return best
        for variant in variants[:8]:
            fixed = self._fix_ending(variant) or self._one_slip(variant) or self._segment(variant)
            if fixed:
                return fixed
        return word

    def _variants(self, word: str) -> list[str]:
        """Leetspeak readings times ways of shortening stretched letters, the word itself first."""
        options = [_LEET.get(c, c) if not c.isalpha() else c for c in word]
        readings = ["".join(p) for p in itertools.islice(itertools.product(*options), _MAX_VARIANTS)]
        out: list[str] = []
        for reading in readings:
            runs = [m.group(0) for m in re.finditer(r"([a-z])\1*", reading)]
            choices = [(run,) if len(run) == 1 else (run[0], run[0] * 2) for run in runs]
            for combo in itertools.islice(itertools.product(*choices), _MAX_VARIANTS):
                candidate = "".join(combo)
                if candidate not in out:
                    out.append(candidate)
            if reading not in out:
                out.append(reading)
        return [w for w in out if w.isalpha()][: _MAX_VARIANTS * 2]

    def _fix_ending(self, word: str) -> str | None:
        candidates = []
        if word.endswith("in"):
            candidates.append(word + "g")  # hurtin -> hurting
        if word.endswith("ys"):
            candidates.append(word[:-2] + "ies")  # bullys -> bullies
        if word.endswith("yed"):
            candidates.append(word[:-3] + "ied")
        if word.endswith("ed"):
            candidates += [word[:-2], word[:-3]]  # beated -> beat, hitted -> hit
        return self._best([c for c in candidates if len(c) >= 3])

    def _one_slip(self, word: str) -> str | None:
        """A target word one typing slip away (Damerau distance 1). Three-letter words may only
        have a letter doubled ("kil" -> "kill"), so short names are left alone."""
        letters = "abcdefghijklmnopqrstuvwxyz"
        if len(word) < 3:
            return None
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        # Most likely slip first: a letter left out, then two swapped, then a wrong one, then an extra one.
        if len(word) == 3:
            kinds = [{a + a[-1] + b for a, b in splits if a}]
        else:
            kinds = [
                {a + c + b for a, b in splits for c in letters},
                {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1},
                {a + c + b[1:] for a, b in splits if b for c in letters},
                {a + b[1:] for a, b in splits if b},
            ]
        for edits in kinds:
            hits = [e for e in edits if e in self.targets and len(e) >= 3]
            if hits:
                return min(hits, key=lambda w: (self.known.get(w, 10**9), w))
        return None

    def _segment(self, word: str) -> str | None:
        """Split a run-together word into known words ("killmyself" -> "kill myself"), fewest
        pieces first, accepted only if a piece is one of the rules' content words."""
        if len(word) < 6 or len(word) > 40:
            return None
        best: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - 20), end):
                piece, before = word[start:end], best[start]
                if before is not None and piece in self._segments:
                    if best[end] is None or len(before) + 1 < len(best[end]):
                        best[end] = before + [piece]
        pieces = best[-1]
        if pieces and len(pieces) > 1 and any(p in self._content for p in pieces):
            return " ".join(pieces)
        return None

    def _join_spaced(self, m: re.Match[str]) -> str | None:
        """'k i l l' -> 'kill', only when the letters spell words the rules care about;
        'i a m' and 'a b c' stay as they are."""
        joined = re.sub(r"[ .\-_*]", "", m.group(0))
        repaired = self.repair(joined)
        if any(word in self._content for word in repaired.split()):
            return repaired
        return None
