"""Answers to the questions: the answer scale every question uses (Yes / Sometimes / No /
I don't know / Skip), and how one reply becomes one of its answers, or is asked back.

The words and symbols are data (answer_scale.yml); this module gives them types and the
lookups the chat needs (by value, by Rasa intent). The bot never guesses: a typed reply
becomes an answer only when the language model is confident it is one and its words do not
say otherwise, or when its words answer by themselves, read with the question ("my nan" to
"Is there someone you trust?", "by and large"); otherwise the young person is asked "Do you
mean yes, sometimes or no?" and their own words are kept with whatever they then choose.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from framework.loader import load_yaml_model
from framework.schema import SYMBOL_PATTERN

SCALE_FILE = Path(__file__).parent / "answer_scale.yml"
AnswerValue = Literal["yes", "sometimes", "no", "dont_know", "skipped"]


class ScaleAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: AnswerValue
    intent: str = Field(min_length=2)
    label: str = Field(min_length=1)
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    readback: str = Field(min_length=1)

    @property
    def payload(self) -> str:
        return f"/{self.intent}"


class StatementWords(BaseModel):
    """Patterns for the words that say which way a statement is answered (answer_scale.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    set_aside: tuple[str, ...]
    unsure: tuple[str, ...]
    two_sided: tuple[str, ...]
    double_negatives: tuple[str, ...]
    faint: tuple[str, ...]
    partly: tuple[str, ...]
    maybe: tuple[str, ...]
    says_no: tuple[str, ...] = Field(min_length=1)
    sarcasm: tuple[str, ...]
    says_yes: tuple[str, ...] = Field(min_length=1)
    opens_no: tuple[str, ...]
    opens_yes: tuple[str, ...]
    middle: tuple[str, ...]
    contrast: tuple[str, ...]
    negations: tuple[str, ...]
    filler: tuple[str, ...]

    @field_validator("set_aside", "unsure", "two_sided", "double_negatives", "faint", "partly", "maybe", "says_no",
                     "sarcasm", "says_yes", "opens_no", "opens_yes", "middle", "contrast", "negations", "filler")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as problem:
                raise ValueError(f"{pattern!r} is not a regular expression: {problem}") from None
        return patterns

    def signals(self, text: str) -> frozenset[str]:
        """The sides the words take: "no" for "i'd say false", "yes" for "true" or a double
        negative, "partly" for "not totally true", "opens no" and "opens yes" for a reply that
        starts "nah" or "yeah", "unsure" for "idk", "maybe" for "perhaps", "middle" for
        "kinda" or "it depends", "two sided" for "yes and no", "sarcastic" for an eye roll or
        "whatever", "contrast" for a "but", "negated" for a "not" no other list explained ("i
        never get asked"); any of them, or none."""
        return self._read(text)[0] - {"faint"}

    def plain_answer(self, text: str, question: str | None = None) -> AnswerValue | None:
        """The answer a reply made only of one side's answer words gives by itself ("by and
        large", "strongly agree!!", "no-one i trust", "a couple", "not sure", "i dont not feel
        safe" to "Do you feel safe at school?"): past those words, nothing but `filler` or the
        question's own words is left, and no `faint` words ("not bad"); None otherwise."""
        found, rest = self._read(text)
        if "faint" in found:
            return None
        echoed = [re.escape(w) for w in re.findall(r"[a-z']{3,}", (question or "").lower())]
        for pattern in (*self.filler, *([rf"\b({'|'.join(echoed)})\b"] if echoed else [])):
            rest = re.sub(pattern, " ", rest)
        if re.search(r"\w", rest):
            return None
        return _PLAIN_ANSWERS.get(found)

    def _read(self, text: str) -> tuple[frozenset[str], str]:
        """The sides the words take ("faint" as well as "yes" for a faint yes), and what is left
        of the reply once every list has read it."""
        rest = " " + re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")) + " "
        found = set()
        for sides, patterns in (((), self.set_aside), (("unsure",), self.unsure), (("two sided",), self.two_sided),
                                (("yes",), self.double_negatives), (("yes", "faint"), self.faint),
                                (("partly",), self.partly), (("maybe",), self.maybe), (("no",), self.says_no),
                                (("sarcastic",), self.sarcasm), (("yes",), self.says_yes),
                                (("opens no",), self.opens_no), (("opens yes",), self.opens_yes),
                                (("middle",), self.middle), (("contrast",), self.contrast),
                                (("negated",), self.negations)):
            for pattern in patterns:
                rest, hits = re.subn(pattern, " ", rest)
                if hits:
                    found.update(sides)
        return frozenset(found), rest


# The sides a reply made only of answer words may take, and the answer each gives.
_PLAIN_ANSWERS = {
    frozenset({"yes"}): "yes", frozenset({"yes", "opens yes"}): "yes",
    frozenset({"no"}): "no", frozenset({"no", "opens no"}): "no",
    frozenset({"unsure"}): "dont_know",
    frozenset({"middle"}): "sometimes", frozenset({"partly"}): "sometimes",
    frozenset({"partly", "middle"}): "sometimes",
}


class WordsUnderAQuestion(BaseModel):
    """Words that mean something else under one kind of question: "i dont know who to ask" is
    not "I don't know" to "Do you know who can help?"."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    question: re.Pattern
    words: re.Pattern

    def found(self, question: str | None, text: str) -> bool:
        return bool(question and self.question.search(question.lower())
                    and self.words.search(text.lower().replace("\u2019", "'")))


class NamingSomeone(BaseModel):
    """A question asking whether there is someone, and the words that name a person."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    question: re.Pattern
    person: re.Pattern
    lead: re.Pattern
    tail: re.Pattern
    names_after: re.Pattern

    def names_someone(self, question: str | None, text: str, signals: Callable[[str], frozenset[str]]) -> bool:
        """True for "my TA mrs patel", "i'd tell my brother sam" or "a few people" under "Is there
        someone you trust to talk to?": past a `lead` and a `tail`, every word names or points to a
        person (a word after mr, mrs, miss, ms or sir, or after "friend" or "brother", is a name),
        and no word there takes a side other than yes (`signals`: the statement words of a text)."""
        if not (question and self.question.search(question.lower())):
            return False
        said = text.lower().replace("\u2019", "'")
        said = said[self.lead.match(said).end():]
        said = said[:self.tail.search(said).start()]
        if signals(said) - {"yes", "opens yes"}:
            return False
        words = re.findall(r"[\w&']+", said)
        titles = {"mr", "mrs", "miss", "ms", "sir"}
        def a_name(index: int) -> bool:
            return index > 0 and (words[index - 1] in titles or bool(self.names_after.match(words[index - 1])))

        return bool(words) and any(w not in {"and", "or", "n", "&", "just", "only"} for w in words) and all(
            self.person.match(word) or a_name(index) for index, word in enumerate(words))


class OnePart(BaseModel):
    """An answer for one part of what the question asks about ("not my teacher" to "Do people
    listen to you?"): the rest may go the other way (answer_scale.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    words: re.Pattern

    def found(self, question: str | None, text: str) -> bool:
        said = self.words.search(text.lower().replace("\u2019", "'"))
        if not said:
            return False
        part = next(said.group(name) for name in ("part", "part2", "part3") if said.group(name))
        asked = (question or "").lower()
        # the question asks about that part alone: "not at school" to "Do you feel safe at school?"
        return not (" and " not in asked and any(len(w) > 3 and re.search(rf"\b{w}", asked) for w in part.split()))


class AnsweredByWords(BaseModel):
    """Words that answer one kind of question by themselves (answer_scale.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    question: re.Pattern
    words: re.Pattern
    means: Literal["yes", "no", "sometimes"]
    instead_of: tuple[AnswerValue, ...] = ()  # the model's readings these words correct

    def found(self, question: str | None, text: str) -> bool:
        return bool(question and self.question.search(question.lower())
                    and self.words.search(text.lower().replace("\u2019", "'")))


class CasualOpening(BaseModel):
    """A casual "yeah" opening a longer reply, how sarcasm often starts (answer_scale.yml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    opens: re.Pattern
    words_after: int = Field(ge=1)
    confidence: float = Field(gt=0.0, le=1.0)

    def bar_for_yes(self, text: str, signals: Callable[[str], frozenset[str]]) -> float | None:
        """How sure the model must be to store `text` as Yes when its only yes-word is the
        casual opening and `words_after` or more words follow it with no yes-word among them
        (`signals`: the statement words of a text); None otherwise."""
        opening = self.opens.match(text.lower().replace("\u2019", "'"))
        rest = text[opening.end():] if opening else ""
        if opening and len(rest.split()) >= self.words_after and "yes" not in signals(rest):
            return self.confidence
        return None


class AnswerScale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    answers: tuple[ScaleAnswer, ...]
    statement_words: StatementWords
    casual_opening: CasualOpening
    knowing: WordsUnderAQuestion
    naming_someone: NamingSomeone
    one_part: OnePart
    answered_by_words: tuple[AnsweredByWords, ...]

    @model_validator(mode="after")
    def _every_value_once(self) -> "AnswerScale":
        values = [a.value for a in self.answers]
        missing = set(AnswerValue.__args__) - set(values)
        if missing or len(values) != len(set(values)):
            raise ValueError(f"list each answer value exactly once: {', '.join(AnswerValue.__args__)}")
        return self

    def by_value(self, value: str) -> ScaleAnswer:
        return next(a for a in self.answers if a.value == value)

    def by_intent(self, intent: str) -> ScaleAnswer | None:
        return next((a for a in self.answers if a.intent == intent), None)


@lru_cache(maxsize=1)
def answer_scale() -> AnswerScale:
    scale, _ = load_yaml_model(SCALE_FILE, AnswerScale)
    return scale


# Below this intent confidence a typed answer is checked with the young person...
CONFIDENT = 0.70
# ...unless its own words take the same side, plainly ("nah" read as No at 0.6). Below this,
# Rasa's FallbackClassifier has already made the reply nlu_fallback.
CONFIRMED_BY_WORDS = 0.50
# A longer reply with no answer words in it ("i play on my own") tells about the young
# person's life; the model alone files it as an answer only when very sure.
WORDS_IN_A_STATEMENT = 4
CONFIDENT_ABOUT_A_STATEMENT = 0.85
# A Yes needs two readings that agree: the model's, and a word of the reply on the Yes side
# ("yeah", "i do", "loads"). From this many words on, a reply with no such word is never a Yes
# however sure the model is: "I'm great at spending it", "I keep trying to get out of it" are
# read as Yes with 0.9 and more, and mean No. Chosen from the curve of understood against
# misrecorded (scripts/answers_eval.py dev crowd_own --curve; README): 5 words stop as many
# misrecords as 3 or 4, and ask back fewer plain answers ("my family loves me").
WORDS_FOR_A_YES_WITHOUT_A_YES_WORD = 5
HowGiven = Literal["tapped", "typed", "clarified"]


@dataclass(frozen=True)
class Reply:
    """What the young person sent, as the dialogue engine understood it."""

    text: str
    intent: str | None
    confidence: float | None
    tapped: bool  # a button payload rather than typed words


@dataclass(frozen=True)
class Answer:
    value: str
    how_given: HowGiven
    words: str | None  # the exact typed words, None when tapped
    confidence: float | None


@dataclass(frozen=True)
class Clarify:
    words: str


def interpret(reply: Reply, clarifying_words: str | None = None, question: str | None = None,
              yes_needs_a_word_from: int = WORDS_FOR_A_YES_WITHOUT_A_YES_WORD) -> Answer | Clarify:
    """An answer to `question` (the one on screen), or a request to ask back.

    `clarifying_words` are the typed words we asked about last turn; a clear reply now
    settles them, and those first words are the ones kept. A reply of `yes_needs_a_word_from`
    words or more is stored as Yes by the model only if a word of it says yes.
    """
    scale = answer_scale()
    option = scale.by_intent(reply.intent) if reply.intent else None
    if reply.tapped and option:
        if clarifying_words is not None:
            return Answer(option.value, "clarified", clarifying_words, 1.0)
        return Answer(option.value, "tapped", None, 1.0)
    by_words = True
    if scale.naming_someone.names_someone(question, reply.text, scale.statement_words.signals):
        # "my nan" to "Is there someone you trust?": a Yes, whatever the model made of a name
        option, confidence = scale.by_value("yes"), 1.0
    elif means := _answered_by_words(reply, question, option):
        # the model's confidence is kept when it read the same answer
        agrees = option is not None and option.value == means
        option, confidence = scale.by_value(means), reply.confidence if agrees else 1.0
    else:
        by_words, confidence = False, reply.confidence
    confident = option is not None and (by_words or _model_sure_enough(option.value, reply.text, confidence,
                                                                       yes_needs_a_word_from))
    if confident and (scale.one_part.found(question, reply.text)
                      or not by_words and _words_say_otherwise(option.value, reply.text, question)):
        # an answer for one part of what is asked is never stored; words that answer by
        # themselves were read whole, so what they hold is their meaning
        confident = False
    if not confident:
        # keep every word they typed while we ask again
        words = reply.text if clarifying_words is None else f"{clarifying_words} / {reply.text}"
        return Clarify(words)
    if clarifying_words is not None:
        return Answer(option.value, "clarified", f"{clarifying_words} / {reply.text}", confidence)
    return Answer(option.value, "typed", reply.text, confidence)


def _words_say_otherwise(value: str, text: str, question: str | None) -> bool:
    """The guard against reversing a view: typed words that say no ("false", "i disagree",
    "not true", "yeah right"), or hold a "not" no pattern explains, are never stored as Yes,
    words that say yes ("true", "i agree", "not bad") never as No, one side is never
    Sometimes, "not totally true" is neither Yes nor No, nor are hedged words ("kinda", "only
    at home") or a "but", "idk" or "maybe", a bare "maybe" is not "I don't know", and "i dont
    know who to ask" is not "I don't know" to "Do you know who can help?", nor "mum takes me"
    No to "Can you get to places, on your own or with help?". Both sides at once
    ("yes and no"), a "but" ("i guess but not really") and sarcasm ("SO much fun \U0001F644") are
    never stored as a view they may not mean; sarcasm is stored only as the No its words say
    ("oh yeah totally \U0001F644"). Whatever the language model thinks, these are asked back."""
    if value == "dont_know" and answer_scale().knowing.found(question, text):
        return True
    if any(value in rule.instead_of and rule.found(question, text) for rule in answer_scale().answered_by_words):
        # "not on my own, mum takes me": the model's No is what these words correct
        return True
    signals = answer_scale().statement_words.signals(text)
    if signals & {"two sided", "contrast"} or (
            "sarcastic" in signals and not (value == "no" and signals & {"no", "opens no"})):
        return True
    if value == "yes":
        return bool(signals & {"no", "partly", "opens no", "unsure", "maybe", "middle", "negated"})
    if value == "no":
        # sarcasm turns its own yes-words round: "oh yeah totally \U0001F644" is a No
        yes_words = set() if "sarcastic" in signals else {"yes", "opens yes"}
        return bool(signals & {"partly", "unsure", "maybe", "middle", *yes_words})
    if value == "sometimes":
        # "true with help", "no never", "yeah as if": words that take a side and no middle
        # way, so Sometimes would be a guess; "kind of, not really": a hedge and a side, which wins?
        sides = signals & {"yes", "no", "opens yes", "opens no"}
        return "unsure" in signals or (bool(sides) and not signals & {"partly", "middle"}) or (
            "middle" in signals and bool(signals & {"yes", "no"}))
    if value == "dont_know":
        # a bare "maybe" may lean either way: a "maybe" is asked, never filed as "I don't know";
        # nor is "idk, sometimes", nor words that take a side without "idk" ("they never ask me")
        return ("maybe" in signals and "unsure" not in signals) or "middle" in signals or (
            "unsure" not in signals and bool(signals & {"yes", "no", "opens yes", "opens no", "partly"}))
    return False


# The statement words that may stand beside words that answer a question by themselves.
_SAME_SIDE = {"yes": {"yes", "opens yes"}, "no": {"no", "opens no", "negated"},
              "sometimes": {"partly", "middle", "negated", "yes", "no", "opens yes", "opens no"}}


def _answered_by_words(reply: Reply, question: str | None, model_reading: ScaleAnswer | None) -> str | None:
    """The answer the reply's words give by themselves: under `question` ("my dad drives me" to
    "...on your own or with help?", when no other words take another side and the model read no
    other answer), or a reply of nothing but one side's answer words ("by and large", which the
    model may not know, unless it is sure of another answer); None otherwise."""
    def model_reads_other(means: str, corrected: tuple[str, ...] = (), sure: float = CONFIRMED_BY_WORDS) -> bool:
        return model_reading is not None and model_reading.value not in (means, *corrected) and (
            reply.confidence or 0.0) >= sure

    words = answer_scale().statement_words
    rules = [rule for rule in answer_scale().answered_by_words if rule.found(question, reply.text)]
    said = reply.text.lower().replace("\u2019", "'")
    means = next((rule.means for rule in rules if not model_reads_other(rule.means, rule.instead_of)
                  and words.signals(rule.words.sub(" ", said)) <= _SAME_SIDE[rule.means]), None)
    plain = None if means else words.plain_answer(reply.text, question)
    if plain and not model_reads_other(plain, sure=CONFIDENT):
        # nothing but answer words ("more or less"): they outweigh a model that is not sure
        means = plain
    # "no, my carer comes with me" to "...on your own or with help?": other words there say this answer is wrong
    return None if any(means in rule.instead_of for rule in rules) else means


# The words that plainly take each answer's side; any word for another side spoils it.
_SIDES = {
    # not a bare "yeah...": that is how sarcasm starts ("yeah i get to pick my pen colour")
    "yes": ({"yes"}, {"no", "opens no", "partly", "unsure", "maybe", "middle", "negated"}),
    "no": ({"no", "opens no"}, {"yes", "opens yes", "partly", "unsure", "maybe", "middle"}),
    "sometimes": ({"partly", "middle"}, {"unsure", "maybe"}),
    "dont_know": ({"unsure"}, {"yes", "no", "opens yes", "opens no", "partly", "middle"}),
}


def _model_sure_enough(value: str, text: str, confidence: float | None, yes_needs_a_word_from: int) -> bool:
    """The model alone may store `value`: it is as sure as `_confidence_needed` asks, and a Yes
    of `yes_needs_a_word_from` words or more has a yes-word too (two readings agree)."""
    if value == "yes" and len(text.split()) >= yes_needs_a_word_from and not _says_yes(text):
        return False
    return (confidence or 0.0) >= _confidence_needed(value, text)


def _says_yes(text: str) -> bool:
    """A word of the reply takes the Yes side ("yes", "i do", a "yeah" or "sure" opening it)
    and none takes another."""
    signals = answer_scale().statement_words.signals(text)
    opens_yes = answer_scale().casual_opening.opens.match(text.lower().replace("\u2019", "'"))
    return bool(signals & {"yes", "opens yes"} or opens_yes) and not signals & _SIDES["yes"][1]


def _confidence_needed(value: str, text: str) -> float:
    """How sure the model must be to store `value` for typed `text`: less when the reply's own
    words take that side and no other ("nah", "❌", "i suppose so", "bits", "im not shore"),
    more when it has no answer words at all and tells about their life instead, or when its
    only yes-word is a casual "yeah" opening a longer reply, the way sarcasm starts."""
    statement_words = answer_scale().statement_words
    signals = set(statement_words.signals(text))
    words = len(text.split())
    if value == "yes" and (bar := answer_scale().casual_opening.bar_for_yes(text, statement_words.signals)):
        return bar
    if not signals and words >= WORDS_IN_A_STATEMENT:
        return CONFIDENT_ABOUT_A_STATEMENT
    if words > 2:
        # "nah im good" may well mean "I'm fine": only a bare "nah" (or "nah mate") is plainly No
        signals.discard("opens no")
    wanted, spoilers = _SIDES.get(value, (set(), set()))
    return CONFIRMED_BY_WORDS if signals & wanted and not signals & spoilers else CONFIDENT


def answer_buttons() -> list[dict]:
    """The buttons under every question and every "Do you mean…?": each way out is a tap away."""
    return [{"title": a.label, "payload": a.payload, "symbol": a.symbol} for a in answer_scale().answers]
