"""The three forms (preferences, survey, consent): reading the young person's reply, and how each asks its question.

One base class serves every form: it answers conversation control (help, repeat, a
greeting, "are you a bot?", a worry) itself and then lets the form ask again, so no
form needs a rule per interruption. Stop and take a break leave the form through rules.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import checkin_session, database, fails_visibly, say, turn
from framework import checkin, followups
from framework.alerts import raise_alert
from framework.answers import CONFIDENT, Reply
from framework.choices import buttons as choice_buttons
from framework.choices import fixed_button, option_for_reply
from framework.conversation import (
    CHANGING_SLOT,
    CHOOSE,
    CLARIFYING_SLOT,
    COMMENT_PROMPT,
    CONCERN,
    FOLLOW_UPS,
    HELP,
    LEAVING_INTENTS,
    ON_HOLD_SLOT,
    QUESTION_PROMPT,
    QUESTION_SET_SLOT,
    REPLY_SLOT,
    REQUESTED_SLOT,
    STAGE_SLOT,
    UNNEGATED,
    Stage,
    form_replies,
)
from framework.followups import FollowUp
from framework.leaving import asks_to_leave, is_a_comment
from framework.worry import worry_signal


def concern_words(tracker: Tracker, reply: Reply | None) -> str:
    """What the worry signal hears before a `concern` intent alerts: the reply's words, less any
    act the screen found negated in it ("nobody hurts me" leaves nothing to confirm a worry)."""
    unnegated = ((tracker.latest_message or {}).get("metadata") or {}).get(UNNEGATED)
    if isinstance(unnegated, str):
        return unnegated
    return reply.text if reply else ""


def latest_reply(tracker: Tracker) -> Reply | None:
    """The young person's latest message, as the engine understood it."""
    message = tracker.latest_message or {}
    text = message.get("text")
    if text is None:
        return None
    intent = (message.get("intent") or {}).get("name")
    confidence = (message.get("intent") or {}).get("confidence")
    # Buttons send "/intent" payloads; nobody types a leading slash by accident here.
    return Reply(text=text, intent=intent, confidence=confidence, tapped=text.startswith("/"))


def last_prompt_kind(tracker: Tracker) -> str | None:
    """The kind ("question" or "comment") of the last step the bot asked, from its messages."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            kind = ((event.get("data") or {}).get("custom") or {}).get("kind")
            if kind in (QUESTION_PROMPT, COMMENT_PROMPT):
                return kind
    return None


class HeardFormValidation(FormValidationAction, ABC):
    """Base of every form's validation."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    @fails_visibly
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reply = latest_reply(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        # Any reply ends a pause for "carry on or stop?"; a new worry starts one.
        release = [SlotSet(ON_HOLD_SLOT, False)] if tracker.get_slot(ON_HOLD_SLOT) else []
        if reply is not None and requested is not None:
            if self.own_words(tracker, reply):
                # The child's comment: stored as it is, never taken for a control word.
                return await self._validated(dispatcher, tracker, domain, reply, release)
            if reply.intent in LEAVING_INTENTS and (reply.tapped or asks_to_leave(reply.intent, reply.text)):
                # Nothing for the form: it steps aside and the stop or break rule runs.
                return release
            control = None if self.names_an_answer(tracker, reply) else self._answer_control(dispatcher, tracker, reply)
            if control is not None:
                # Setting the requested slot (to empty) tells the form the message was
                # handled, so it asks its question again rather than giving up.
                return release + control + [SlotSet(requested, None)]
            if not reply.text.startswith(f"/{CHOOSE}"):
                validated = await self._validated(dispatcher, tracker, domain, reply, release)
                if validated is not None:
                    return validated
        return release + await super().run(dispatcher, tracker, domain)

    async def _validated(self, dispatcher, tracker, domain, reply: Reply, release: list[EventType]) -> list[EventType] | None:
        """The reply's own events and the next slot to ask, or None to use the standard slot filling."""
        events = await self.validate_reply(dispatcher, tracker, domain, reply)
        if events is None:
            return None
        events = release + events
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    def _answer_control(self, dispatcher: CollectingDispatcher, tracker: Tracker, reply: Reply) -> list[EventType] | None:
        confident = reply.tapped or (reply.confidence or 0) >= CONFIDENT
        if not confident:
            return None
        if reply.intent == CONCERN:
            if not reply.tapped and not worry_signal().hear(concern_words(tracker, reply)).agrees:
                # The intent alone also fires on ordinary life ("i hurt my arm at rugby"): without
                # the worry signal's agreement the message is read as an answer or comment.
                return None
            with turn(tracker) as now, now.stored_once() as db:
                says = raise_alert_from_dialogue(db, now.session, reply.text, concern_words(tracker, reply))
            say(dispatcher, says)
            return [SlotSet(ON_HOLD_SLOT, True)]
        answered = self.control_says(tracker, reply)
        if answered is not None:
            say(dispatcher, answered.says)
            return [SlotSet(ON_HOLD_SLOT, True)] if answered.on_hold else []
        replies = form_replies(reply.intent)
        if replies is None:
            return None
        for response in replies:
            dispatcher.utter_message(response=response)
        return []

    def names_an_answer(self, tracker: Tracker, reply: Reply) -> bool:
        """True when the reply plainly answers the form's question, whatever else it might mean."""
        return False

    def own_words(self, tracker: Tracker, reply: Reply) -> bool:
        """True when typed words answer a comment prompt: they are the comment."""
        return False

    def control_says(self, tracker: Tracker, reply: Reply) -> FollowUp | None:
        """What this form says to a control word itself, or None for the usual replies."""
        if reply.intent not in FOLLOW_UPS:
            return None
        with database() as db:
            return followups.answer(db, checkin_session(db, tracker), reply.intent)

    @abstractmethod
    async def validate_reply(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                             reply: Reply) -> list[EventType] | None:
        """Events for a typed (or non-choice) reply, or None to use the standard slot filling."""


def raise_alert_from_dialogue(db, session, words: str, heard: str) -> list[checkin.Say]:
    """Rasa's `concern` intent is the second safeguarding signal: with the worry signal agreeing
    (framework/worry.py) on `heard` (concern_words: the words less acts the screen found negated),
    store the alert of `words` and support the child; else ask them to say it again."""
    if not worry_signal().hear(heard).agrees:
        return [checkin.Say(response="utter_default")]
    raise_alert(db, session, words=words, categories=[], evidence=[], source="intent")
    return [checkin.Say(custom={"kind": "safeguarding"},
                        buttons=[fixed_button("carry_on"), fixed_button("stop")])]


class ChoiceFormValidation(HeardFormValidation, ABC):
    """A form whose slots are choices from framework/choices.yml (buttons, or words that name one)."""

    def names_an_answer(self, tracker, reply):
        # "I wanna type" is a choice, even if it also sounds like something else.
        slot = tracker.get_slot(REQUESTED_SLOT)
        return slot is not None and not reply.tapped and option_for_reply(slot, reply.text, None) is not None

    async def validate_reply(self, dispatcher, tracker, domain, reply):
        slot = tracker.get_slot(REQUESTED_SLOT)
        if slot is None:
            return None
        value = option_for_reply(slot, reply.text, reply.intent)
        if value is None:
            dispatcher.utter_message(response="utter_default")
            return [SlotSet(slot, None)]
        return [SlotSet(slot, value)]


class ValidatePreferencesForm(ChoiceFormValidation):
    def name(self) -> str:
        return "validate_preferences_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        # Staff chose the shortest set: there is nothing fewer to choose, so it is not asked.
        with database(reads_only=True) as db:
            offered = checkin.question_sets_offered(checkin_session(db, tracker))
        return [slot for slot in domain_slots if slot != QUESTION_SET_SLOT or len(offered) > 1]


class ValidateConsentForm(ChoiceFormValidation):
    def name(self) -> str:
        return "validate_consent_form"


class ValidateSurveyForm(HeardFormValidation):
    """Every reply to a question or comment prompt is stored, then the next step is asked."""

    def name(self) -> str:
        return "validate_survey_form"

    def control_says(self, tracker, reply):
        if reply.intent != HELP:
            return super().control_says(tracker, reply)
        with database() as db:
            return FollowUp(checkin.explain_current(db, checkin_session(db, tracker)), on_hold=False)

    def own_words(self, tracker, reply):
        return (not reply.tapped and reply.intent != CONCERN and is_a_comment(reply.text)
                and last_prompt_kind(tracker) == COMMENT_PROMPT)

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        with database(reads_only=True) as db:
            position = checkin_session(db, tracker).position
        return list(domain_slots) if position is not None else []

    async def validate_reply(self, dispatcher, tracker, domain, reply):
        with turn(tracker) as now:
            if now.repeated:
                # Stored when it first came: the form asks whatever step the database is on now.
                outcome = checkin.ReplyOutcome(says=[], done=now.session.position is None)
            else:
                outcome = checkin.handle_reply(
                    now.db, now.session, reply,
                    clarifying=tracker.get_slot(CLARIFYING_SLOT),
                    changing=bool(tracker.get_slot(CHANGING_SLOT)),
                )
        say(dispatcher, outcome.says)
        events: list[EventType] = [SlotSet(REPLY_SLOT, None), SlotSet(CLARIFYING_SLOT, outcome.clarifying)]
        if outcome.done:
            events += [SlotSet(CHANGING_SLOT, False), SlotSet(STAGE_SLOT, Stage.READBACK.value)]
        return events


class AskAction(Action, ABC):
    """Asks a form's question, unless the young person was just offered carry on or stop."""

    @fails_visibly
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        if tracker.get_slot(ON_HOLD_SLOT):
            return []
        return self.ask(dispatcher, tracker)

    @abstractmethod
    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        ...


class ActionAskSurveyReply(AskAction):
    def name(self) -> str:
        return "action_ask_survey_reply"

    def ask(self, dispatcher, tracker):
        with database() as db:
            session = checkin_session(db, tracker)
            says = checkin.ask_current(db, session, clarifying=tracker.get_slot(CLARIFYING_SLOT))
        say(dispatcher, says)
        return []


class AskChoice(AskAction, ABC):
    """Asks for one choice slot: the words are a domain response, the buttons come from data."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this action asks for; subclasses name it."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def ask(self, dispatcher, tracker):
        dispatcher.utter_message(response=f"utter_ask_{self.slot}", buttons=choice_buttons(self.slot))
        return []


class ActionAskInputMode(AskChoice):
    slot = "input_mode"


class ActionAskReadAloud(AskChoice):
    slot = "read_aloud"


class ActionAskQuestionSet(AskChoice):
    slot = QUESTION_SET_SLOT

    def ask(self, dispatcher, tracker):
        with database(reads_only=True) as db:
            offered = checkin.question_sets_offered(checkin_session(db, tracker))
        dispatcher.utter_message(response=f"utter_ask_{self.slot}", buttons=choice_buttons(self.slot, offered))
        return []


class ActionAskWhoWith(AskChoice):
    slot = "who_with"


class ActionAskConsent(AskChoice):
    slot = "consent"
