"""The safeguarding screen (bot/safeguarding): recall and false alarms over the labelled set,
plus focused checks of normalisation, split disclosures, categories, evidence and the JSON shape."""
from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.safeguarding.rules import RULES_PATH, RulesError
from bot.safeguarding.screen import (
    _UNLESS_AFTER,
    _UNLESS_BEFORE,
    CATEGORIES,
    Screener,
    ScreenResult,
    _LookAlikes,
    _longest_per_act,
    _sentence_ids,
    default_screener,
    screen,
)
from framework.nlp import TextSpeak, english, text_speak

LABELLED = Path(__file__).resolve().parents[1] / "data" / "safeguarding_labelled.yml"
MAX_FALSE_POSITIVE_RATE = 0.03


@pytest.fixture(scope="module")
def screener() -> Screener:
    return default_screener()


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return YAML(typ="safe").load(LABELLED.read_text(encoding="utf-8"))["messages"]


def _describe(item: dict, result: ScreenResult) -> str:
    before = f"{item['previous']} -> " if item.get("previous") else ""
    return f"  {before}{item['text']!r}: expected {item.get('categories', [])}, got {result.categories} {result.evidence}"


# ---- the labelled set -----------------------------------------------------------------------------
def test_labelled_set_is_large_balanced_and_well_formed(labelled):
    assert len(labelled) >= 260
    risky = [m for m in labelled if m["risk"]]
    assert 0.4 <= len(risky) / len(labelled) <= 0.6
    for item in labelled:
        assert set(item) <= {"text", "risk", "categories", "previous"}, item
        assert isinstance(item["text"], str) and item["text"].strip(), item
        if item["risk"]:
            assert item["categories"] and set(item["categories"]) <= set(CATEGORIES), item
        else:
            assert not item.get("categories"), item
    assert sum(1 for m in labelled if m.get("previous")) >= 5


def test_recall_is_total_and_false_alarms_are_rare(screener, labelled):
    misses, false_alarms, wrong_category = [], [], []
    for item in labelled:
        result = screener.screen(item["text"], item.get("previous"))
        if item["risk"] and not result.risk:
            misses.append(_describe(item, result))
        elif not item["risk"] and result.risk:
            false_alarms.append(_describe(item, result))
        elif item["risk"] and not set(item["categories"]) & set(result.categories):
            wrong_category.append(_describe(item, result))
    risky = sum(1 for m in labelled if m["risk"])
    recall = (risky - len(misses)) / risky
    false_positive_rate = len(false_alarms) / (len(labelled) - risky)
    report = (
        f"{len(labelled)} messages: recall {recall:.1%}, false positive rate {false_positive_rate:.1%}\n"
        + "missed:\n" + "\n".join(misses or ["  none"])
        + "\nfalse alarms:\n" + "\n".join(false_alarms or ["  none"])
        + "\nno expected category found:\n" + "\n".join(wrong_category or ["  none"])
    )
    print(report)
    assert recall == 1.0, report
    assert false_positive_rate <= MAX_FALSE_POSITIVE_RATE, report
    assert not wrong_category, report


# ---- normalisation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("kiiill myself", "kill myself"),
        ("i want to diiie", "i want to die"),
        ("k i l l myself", "kill myself"),
        ("k.i.l.l myself", "kill myself"),
        ("k1ll mys3lf", "kill myself"),
        ("i want to d!e", "i want to die"),
        ("h8 my life", "hate my life"),
        ("kms", "kill myself"),
        ("kys", "kill yourself"),
        ("i wanna die", "i want to die"),
        ("want2die", "want to die"),
        ("thinking about sucide", "thinking about suicide"),
        ("slef harm", "self harm"),
        ("step-dad", "stepdad"),
        ("step dad", "stepdad"),
        ("he touchs me", "he touches me"),
        ("my dad hitts me", "my dad hits me"),
        ("he keeps hurtin me", "he keeps hurting me"),
        ("no one feeds me", "nobody feeds me"),
        ("killmyself", "kill myself"),
        ("I CAN'T GO ON", "i can't go on"),
    ],
)
def test_normalisation_repairs_child_spelling(screener, raw, expected):
    assert screener.normalise(raw).text.strip() == expected


def test_normalisation_leaves_ordinary_words_and_names_alone(screener):
    assert screener.normalise("Kian and Jade went to the shop").text == "kian and jade went to the shop"
    assert screener.normalise("i a m fine").text == "i a m fine"  # single letters that make no word
    assert screener.normalise("he hasn't been home").text == "he hasn't been home"


@pytest.mark.parametrize(
    "text",
    ["kiiill myself", "k i l l m y s e l f", "K1LL MYSELF", "i want to d!e", "unalive myself", "sucide",
     "slef harm", "wanna die", "kms", "my step-dad hurts me", "he touchs me", "mums boyfriend hurtin me",
     "ｋｉｌｌ ｍｙｓｅｌｆ", "i want 2 die"],
)
def test_disguised_risk_is_caught(screener, text):
    assert screener.screen(text).risk


# ---- look-alikes and negation decisions -------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["I killed it at football", "dying to go to the party", "my brother hit the ball", "I cut my hair",
     "I'm scared of spiders", "this homework is killing me", "I cut the paper with scissors",
     "we played hide and seek, it's a secret den", "I love knife skills in cooking", "my dog died",
     "nobody hurts me", "my dad never hits me", "I'm not scared to go home", "I want to dye my hair blue",
     "my mum will kill me if I lose my coat"],
)
def test_look_alikes_do_not_fire(screener, text):
    assert not screener.screen(text).risk, screener.screen(text)


@pytest.mark.parametrize(
    "text",
    ["I don't want to die", "I don't want to live", "I don't want to be alive", "no one feeds me",
     "nobody would miss me", "I don't feel safe at home", "he won't stop hitting me", "he didn't mean to hit me"],
)
def test_negation_never_hides_these(screener, text):
    assert screener.screen(text).risk


# ---- categories ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, category",
    [
        ("my step dad hurts me", "abuse_physical"),
        ("mum's boyfriend hits me", "abuse_physical"),
        ("he touches me", "abuse_sexual"),
        ("I want to hurt myself", "self_harm_suicide"),
        ("nobody would miss me", "self_harm_suicide"),
        ("I'm scared to go home", "abuse_emotional"),
        ("there's no food at home", "neglect"),
        ("no one feeds me", "neglect"),
        ("a man online said keep it secret", "exploitation_grooming"),
        ("I get given money to carry packages", "criminal_exploitation"),
        ("someone sent me pictures and said don't tell", "exploitation_grooming"),
        ("they said they'll stab me", "bullying_threats"),
        ("I have a knife in my bag", "weapons"),
    ],
)
def test_key_examples_get_the_right_category(screener, text, category):
    result = screener.screen(text)
    assert result.risk and category in result.categories, result


def test_a_message_can_have_several_categories(screener):
    result = screener.screen("he said he will stab me and i want to die")
    assert {"weapons", "bullying_threats", "self_harm_suicide"} <= set(result.categories)
    assert result.categories == sorted(set(result.categories))


# ---- split disclosures ---------------------------------------------------------------------------------
def test_disclosure_split_over_two_messages(screener):
    result = screener.screen("he hurts me", previous=["hi", "my step dad"])
    assert result.risk and "abuse_physical" in result.categories
    assert result.evidence == ["step dad", "he hurts me"]


def test_split_disclosure_that_needs_the_earlier_message(screener):
    assert not screener.screen("and said dont tell").risk
    result = screener.screen("and said dont tell", previous=["someone sent me pictures"])
    assert result.risk and "exploitation_grooming" in result.categories
    assert "pictures" in result.evidence
    assert screener.screen("die", previous=["i want to"]).risk


def test_earlier_messages_neither_leak_nor_negate(screener):
    assert not screener.screen("ok", previous=["i want to die"]).risk  # already screened when sent
    assert screener.screen("he hits me", previous=["not really"]).risk
    assert not screener.screen("hit the ball over the fence", previous=["my brother"]).risk


def test_fragments_split_by_full_stops_are_read_together(screener):
    for text in ("shouting. banging. mum crying. every night", "screaming. smashing. i hide"):
        result = screener.match_rules(text)
        assert result.risk and result.categories == ["abuse_emotional"], (text, result)
        assert result.evidence == [text]
    # A look-alike in any of the fragments cancels a match across them.
    assert not screener.match_rules("shouting. banging. drums. crying").risk
    assert screener.match_rules("shouting. banging. crying").risk


def test_only_fragments_of_a_word_or_two_run_on(screener):
    doc = screener.nlp("shouting. banging. mum crying. every night. we went to the park. then home")
    assert len(set(_sentence_ids(doc))) == 6
    joined = _sentence_ids(doc, fragments_joined=True)
    assert len(set(joined)) == 2 and joined[0] == joined[-3]  # ... "the park ." then "then home"


def test_a_negation_in_a_fragment_does_not_reach_the_next_one(screener):
    assert screener.match_rules("no. he hits me").risk
    assert screener.match_rules("not really. my dad hurts me").risk
    assert screener.match_rules("no. nobody hurts me").cleared


def test_the_words_outside_negated_acts_are_kept_for_the_concern_intent(screener):
    assert screener.screen("nobody hurts me").unnegated == ""
    assert screener.screen("i am not scared of my step dad").unnegated == "i am"
    assert screener.screen("my dad hits me").unnegated is None  # nothing negated
    assert screener.screen("i like art").unnegated is None


# ---- evidence and JSON ---------------------------------------------------------------------------------
def test_evidence_is_the_childs_own_words(screener):
    text = "honestly my STEP-DAD hurtin me 😢"
    result = screener.screen(text)
    assert result.evidence == ["STEP-DAD hurtin me"]
    assert all(quote in text for quote in result.evidence)
    assert screener.screen("K1LL MYSELF").evidence == ["K1LL MYSELF"]
    assert screener.screen("theres a 🔪 in my locker").evidence == ["🔪 in my locker"]


def test_repeated_acts_are_quoted_separately(screener):
    assert screener.screen("dad hurts me. dad hurts me.").evidence == ["dad hurts me"]


def test_many_matches_in_a_long_message_are_quoted_as_few_ones_are(screener):
    text = "my dad hurts me and hits me. " * 68  # 1,972 characters: hundreds of overlapping matches
    result = screener.screen(text, previous=[text, text])
    assert result.risk and result.categories == ["abuse_physical"]
    assert result.evidence == screener.screen("my dad hurts me and hits me.").evidence


def _quoted_by_comparing_every_pair(passing):
    """The quoting rule as first written (quadratic): the definition the fast sweep must meet."""
    single = [p for p in passing if not any(o[2] != p[2] and p[0] <= o[0] and o[1] <= p[1] for o in passing)]
    return [(s, e) for s, e, a in single
            if not any((os, oe) != (s, e) and oa == a and os <= s and e <= oe for os, oe, oa in single)]


def _near_by_comparing_every_pair(spans, sentence, start, end):
    return any(s < end + _UNLESS_AFTER and e > start - _UNLESS_BEFORE
               and sentence[s] <= sentence[end - 1] and sentence[e - 1] >= sentence[start] for s, e in spans)


def test_the_sorted_sweeps_find_what_comparing_every_pair_finds():
    rng = random.Random(17)
    for _ in range(3000):
        length = rng.randint(2, 40)
        sentence = sorted(rng.randint(0, 4) for _ in range(length))
        passing = []
        for _ in range(rng.randint(0, 12)):
            start = rng.randint(0, length - 1)
            end = rng.randint(start + 1, min(length, start + 8))
            passing.append((start, end, rng.randint(start, end - 1)))
        passing += rng.sample(passing, k=min(len(passing), rng.randint(0, 2)))  # the same match by two patterns
        kept = _longest_per_act(passing)
        assert [(s, e) for s, e, a in passing if (s, e, a) in kept] == _quoted_by_comparing_every_pair(passing)
        unless = [(s, rng.randint(s + 1, min(length, s + 6))) for s in (rng.randint(0, length - 1) for _ in range(rng.randint(0, 6)))]
        look_alikes = _LookAlikes(unless)
        for start, end, _ in passing:
            assert look_alikes.near(sentence, start, end) == _near_by_comparing_every_pair(unless, sentence, start, end)


def test_as_json_shape(screener):
    text = "my step dad hurts me"
    data = screener.screen(text).as_json(text)
    assert list(data) == ["text", "risk", "categories", "evidence", "cleared", "unnegated"]
    assert data["text"] == text and data["risk"] is True
    assert data["categories"] == ["abuse_physical"]
    assert all(isinstance(e, str) for e in data["evidence"])
    assert json.loads(json.dumps(data)) == data
    assert screener.screen("I like art").as_json("I like art") == {
        "text": "I like art", "risk": False, "categories": [], "evidence": [], "cleared": False, "unnegated": None}


def test_empty_and_odd_input(screener):
    for text in ["", "   ", "😭😭", "<script>alert(1)</script>", "\x00\x01"]:
        assert screener.screen(text) == ScreenResult(risk=False)


def test_module_level_screen_uses_one_cached_screener():
    assert default_screener() is default_screener()
    assert screen("my step dad hurts me", previous=["hello"]).risk


# ---- rules file -----------------------------------------------------------------------------------------
def test_rules_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "rules.yml"
    bad.write_text(
        "lexicons:\n  person: [dad]\nrules:\n"
        "  - id: broken\n    categories: [not_a_category]\n    match: ['@nobody hits me', 'a ~99 b']\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as caught:
        Screener(rules_path=bad)
    message = str(caught.value)
    assert str(bad) in message
    assert "not_a_category" in message and "@nobody" in message and "~99" in message


def test_shipped_rules_file_loads():
    assert RULES_PATH.is_file()
    assert default_screener().rules.rules


def test_the_screen_builds_on_the_comment_mappers_language_pipeline(screener):
    assert screener.nlp is english()
    assert screener.rules.text_speak == text_speak()  # one text-speak list, framework/text_speak.yml
    assert screener.screen("kms").categories == ["self_harm_suicide"]


def test_the_text_speak_file_is_checked():
    with pytest.raises(ValueError, match="lower case"):
        TextSpeak.model_validate({"text_speak": {"KMS": "kill myself"}})


# ---- speed ------------------------------------------------------------------------------------------------
def test_the_rules_are_fast(screener, labelled):
    # The rules only: a message they pass also gets one sentence encoding (framework/worry.py).
    texts = [m["text"] for m in labelled[:300]]
    timings = []
    for text in texts:
        start = time.perf_counter()
        screener.match_rules(text, previous=["hi", "ok"])
        timings.append(time.perf_counter() - start)
    # A few ms on a quiet machine; the bound leaves room for a busy CI runner.
    assert statistics.median(timings) < 0.020, f"median {statistics.median(timings) * 1000:.1f} ms"
