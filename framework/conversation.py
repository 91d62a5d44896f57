"""The check-in conversation's vocabulary: its stages, its slots and the intents that are not
answers (control words and the web app's own), in one place.

The actions, the web app and the rules all speak these words. Python imports them from here;
domain.yml and data/ cannot import, so tests/unit/test_conversation_vocabulary.py reads them
and fails on any word that is in one place and not the other. The answer intents (affirm,
deny, sometimes, dont_know, skip) belong to the answer scale (framework/answer_scale.yml).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum


class Stage(str, Enum):
    """Where a check-in is. The `checkin_stage` slot holds one; the rules branch on it."""

    PREFERENCES = "preferences"  # how they answer, read-aloud, how many questions, who is with them
    SURVEY = "survey"  # a question or comment prompt is on screen (the session's position)
    READBACK = "readback"  # "Here is what you told me. Is that right?"
    CONSENT = "consent"  # the read-back was right: "Who can see your answers?"
    FINISHED = "finished"
    # Set when the young person leaves; on return the stage comes from the database again.
    PAUSED = "paused"
    STOPPED = "stopped"


# ---- slots (domain.yml `slots:`) -----------------------------------------------------------------
STAGE_SLOT = "checkin_stage"
REPLY_SLOT = "survey_reply"  # the survey form's one slot: each reply is stored, then cleared
CLARIFYING_SLOT = "clarifying"  # typed words being asked back ("Do you mean yes, sometimes or no?")
ON_HOLD_SLOT = "on_hold"  # after a worry, while the young person chooses to carry on or stop
CHANGING_SLOT = "changing"  # one answer is asked again after the read-back
# Choices made with buttons or words (framework/choices.yml); each is also an entity.
QUESTION_SET_SLOT = "question_set"  # offered only up to the set staff chose (framework.checkin)
PREFERENCE_SLOTS = ("input_mode", "read_aloud", QUESTION_SET_SLOT, "who_with")
CONSENT_SLOT = "consent"
CHOICE_SLOTS = (*PREFERENCE_SLOTS, CONSENT_SLOT)
SLOTS = (STAGE_SLOT, REPLY_SLOT, CLARIFYING_SLOT, ON_HOLD_SLOT, CHANGING_SLOT, *CHOICE_SLOTS)
REQUESTED_SLOT = "requested_slot"  # Rasa's own: the slot a form is asking for

# ---- entities (domain.yml `entities:`) -------------------------------------------------------------
STATEMENT_ENTITY = "statement_id"  # which answer to change, from a read-back button
CARDS_ENTITY = "cards"  # the comment cards chosen, by id: /comment_cards{"cards":"too_noisy people_kind"}
ENTITIES = (*CHOICE_SLOTS, STATEMENT_ENTITY, CARDS_ENTITY)


# ---- between the web app and the action server (through Rasa) -------------------------------------
# Each message Rasa is sent carries its transcript row in its metadata, so the actions can tell a
# message sent again (its reply was lost) from a new one.
MESSAGE_ID = "message_id"
# And, when the screen found an act in it negated ("nobody hurts me"), its words outside those acts:
# a confident `concern` intent is confirmed by the worry signal on these words only.
UNNEGATED = "unnegated"
# And, for typed words, their sentence vector (framework/encoder.py, loaded in the web app for the
# worry signal), for Rasa's NLU, which then loads no encoder (nlu_components/sentence_embeddings.py).
SENTENCE_VECTOR = "sentence_vector"
# The kind of the reply an action sends when it could not do its part (the database refused):
# Rasa would drop its events and carry on, so the web app undoes the turn and answers 503.
TURN_FAILED = "turn_failed"
# The kinds of the bot's messages that ask a check-in step (the widget draws each its own way).
QUESTION_PROMPT = "question"
COMMENT_PROMPT = "comment"


# ---- intents that are not answers ------------------------------------------------------------------
@dataclass(frozen=True)
class Intent:
    name: str
    # A control word steers the check-in (help, stop, a greeting, a worry) instead of answering;
    # the young person can say it at any point, so a rule answers it outside the forms.
    control: bool
    # What a form says to it before asking its own question again; None: the form does not answer it.
    form_replies: tuple[str, ...] | None = None
    # It ends the form (data/rules/control.yml), when tapped or when the words say so (leaving_words.yml).
    leaves_form: bool = False
    # What our buttons and the widget send for it; the web app passes only known payloads to Rasa.
    payload: str | None = None
    # Young people type it (data/nlu/ has examples); False: only buttons and the web app send it.
    typed: bool = True


HELP = "help"  # at a question: the question said another way, with an example
# Questions about what happens to their words; after a worry they get honest, specific answers.
FOLLOW_UPS = ("who_is_told", "what_happens_now", "talk_to_person")
CONCERN = "concern"  # a worry: the action server raises an alert (the web app's screen comes first)
START = "start_checkin"
CHOOSE = "choose"  # carries a choice as an entity: /choose{"consent":"school"}
CARDS = "comment_cards"  # a comment made by tapping cards (framework/comment_cards.yml)

INTENTS: tuple[Intent, ...] = (
    Intent(HELP, control=True, form_replies=("utter_help", "utter_help_more"), payload="/help"),
    Intent("repeat", control=True, form_replies=("utter_repeat",), payload="/repeat"),
    Intent("take_break", control=True, leaves_form=True, payload="/take_break"),
    Intent("stop", control=True, leaves_form=True, payload="/stop"),
    Intent("change_answer", control=True, form_replies=("utter_change_later",), payload="/change_answer"),
    Intent("carry_on", control=True, form_replies=(), payload="/carry_on"),
    Intent("greet", control=True, form_replies=("utter_greet",)),
    Intent("goodbye", control=True),
    Intent("bot_challenge", control=True, form_replies=("utter_iamabot",)),
    Intent("thanks", control=True, form_replies=("utter_thanks_reply",)),
    Intent(CONCERN, control=True),
    *(Intent(name, control=True) for name in FOLLOW_UPS),
    Intent("out_of_scope", control=False),
    # The web app starts every visit with this; a form already open just asks its question again.
    Intent(START, control=False, form_replies=("utter_welcome_back",), payload="/start_checkin", typed=False),
    Intent(CHOOSE, control=False, typed=False),
    Intent(CARDS, control=False, typed=False),
)
FALLBACK_INTENT = "nlu_fallback"  # Rasa's own, below its confidence threshold: never in domain.yml

_BY_NAME = {intent.name: intent for intent in INTENTS}
LEAVING_INTENTS = frozenset(i.name for i in INTENTS if i.leaves_form)
PAYLOADS = frozenset(i.payload for i in INTENTS if i.payload)


def payload_entities(text: str, intent: str) -> dict | None:
    """The entities a button payload for `intent` carries (`/choose{"consent":"school"}`), or
    None when `text` is not such a payload."""
    prefix = f"/{intent}"
    if not text.startswith(prefix + "{"):
        return None
    try:
        entities = json.loads(text[len(prefix):])
    except ValueError:
        return None
    return entities if isinstance(entities, dict) else None


def form_replies(intent: str | None) -> tuple[str, ...] | None:
    """What a form says to `intent` before asking again, or None when the form does not answer it."""
    found = _BY_NAME.get(intent or "")
    return found.form_replies if found else None
