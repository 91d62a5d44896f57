"""The words signal of comment mapping (framework/keyword_mapping.py) and the shared text helpers
(framework/nlp.py). Frameworks are built in code so each test knows exactly what can match."""
from __future__ import annotations

import time

import pytest

from framework.keyword_mapping import HALF_SCORE_AT, KeywordMapper, KeywordMatch
from framework.nlp import SpellingFallback, english, normalise, read
from framework.schema import Framework

CHILD = "children_young_people"


def statement(ident, text, question=None, keywords=(), perspective=CHILD):
    data = {"id": ident, "perspective": perspective, "text": text, "keywords": list(keywords)}
    if question:
        data["question"] = question
    return data


def framework(areas) -> Framework:
    return Framework.model_validate(
        {
            "id": "mini",
            "title": "Mini outcomes framework",
            "source": {"council": "Test council", "document": "Test outcomes", "years": "2024", "seed_file": "none.txt"},
            "perspectives": {
                CHILD: {"label": "Children and young people"},
                "parent_carers": {"label": "Parent carers"},
            },
            "areas": areas,
        }
    )


def area(ident, title, statements):
    return {"id": ident, "title": title, "plain_title": title, "symbol": "1F44D", "statements": statements}


# A small York-like framework: keywords as a framework author would write them.
MINI = framework(
    [
        area("mini.safe", "I am safe", [
            statement("mini.safe.feel_safe", "I feel safe at home, at school and in my community.",
                      "Do you feel safe at school?", ["safe", "bullied", "bully", "hurt", "scared", "picked on"]),
            statement("mini.safe.online", "I know how to keep myself safe online.",
                      "Do you know how to stay safe online?", ["online", "internet", "social media", "stranger"]),
        ]),
        area("mini.heard", "I have a choice and am heard", [
            statement("mini.heard.listened", "I am listened to, understood, valued and respected by everyone that supports me.",
                      "Do people listen to you?", ["listen", "teacher", "listened to", "ignore", "understand me"]),
            statement("mini.heard.talk_to", "I have someone I trust to share my wishes and feelings with.",
                      "Do you have someone to talk to?", ["someone to talk to", "talk to", "trust"]),
            statement("mini.heard.choices", "My views are used to make decisions about my plans.",
                      "Do you get to choose things?", ["choose", "choice", "decide"]),
        ]),
        area("mini.goals", "I achieve my goals", [
            statement("mini.goals.future", "I am moving towards my aspirations for my future.",
                      "Do you know what you want to do when you are older?", ["grow up", "job", "career", "dream"]),
            statement("mini.goals.progress", "All my progress is recognised and celebrated.",
                      "Do people notice when you do well?", ["progress", "proud", "well done"]),
        ]),
        area("mini.included", "I am included", [
            statement("mini.included.friends", "I have friends and people I can spend time with.",
                      "Do you have friends?", ["friend", "mates", "lonely", "play with"]),
            statement("mini.included.clubs", "I can take part in clubs and activities I enjoy.",
                      "Can you join in clubs?", ["club", "join in", "activity", "sport"]),
        ]),
        area("mini.healthy", "I am healthy", [
            statement("mini.healthy.sleep", "I am supported to make good choices about my diet, sleep and exercise.",
                      "Do you sleep well and eat well?", ["sleep", "tired", "eat", "food", "exercise"]),
            statement("mini.healthy.medicine", "I understand the treatment or medication I have been prescribed, and why.",
                      "Do you know why you take your medicine?", ["medicine", "tablets", "doctor", "hospital"]),
        ]),
        area("mini.family", "Parent carers are heard", [
            statement("mini.family.voice", "My voice is valued and respected as a parent carer.",
                      keywords=["listen", "meeting"], perspective="parent_carers"),
        ]),
    ]
)


@pytest.fixture(scope="module")
def mapper() -> KeywordMapper:
    return KeywordMapper(MINI)


def best(mapper: KeywordMapper, text: str) -> KeywordMatch:
    matches = mapper.map(text)
    assert matches, f"nothing matched {text!r}"
    return matches[0]


# ---- clear comments ---------------------------------------------------------
@pytest.mark.parametrize(
    "text, statement_id, negated",
    [
        ("I get bullied at break time", "mini.safe.feel_safe", False),
        ("my teacher never listens to me", "mini.heard.listened", True),
        ("I want to be a vet when I grow up", "mini.goals.future", False),
        ("I don't have anyone to talk to", "mini.heard.talk_to", True),
        ("I dont have anyone to talk to", "mini.heard.talk_to", True),
        ("my teacher listens to me", "mini.heard.listened", False),
        ("nobody listens to me", "mini.heard.listened", True),
        ("No one listens to me", "mini.heard.listened", True),
        ("I can't sleep at night", "mini.healthy.sleep", True),
        ("I never get to choose", "mini.heard.choices", True),
        ("I love football club", "mini.included.clubs", False),
    ],
)
def test_clear_comment_maps_to_its_statement_first(mapper, text, statement_id, negated):
    top = best(mapper, text)
    assert top.statement_id == statement_id
    assert top.area_id == statement_id.rsplit(".", 1)[0]
    assert top.area_title == MINI.area(top.area_id).title
    assert top.negated is negated


def test_evidence_names_the_words_that_matched(mapper):
    top = best(mapper, "I get bullied at break time")
    assert top.evidence == ("bullied",)


@pytest.mark.parametrize("text", ["asdfgh", "minecraft", "I like minecraft", "", "   ", "ok", "12345", "?!"])
def test_nothing_fits_gives_an_empty_list(mapper, text):
    assert mapper.map(text) == []


# ---- negation scope ---------------------------------------------------------
@pytest.mark.parametrize(
    "text, negated",
    [
        ("I don't like maths but my teacher listens to me", False),  # "but" ends the cue's clause
        ("not fair but my teacher listens", False),
        ("I'm not sure. My teacher listens to me", False),  # so does a full stop
        ("No, I think my teacher listens", False),
        ("No I think my teacher listens to me", False),  # an answer "no", not a cue
        ("my teacher does not really ever properly listen", True),
        ("my teacher, she never listens", True),
        ("my teacher doesnt listen", True),
        ("my teacher nevver lissens", True),  # stretched and misspelt
    ],
)
def test_negation_stays_in_its_clause(mapper, text, negated):
    top = best(mapper, text)
    assert top.statement_id == "mini.heard.listened"
    assert top.negated is negated


def test_negation_far_before_the_term_does_not_count(mapper):
    # "not" is more than five words before "listen", with no clause break between
    top = best(mapper, "I am not in the same class as my teacher who listens")
    assert top.statement_id == "mini.heard.listened"
    assert top.negated is False


# ---- typos and text-speak ---------------------------------------------------
@pytest.mark.parametrize(
    "text, statement_id",
    [
        ("my freinds are kind", "mini.included.friends"),
        ("the teachr is nice", "mini.heard.listened"),
        ("i got bulied", "mini.safe.feel_safe"),
        ("i h8 skool cos i get bulied", "mini.safe.feel_safe"),
        ("I feel SAFE!!!", "mini.safe.feel_safe"),
        ("im sooooo tired", "mini.healthy.sleep"),
    ],
)
def test_common_typos_and_text_speak_still_map(mapper, text, statement_id):
    assert best(mapper, text).statement_id == statement_id


def test_spelling_fallback_leaves_real_and_unrelated_words_alone():
    speller = SpellingFallback(["friend", "school", "teacher", "bully", "listen"])
    assert speller.correct("freinds") == "friend"
    assert speller.correct("skoool") == "school"
    assert speller.correct("teachr") == "teacher"
    assert speller.correct("bulied") == "bully"
    assert speller.correct("frend") == "friend"
    # real words, short words and unrelated made-up words are not "corrected"
    for word in ("french", "trends", "bull", "minecraft", "roblox", "asdfgh", "lesson"):
        assert speller.correct(word) is None, word


# ---- scores -----------------------------------------------------------------
def test_scores_are_ordered_within_zero_and_one_and_not_all_equal(mapper):
    comments = [
        "I feel safe at school, nobody bullies me and I have friends",
        "I get bullied at break time",
        "I feel safe at school",
        "I want to be a vet when I grow up",
        "I have no friends and I am tired",
    ]
    all_scores = []
    for text in comments:
        scores = [m.score for m in mapper.map(text)]
        assert scores == sorted(scores, reverse=True)
        assert all(0 < s < 1 for s in scores)
        assert len(scores) <= 5
        all_scores += scores
    assert len(set(round(s, 3) for s in all_scores)) >= 4


def test_more_distinct_words_of_a_statement_score_higher(mapper):
    one = best(mapper, "I get bullied").score
    two = best(mapper, "I get bullied and hurt").score
    three = best(mapper, "I get bullied and hurt and feel scared").score
    assert one < two < three
    # the same word twice is not more evidence
    assert best(mapper, "bullied bullied bullied").score == pytest.approx(one)


def test_distinct_words_of_one_statement_get_a_bonus(mapper):
    # Scores are S / (S + HALF_SCORE_AT); recover each word's weight from its own score.
    def weight(score):
        return HALF_SCORE_AT * score / (1 - score)

    bullied, hurt = best(mapper, "bullied").score, best(mapper, "hurt").score
    both = best(mapper, "bullied and hurt").score
    plain_sum = weight(bullied) + weight(hurt)
    assert both > plain_sum / (plain_sum + HALF_SCORE_AT) + 0.01


def test_a_match_far_weaker_than_the_best_is_dropped():
    weather = ["rain", "wind", "snow", "sun", "fog", "storm"]
    weighted = KeywordMapper(framework([
        area("mini.a", "Area A", [
            statement("mini.a.strong", "First statement.", keywords=weather),
            statement("mini.a.weak", "Second statement.", "Do you like the garden?"),
            statement("mini.a.weak_too", "Third statement.", "Is there a garden?"),
            *(statement(f"mini.a.other{i}", f"Something else number {i}.") for i in range(27)),
        ]),
    ]))
    assert [m.statement_id for m in weighted.map("garden")] == ["mini.a.weak", "mini.a.weak_too"]
    assert [m.statement_id for m in weighted.map("garden " + " ".join(weather))] == ["mini.a.strong"]


def test_keywords_weigh_more_than_question_words_more_than_text_words():
    unrelated = [statement(f"mini.a.other{i}", f"Something else number {i}.") for i in range(7)]
    weighted = framework([
        area("mini.a", "Area A", [
            statement("mini.a.text", "I have a garden with a pond."),
            statement("mini.a.question", "Second statement.", "Do you like the garden and the pond?"),
            statement("mini.a.keyword", "First statement.", keywords=["garden", "pond"]),
            *unrelated,
        ]),
    ])
    matches = KeywordMapper(weighted).map("our garden has a pond")
    assert [m.statement_id for m in matches] == ["mini.a.keyword", "mini.a.question", "mini.a.text"]
    assert matches[0].score > matches[1].score > matches[2].score


def test_a_keyword_phrase_outweighs_a_single_keyword():
    phrases = framework([
        area("mini.a", "Area A", [
            statement("mini.a.a_word", "First statement.", keywords=["teacher"]),
            statement("mini.a.phrase", "Second statement.", keywords=["listen to me"]),
        ]),
    ])
    phrase, word = KeywordMapper(phrases).map("teacher listens to me")
    assert (phrase.statement_id, word.statement_id) == ("mini.a.phrase", "mini.a.a_word")
    assert phrase.score > word.score


def test_a_word_many_statements_share_weighs_less_than_a_word_of_one():
    shared = framework([
        area("mini.a", "Area A", [
            statement("mini.a.one", "I enjoy music and art.", keywords=["music", "art"]),
            statement("mini.a.two", "I enjoy music and sport.", keywords=["music", "sport"]),
            statement("mini.a.three", "I enjoy music and books.", keywords=["music", "books"]),
        ]),
    ])
    mapper = KeywordMapper(shared)
    art = best(mapper, "art")
    music = mapper.map("music")
    assert art.statement_id == "mini.a.one"
    assert len(music) == 3
    assert all(m.score < art.score for m in music)


def test_one_weak_hint_alone_is_not_a_match():
    # "support" is a formal text word of nearly every statement: it says little on its own
    weak = framework([
        area("mini.a", "Area A", [
            *(statement(f"mini.a.s{i}", f"I get support with topic{i}.") for i in range(5)),
            statement("mini.a.other", "I enjoy art.", keywords=["painting"]),
        ]),
    ])
    mapper = KeywordMapper(weak)
    assert mapper.map("support") == []
    assert best(mapper, "painting").statement_id == "mini.a.other"


def test_a_common_chat_word_in_a_question_does_not_match_on_its_own(mapper):
    # "Do you feel safe…", "Do you know…" share words with almost any comment
    assert mapper.map("I know I feel it") == []


def test_at_most_five_matches():
    many = framework([
        area("mini.a", "Area A", [
            statement(f"mini.a.s{i}", f"Statement number {i}.", keywords=["lunch" if i < 6 else "tea", f"word{i}"])
            for i in range(30)
        ]),
    ])
    assert len(KeywordMapper(many).map("lunch")) == 5


# ---- perspective and JSON ---------------------------------------------------
def test_only_the_chosen_perspective_is_mapped():
    children = KeywordMapper(MINI)
    parents = KeywordMapper(MINI, perspective="parent_carers")
    assert "mini.family.voice" not in [m.statement_id for m in children.map("the meeting")]
    assert [m.statement_id for m in parents.map("the school did not listen at the meeting")] == ["mini.family.voice"]
    assert parents.map("I get bullied") == []


def test_mapping_is_fast_once_built(mapper):
    comments = ["my freinds at skool never listen to me and i get bulied at break time"] * 5 + [
        f"comment number {i} about nothing in particular, really" for i in range(100)
    ]
    start = time.perf_counter()
    for text in comments:
        mapper.map(text)
    per_comment = (time.perf_counter() - start) / len(comments)
    assert per_comment < 0.02, f"{per_comment * 1000:.1f} ms per comment"


# ---- shared text helpers ----------------------------------------------------
def test_english_pipeline_is_built_once_and_lemmatises():
    assert english() is english()
    assert [t.lemma_ for t in english()("bullied listens friends")] == ["bully", "listen", "friend"]


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("I feel SOOOOO happy", "i feel soo happy"),
        ("It\u2019s ok.I\u2019m fine", "it's ok. i'm fine"),
        ("good", "good"),
        ("a goooood book", "a good book"),
        ("call 999 or 1000", "call 999 or 1000"),
    ],
)
def test_normalise(raw, clean):
    assert normalise(raw) == clean


def test_read_keeps_the_childs_spelling_but_fixes_lemmas():
    doc = read("u dont go 2 skool cos noooo 1 likes me")
    assert [t.text for t in doc][:3] == ["u", "do", "nt"]
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["u"] == "you"
    assert lemmas["nt"] == "not"
    assert lemmas["skool"] == "school"
    assert lemmas["cos"] == "because"
    assert lemmas["noo"] == "no"


def test_a_keyword_the_lemmatizer_would_make_common_is_matched_as_written():
    # "feeling" has the lemma "feel", which nearly every comment has
    feelings = KeywordMapper(framework([
        area("mini.a", "Area A", [
            statement("mini.a.share", "I share my wishes and feelings.", keywords=["feelings"]),
            statement("mini.a.safe", "I feel safe.", keywords=["safe"]),
        ]),
    ]))
    assert [m.statement_id for m in feelings.map("I feel safe")] == ["mini.a.safe"]
    top = best(feelings, "nobody asks about my feelings")
    assert (top.statement_id, top.negated) == ("mini.a.share", True)
    assert best(feelings, "my feeling is sad").statement_id == "mini.a.share"


def test_a_hyphenated_keyword_keeps_its_meaning():
    adults = KeywordMapper(framework([
        area("mini.a", "Area A", [
            statement("mini.a.adult", "There is an adult I can tell.", keywords=["grown-up"]),
            statement("mini.a.future", "I have dreams for my future.", keywords=["grow up"]),
        ]),
    ]))
    assert [m.statement_id for m in adults.map("when I grow up")] == ["mini.a.future"]
    assert best(adults, "I can tell a grown-up").statement_id == "mini.a.adult"


# ---- the bundled York framework ---------------------------------------------
@pytest.fixture(scope="module")
def york() -> KeywordMapper:
    from framework.loader import load_framework

    return KeywordMapper(load_framework("york"))


@pytest.mark.parametrize(
    "text, area_id, negated",
    [
        ("I get bullied at break time", "york.safe", False),
        ("my teacher never listens to me", "york.heard", True),
        ("I want to be a vet when I grow up", "york.goals", False),
        ("I have no friends", "york.included", True),
        ("I cant sleep at night", "york.healthy", True),
        ("I get really angry and have meltdowns", "york.overcome", False),
        ("my freinds at skool are kind", "york.included", False),
    ],
)
def test_york_comments_map_to_the_right_area_first(york, text, area_id, negated):
    top = best(york, text)
    assert top.area_id == area_id
    assert top.negated is negated


def test_york_someone_to_talk_to_is_negated(york):
    top = best(york, "I don't have anyone to talk to")
    assert top.statement_id == "york.safe.cyp3"  # "There is someone I can tell if I am worried or scared."
    assert top.negated is True


@pytest.mark.parametrize("text", ["asdfgh", "minecraft", "I like minecraft", "it's ok"])
def test_york_nothing_fits(york, text):
    assert york.map(text) == []

