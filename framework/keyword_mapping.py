"""The words signal of comment mapping: which statements' keywords and question words a comment
uses, and whether it negates them ("nobody listens to me").

framework/mapping.py files comments by meaning; this adds what words alone can show: the
child's words that matched (evidence) and negation, and a score a framework without example
comments can still rank by.

How a score is made: each statement has weighted terms (lemmas): its `keywords` weigh most,
content words of its plain `question` less, content words of its formal `text` least. A term
shared by many statements weighs less (it tells them apart badly). The matched weights of one
statement are summed, raised by a bonus for each further distinct term, and squashed into
0..1 by S / (S + HALF_SCORE_AT). Only matches above MIN_SCORE (and not far below the best) are kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from framework.nlp import SpellingFallback, english, lemma_of, read
from framework.schema import Framework, Statement

KEYWORD = 1.0
PHRASE_WORD_BONUS = 0.2  # per word of a keyword phrase beyond the first: "listen to me" beats "teacher"
KEYWORD_PART = 0.7  # one content word of a multi-word keyword ("talk" of "someone to talk to")
QUESTION_WORD = 0.6
TEXT_WORD = 0.4
EXTRA_TERM_BONUS = 0.25  # per distinct matched term beyond the first
HALF_SCORE_AT = 0.6  # summed weight that scores 0.5
MIN_SCORE = 0.42  # one specific keyword or question word passes; one text word alone does not
RELATIVE_CUTOFF = 0.5  # drop matches scoring under half the best one
MAX_MATCHES = 5

# Words almost any comment has; as question/text words they would tie comments to statements
# by accident ("I like minecraft" is not about a question that asks "Do you like …?").
# Keywords are chosen by the framework's authors and are never filtered.
CHAT_FILLER = frozenset(
    "like want feel think know thing lot way really good time day try let use need sure able "
    "also okay ok yes people stuff".split()
)

LITERAL = "="  # marks a term matched by its written form, not its lemma (see _statement_terms)

# Negation cues, as lemmas: "n't", "nt" and "not" all have the lemma "not".
NEGATION_CUES = frozenset(
    "not no never nobody none nothing nowhere neither nor without hardly barely".split()
)
NEGATION_WINDOW = 5  # tokens before a matched term that a cue may stand in
# Words and punctuation that end a clause, so a cue does not reach past them:
# "I don't like maths but my teacher listens" is not a negated "listens".
CLAUSE_BREAK_WORDS = frozenset(
    "but and or so because though although however yet except unless while whereas when if then until".split()
)
CLAUSE_BREAK_PUNCT = frozenset(".,;:!?()…")
# After a clause-opening "no" these words mean it answers something ("No I feel safe"),
# rather than negating what follows ("No one listens", "No friends").
_SUBJECTS = frozenset("i you he she we they it my that this".split())


@dataclass(frozen=True)
class KeywordMatch:
    statement_id: str
    area_id: str
    area_title: str
    score: float
    evidence: tuple[str, ...]  # the comment's words (normalised) that matched
    # The comment negates the matched words ("my teacher never listens"). When those words name
    # the outcome (listen, safe, friends) that means the child says it is NOT met; when they name
    # a problem ("nobody bullies me") it means the reverse. Keywords carry no polarity yet.
    negated: bool


@dataclass(frozen=True)
class _Evidence:
    start: int
    end: int
    term: str
    weight: float
    negated: bool


class KeywordMapper:
    """Built once per framework (about a second the first time, for spaCy); map() takes milliseconds."""

    def __init__(self, framework: Framework, perspective: str = "children_young_people"):
        self.framework = framework
        self.perspective = perspective
        self._statements: list[tuple[Statement, str, str]] = [
            (st, area.id, area.title)
            for area in framework.areas
            for st in area.statements
            if st.perspective == perspective
        ]
        self._nlp = english()
        # term (lemmas joined by spaces) -> statement index -> weight before specificity
        raw: dict[str, dict[int, float]] = {}
        for index, (statement, _, _) in enumerate(self._statements):
            for term, weight in _statement_terms(statement):
                by_statement = raw.setdefault(term, {})
                by_statement[index] = max(weight, by_statement.get(index, 0.0))
        count = len(self._statements)
        self._weights = {
            term: {i: w * _specificity(len(by_statement), count) for i, w in by_statement.items()}
            for term, by_statement in raw.items()
        }
        self._lemma_matcher = PhraseMatcher(self._nlp.vocab, attr="LEMMA")
        self._word_matcher = PhraseMatcher(self._nlp.vocab, attr="LOWER")
        for term in self._weights:
            if term.startswith(LITERAL):
                word = term.removeprefix(LITERAL)
                singular = word.removesuffix("s")  # "feelings" and "feeling" both match either
                forms = {word, singular, singular + "s"}
                self._word_matcher.add(term, [self._nlp.make_doc(f) for f in forms])
            else:
                words = term.split(" ")
                self._lemma_matcher.add(term, [Doc(self._nlp.vocab, words=words, lemmas=words)])
        single_words = {t for t in self._weights if " " not in t and not t.startswith(LITERAL)}
        self._speller = SpellingFallback(single_words | {c for c in NEGATION_CUES if len(c) >= 5})

    def map(self, text: str) -> list[KeywordMatch]:
        doc = read(text)
        for token in doc:
            correction = self._speller.correct(token.text)
            if correction:
                token.lemma_ = correction
        found: dict[int, list[_Evidence]] = {}
        for match_id, start, end in [*self._lemma_matcher(doc), *self._word_matcher(doc)]:
            term = self._nlp.vocab.strings[match_id]
            negated = _negated(doc, start, end)
            for index, weight in self._weights[term].items():
                found.setdefault(index, []).append(_Evidence(start, end, term, weight, negated))
        matches = [self._score(index, evidence, doc) for index, evidence in found.items()]
        matches = sorted((m for m in matches if m.score >= MIN_SCORE), key=lambda m: (-m.score, m.statement_id))
        if not matches:
            return []
        floor = matches[0].score * RELATIVE_CUTOFF
        return [m for m in matches if m.score >= floor][:MAX_MATCHES]

    def _score(self, index: int, evidence: list[_Evidence], doc: Doc) -> KeywordMatch:
        # Heaviest first; a word already covered (e.g. "talk" inside the keyword "talk to")
        # and a term already counted add nothing.
        used_tokens: set[int] = set()
        kept: dict[str, _Evidence] = {}
        for ev in sorted(evidence, key=lambda e: (-e.weight, e.start)):
            span = set(range(ev.start, ev.end))
            if span & used_tokens:
                continue
            used_tokens |= span
            if ev.term in kept:
                # the same term twice: negated if either use is, as the SENCO should see it
                if ev.negated and not kept[ev.term].negated:
                    kept[ev.term] = ev
                continue
            kept[ev.term] = ev
        matched = sum(ev.weight for ev in kept.values())
        negated = sum(ev.weight for ev in kept.values() if ev.negated)
        total = matched * (1 + EXTRA_TERM_BONUS * (len(kept) - 1))
        statement, area_id, area_title = self._statements[index]
        return KeywordMatch(
            statement_id=statement.id,
            area_id=area_id,
            area_title=area_title,
            score=total / (total + HALF_SCORE_AT),
            evidence=tuple(doc[ev.start : ev.end].text for ev in sorted(kept.values(), key=lambda e: e.start)),
            # negated when the negated words weigh at least as much as the rest:
            # in "my teacher never listens" the negated "listen" decides, "teacher" is the topic
            negated=negated > 0 and negated >= matched - negated,
        )


def _statement_terms(statement: Statement):
    """(term, weight) pairs for one statement; a term is its lemmas joined by spaces, or
    LITERAL + a word that must be matched as written."""
    for keyword in statement.keywords:
        # A hyphen stays: "grown-up" (an adult) must not become "grow up" (get older).
        tokens = [t for t in read(keyword) if t.text == "-" or not (t.is_punct or t.is_space)]
        lemmas = [t.lemma_ for t in tokens]
        if not lemmas:
            continue
        lemma_is_common = _is_common(lemmas[0]) or _is_common(lemma_of(lemmas[0]))
        if len(tokens) == 1 and tokens[0].text != lemmas[0] and lemma_is_common:
            # The lookup lemmatizer knows no parts of speech: the keyword "feelings" would
            # match "feeling", whose lemma is "feel", in nearly every comment. Match the
            # author's word (singular or plural) instead.
            yield LITERAL + tokens[0].text, KEYWORD
            continue
        yield " ".join(lemmas), KEYWORD * (1 + PHRASE_WORD_BONUS * min(len(lemmas) - 1, 3))
        if len(lemmas) > 1 and "-" not in lemmas:  # a hyphenated word is one word, not parts
            for word in _content(lemmas):
                yield word, KEYWORD_PART
    for source, weight in ((statement.question, QUESTION_WORD), (statement.text, TEXT_WORD)):
        if source:
            for word in _content([t.lemma_ for t in read(source) if t.is_alpha]):
                yield word, weight


def _is_common(lemma: str) -> bool:
    return lemma in STOP_WORDS or lemma in CHAT_FILLER


def _content(lemmas: list[str]) -> list[str]:
    return [w for w in lemmas if len(w) >= 3 and w.isalpha() and not _is_common(w)]


def _specificity(statements_with_term: int, statements: int) -> float:
    """1 for a term of one statement, falling towards ~0.2 for a term every statement has."""
    if statements <= 1:
        return 1.0
    return math.log(1 + statements / statements_with_term) / math.log(1 + statements)


def _is_cue(doc: Doc, i: int) -> bool:
    token = doc[i]
    if token.lemma_ not in NEGATION_CUES:
        return False
    if token.lemma_ == "no" and _clause_start(doc, i) and i + 1 < len(doc) and doc[i + 1].text in _SUBJECTS:
        return False
    return True


def _is_break(doc: Doc, i: int) -> bool:
    token = doc[i]
    return token.lemma_ in CLAUSE_BREAK_WORDS or token.text in CLAUSE_BREAK_PUNCT or "\n" in token.text


def _clause_start(doc: Doc, i: int) -> bool:
    return i == 0 or _is_break(doc, i - 1)


def _negated(doc: Doc, start: int, end: int) -> bool:
    """A negation cue inside the matched words or up to NEGATION_WINDOW tokens before them,
    in the same clause."""
    if any(_is_cue(doc, i) for i in range(start, end)):
        return True
    for i in range(start - 1, max(start - 1 - NEGATION_WINDOW, -1), -1):
        if _is_break(doc, i):
            return False
        if _is_cue(doc, i):
            return True
    return False

