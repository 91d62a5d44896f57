"""The safeguarding screen: every chat message passes through it before Rasa.

First the rules (no dialogue state, no ML model): the message is normalised (normalise.py), run
through the shared English pipeline (framework/nlp.py: blank spaCy with the lookup lemmatizer, as
the comment mapper uses), and matched against the patterns in rules.yml. A disclosure split over
messages is caught by also screening the last one or two previous messages joined to the current
one; such matches must reach into the current message, because the earlier messages were
screened when they were sent. A full stop after a fragment of a word or two ("shouting. banging.
mum crying. every night") does not end a sentence for the patterns, so such lists are read
together; a negation word still reaches only its own sentence ("no. he hits me" stays a
disclosure), and a match across fragments can be cancelled by a look-alike in any of them. Then, when no rule fired, the worry signal (framework/worry.py: the
message's meaning against labelled worries and look-alikes) raises the alert on its own when it
is very sure: children disclose in words nobody wrote a pattern for. Such an alert has no
category (the DSL reads the words; the SENCO never sees them) and no evidence span. The signal
is not asked about a message the rules cleared: one that is mostly an act they found negated
("nobody hurts me", "my dad never hits me"), whose meaning is close to a worry's but is not one.
The message's words outside its negated acts (`unnegated`) go on to Rasa with it: a confident
`concern` intent is confirmed by the signal on those words only (actions/forms.py).

    from bot.safeguarding.screen import screen
    screen("my step dad hurts me").risk  -> True
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import wordfreq
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from bot.safeguarding.normalise import Normaliser, TrackedText
from bot.safeguarding.rules import CATEGORIES, RULES_PATH, Pattern, Rule, RuleSet, load_rules, lexicon_words
from framework.nlp import english, lemma_table, text_speak
from framework.worry import WorrySignal, worry_signal

__all__ = ["CATEGORIES", "ScreenResult", "Screener", "screen"]

_SENTENCE_END = set(".!?;…")
_NEGATION_WINDOW = 4  # tokens before the act in which "not", "never", "nobody" negate it
_UNLESS_BEFORE, _UNLESS_AFTER = 4, 6  # how near a look-alike pattern must be to cancel a match
_PREVIOUS_JOINED = 2  # how many earlier messages a split disclosure may start in
_FRAGMENT_WORDS = 2  # a "sentence" of this many words or fewer is read with the next one
_KNOWN_WORDS = 40000  # most common English words (wordfreq): never "repaired" as misspellings


@dataclass(frozen=True)
class ScreenResult:
    risk: bool
    categories: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    # No rule fired, and at least half the message's words are an act a rule found negated.
    cleared: bool = False
    # When a rule found an act negated: the message's other words (normalised), else None.
    unnegated: str | None = None

    def as_json(self, text: str) -> dict:
        return {"text": text, "risk": self.risk, "categories": list(self.categories), "evidence": list(self.evidence),
                "cleared": self.cleared, "unnegated": self.unnegated}


# A piece of evidence: (message index, start, end) in that message's original text.
_Span = tuple[int, int, int]


class Screener:
    """Loads spaCy, the rules and the worry signal once; `match_rules` is then a few milliseconds
    per message, and the signal one sentence encoding more (for messages the rules pass)."""

    def __init__(self, rules_path: Path = RULES_PATH, signal: WorrySignal | None = None):
        self.signal = signal
        self.nlp = english()
        lemmas = lemma_table()
        self.rules: RuleSet = load_rules(
            rules_path,
            lemmatize=lambda word: lemmas.get(word, word),
            tokenize=lambda text: [t.text for t in self.nlp.make_doc(text)],
            text_speak=text_speak(),
        )
        self.negation = lexicon_words(self.rules, ["negation"])
        self.negation_cancel = lexicon_words(self.rules, ["negation_cancel"])
        self.normalise = Normaliser(
            self.rules.text_speak, self.rules.symbols, _targets(self.rules, lemmas), _known_words(lemmas)
        )
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.phrases.add("phrase", [self.nlp.make_doc(p) for p in sorted(self.rules.phrases)])
        # One Matcher per rule, run only when the message has the words one of its patterns needs:
        # spaCy tests set membership in Python, so skipping hopeless rules keeps a message to ~1 ms.
        self.matchers: list[tuple[Rule, Matcher]] = []
        for rule in self.rules.rules:
            matcher = Matcher(self.nlp.vocab, validate=True)
            for kind in ("match", "unless", "needs"):
                for i, pattern in enumerate(getattr(rule, kind)):
                    matcher.add(_key(rule, kind, i), [_token_specs(pattern)])
            self.matchers.append((rule, matcher))
        self.prefilter = _Prefilter(self.rules.rules)
        self._normalised = lru_cache(maxsize=4096)(self.normalise)

    def screen(self, text: str, previous: Sequence[str] | None = None) -> ScreenResult:
        """Screen `text`: the rules, then (if none fired) the worry signal on its own.
        `previous` is the same child's earlier messages, oldest first."""
        found = self.match_rules(text, previous)
        if found.risk or found.cleared or self.signal is None or not text or not text.strip():
            return found
        return ScreenResult(risk=True) if self.signal.hear(text).alone else found

    def match_rules(self, text: str, previous: Sequence[str] | None = None) -> ScreenResult:
        """The rules alone on `text` (and on it joined to `previous`)."""
        earlier = [p for p in (previous or []) if p and p.strip()][-_PREVIOUS_JOINED:]
        if not text or not text.strip():
            return ScreenResult(risk=False)
        messages = earlier + [text]
        categories: set[str] = set()
        spans: set[_Span] = set()
        cleared, unnegated = False, None
        # The current message alone (so an earlier "no" or "not really" cannot negate it), then
        # joined to the earlier ones (so "my step dad" + "he hurts me" is read as one disclosure).
        for first in sorted({len(messages) - 1, 0}, reverse=True):
            found_categories, found_spans, (negated, rest) = self._screen_joined(messages[first:])
            categories |= found_categories
            spans |= {(first + i, a, b) for i, a, b in found_spans}
            if first == len(messages) - 1:
                cleared, unnegated = negated, rest
        return ScreenResult(
            risk=bool(categories),
            categories=sorted(categories),
            evidence=_quote(messages, spans),
            cleared=cleared and not categories,
            unnegated=unnegated,
        )

    # ---- one pass over some messages joined --------------------------------------------------------
    def _screen_joined(self, messages: list[str]) -> tuple[set[str], set[_Span], tuple[bool, str | None]]:
        """The categories and evidence of the rules that fire, and whether acts the rules found
        negated make up at least half the words of the last message, and (when any act was
        negated) the last message's words outside the negated acts."""
        tracked = [self._normalised(m) for m in messages]
        doc, starts = self._doc(tracked)
        current_first = next((t.i for t in doc if t.idx >= starts[-1]), len(doc))
        sentence = _sentence_ids(doc)
        joined = _sentence_ids(doc, fragments_joined=True)
        candidates = self.prefilter.rules_for({t.lemma_ for t in doc} | {t.lower_ for t in doc})
        categories: set[str] = set()
        token_spans: list[tuple[int, int]] = []
        negated: set[int] = set()  # tokens of negated acts
        for index, (rule, matcher) in enumerate(self.matchers):
            if index not in candidates:
                continue
            hits: dict[str, list[tuple[int, int, list[int]]]] = defaultdict(list)
            for match_id, start, end, alignment in matcher(doc, with_alignments=True):
                if joined[start] == joined[end - 1]:
                    hits[self.nlp.vocab.strings[match_id]].append((start, end, alignment))
            found = self._rule_matches(rule, doc, hits, (sentence, joined), current_first, negated)
            if not found:
                continue
            if rule.needs:
                context = [(s, e) for i in range(len(rule.needs)) for s, e, _ in hits[_key(rule, "needs", i)]]
                if not context:
                    continue
                token_spans.append(min(context, key=lambda c: abs(c[0] - found[0][0])))
            categories.update(rule.categories)
            token_spans += found
        words = [t.i for t in doc[current_first:] if not t.is_punct]
        cleared = bool(words) and 2 * len(negated.intersection(words)) >= len(words)
        rest = " ".join(doc[i].text for i in words if i not in negated) if negated.intersection(words) else None
        spans = {span for s, e in token_spans for span in _sources(doc, s, e, tracked, starts)}
        return categories, spans, (cleared, rest)

    def _rule_matches(self, rule: Rule, doc: Doc, hits, sentences: tuple[list[int], list[int]], current_first: int,
                      negated: set[int]) -> list[tuple[int, int]]:
        """Matches of the rule that reach the current message, are not negated (if the rule
        allows that) and have no look-alike pattern nearby; the tokens of negated ones within one
        sentence, from the negation word on, are added to `negated`. `sentences` is the sentence
        ids, then the same with fragments joined: a match across fragments looks for look-alikes
        in all of them, a match within one sentence only in it (as negation always does). For
        evidence: per act (anchor) the longest match, so the person is quoted with the act, but
        never a span that swallows another act ("dad hurts me dad hurts me" is two quotes, not one)."""
        passing: list[tuple[int, int, int]] = []
        harmless = _LookAlikes([(s, e) for i in range(len(rule.unless)) for s, e, _ in hits[_key(rule, "unless", i)]])
        strict, joined = sentences
        for i, pattern in enumerate(rule.match):
            for start, end, alignment in hits[_key(rule, "match", i)]:
                if end <= current_first:
                    continue
                within = strict[start] == strict[end - 1]
                sentence = strict if within else joined
                anchor = start + alignment.index(pattern.anchor)
                negation = self._negation(doc, strict, anchor) if rule.negatable else None
                if negation is not None:
                    if within and not harmless.near(sentence, start, end):
                        negated.update(range(min(start, negation), end))
                    continue
                if harmless.near(sentence, start, end):
                    continue
                passing.append((start, end, anchor))
        kept = _longest_per_act(passing)
        return [(s, e) for s, e, a in passing if (s, e, a) in kept]

    def _negation(self, doc: Doc, sentence: list[int], anchor: int) -> int | None:
        """The index of the word negating the act at `anchor`, or None."""
        for j in range(anchor - 1, max(anchor - 1 - _NEGATION_WINDOW, -1), -1):
            if sentence[j] != sentence[anchor]:
                return None
            if doc[j].lemma_ in self.negation:
                between = {doc[k].lemma_ for k in range(j + 1, anchor)}
                return None if between & self.negation_cancel else j
        return None

    def _doc(self, tracked: list[TrackedText]) -> tuple[Doc, list[int]]:
        starts, pos = [], 0
        for t in tracked:
            starts.append(pos)
            pos += len(t.text) + 1
        # A closing full stop lets patterns say "at the end" (@end); it maps to no original text.
        doc = self.nlp(" ".join(t.text for t in tracked) + " .")
        fixes = self.rules.lemma_fixes
        for token in doc:
            token.lemma_ = fixes.get(token.lower_, token.lemma_.lower())
        phrases = filter_spans(self.phrases(doc, as_spans=True))
        with doc.retokenize() as retokenizer:
            for span in phrases:
                retokenizer.merge(span, attrs={"LEMMA": " ".join(t.lower_ for t in span)})
        return doc, starts


# A long message can hold thousands of matches: these two keep the work per match small
# (sorting, not comparing every match with every other).


class _LookAlikes:
    """A rule's look-alike ("unless") matches, sorted, to ask which are near a match."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.longest = max((e - s for s, e in self.spans), default=0)

    def near(self, sentence: list[int], start: int, end: int) -> bool:
        """A look-alike overlapping [start - _UNLESS_BEFORE, end + _UNLESS_AFTER), within the
        match's sentences, cancels the match."""
        first = bisect_right(self.starts, start - _UNLESS_BEFORE - self.longest)
        last = bisect_left(self.starts, end + _UNLESS_AFTER)
        for s, e in self.spans[first:last]:
            if e > start - _UNLESS_BEFORE and sentence[s] <= sentence[end - 1] and sentence[e - 1] >= sentence[start]:
                return True
        return False


def _longest_per_act(passing: list[tuple[int, int, int]]) -> set[tuple[int, int, int]]:
    """The matches (start, end, anchor) to quote: none that holds a match of another act (anchor),
    then per act only those no other match of it holds."""
    # A suffix sweep by start (latest first) keeps the two earliest ends with different anchors:
    # enough to know whether any match starting at or after this one, of another act, ends inside it.
    by_start: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for match in set(passing):
        by_start[match[0]].append(match)
    best: list[tuple[int, int]] = []  # up to two (end, anchor), earliest end first, anchors differ
    single: list[tuple[int, int, int]] = []
    for start in sorted(by_start, reverse=True):
        for _, end, anchor in by_start[start]:
            best = _two_earliest(best, end, anchor)
        for match in by_start[start]:
            other = next((e for e, a in best if a != match[2]), None)
            if other is None or other > match[1]:
                single.append(match)
    kept: set[tuple[int, int, int]] = set()
    furthest: dict[int, int] = {}  # per anchor, the furthest end of a match starting earlier
    for match in sorted(single, key=lambda m: (m[0], -m[1])):
        if match[1] > furthest.get(match[2], -1):
            kept.add(match)
            furthest[match[2]] = match[1]
    return kept


def _two_earliest(best: list[tuple[int, int]], end: int, anchor: int) -> list[tuple[int, int]]:
    merged = sorted([*best, (end, anchor)])
    out: list[tuple[int, int]] = []
    for item in merged:
        if all(a != item[1] for _, a in out):
            out.append(item)
    return out[:2]


class _Prefilter:
    """Which rules could match a doc: a rule is worth running only if, for one of its patterns,
    every required word slot has a candidate among the doc's words. Indexed by each pattern's
    narrowest slot so a message only looks at the few patterns its words can start."""

    def __init__(self, rules: Sequence[Rule]):
        self.index: dict[str, list[tuple[int, list[frozenset[str]]]]] = defaultdict(list)
        self.always: set[int] = set()
        for number, rule in enumerate(rules):
            for pattern in rule.match:
                required = [s.values for s in pattern.slots if s.kind in ("lemma", "lower") and not s.optional]
                if not required:
                    self.always.add(number)
                    continue
                for word in min(required, key=len):
                    self.index[word].append((number, required))

    def rules_for(self, words: set[str]) -> set[int]:
        found = set(self.always)
        for word in words:
            for number, required in self.index.get(word, ()):
                if number not in found and all(not values.isdisjoint(words) for values in required):
                    found.add(number)
        return found


def _key(rule: Rule, kind: str, index: int) -> str:
    return f"{rule.id}:{kind}:{index}"


def _token_specs(pattern: Pattern) -> list[dict]:
    specs = []
    for slot in pattern.slots:
        if slot.kind == "gap":
            # No token test here (it would cost a Python call per token and state); matches that
            # cross a sentence end are dropped afterwards.
            specs.append({"OP": f"{{0,{slot.gap}}}"})
            continue
        if slot.kind == "regex":
            spec: dict = {"LOWER": {"REGEX": slot.regex}}
        else:
            spec = {slot.kind.upper(): {"IN": sorted(slot.values)}}
        if slot.optional:
            spec["OP"] = "?"
        specs.append(spec)
    return specs


def _sentence_ids(doc: Doc, fragments_joined: bool = False) -> list[int]:
    """Per token, the number of its sentence; with `fragments_joined`, a sentence of at most
    _FRAGMENT_WORDS words runs on into the next."""
    ids, current, words = [], 0, 0  # words: since the last sentence end, joined or not
    for token in doc:
        ids.append(current)
        if not token.is_punct:
            words += 1
        elif set(token.text) <= _SENTENCE_END:
            if not (fragments_joined and words <= _FRAGMENT_WORDS):
                current += 1
            words = 0
    return ids


def _sources(doc: Doc, start: int, end: int, tracked: list[TrackedText], starts: list[int]) -> list[_Span]:
    """Where tokens doc[start:end] came from: one range per message they touch."""
    first, last = doc[start], doc[end - 1]
    a, b = first.idx, last.idx + len(last.text)
    out = []
    for i, t in enumerate(tracked):
        lo, hi = max(a, starts[i]), min(b, starts[i] + len(t.text))
        if lo < hi:
            src = t.source(lo - starts[i], hi - starts[i])
            if src[0] < src[1]:
                out.append((i, *src))
    return out


def _quote(messages: list[str], spans: set[_Span]) -> list[str]:
    """The child's own words for the evidence: overlapping ranges merged, in message order."""
    quotes: list[str] = []
    for i in range(len(messages)):
        ranges = sorted((a, b) for m, a, b in spans if m == i)
        merged: list[list[int]] = []
        for a, b in ranges:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            quote = messages[i][a:b].strip()
            if quote and quote not in quotes:
                quotes.append(quote)
    return quotes


def _known_words(lemma_table: dict[str, str]) -> dict[str, int]:
    """Ordinary words with a frequency rank; words only in the lemma table rank last."""
    ranks = {w: r for r, w in enumerate(wordfreq.top_n_list("en", _KNOWN_WORDS))}
    last = len(ranks)
    for word in lemma_table:
        ranks.setdefault(word, last)
    return ranks


def _targets(rules: RuleSet, lemma_table: dict[str, str]) -> frozenset[str]:
    """The rules' words with all their inflections ("touch" -> "touches", "touched", "touching")."""
    base = set(rules.vocabulary) | {lemma_table.get(w, w) for w in rules.vocabulary}
    forms = {form for form, lemma in lemma_table.items() if lemma in base}
    return frozenset(w for w in base | forms if w.isalpha())


@lru_cache(maxsize=1)
def default_screener() -> Screener:
    """The rules and the worry signal, as every chat message is screened."""
    return Screener(signal=worry_signal())


def screen(text: str, previous: Sequence[str] | None = None) -> ScreenResult:
    """Screen one message with the shared Screener (loaded on first use)."""
    return default_screener().screen(text, previous)
