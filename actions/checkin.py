"""The check-in's other steps: start or resume, preferences saved, read-back (and it was
right), change an answer, consent, break, stop, and a worry said outside a form. Each is a thin wrapper
around a function in framework/checkin.py."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import checkin_session, database, latest_reply, say
from actions.forms import raise_alert_from_dialogue
from framework import checkin
from framework.conversation import (
    CHANGING_SLOT,
    CLARIFYING_SLOT,
    CONSENT_SLOT,
    ON_HOLD_SLOT,
    PREFERENCE_SLOTS,
    REPLY_SLOT,
    REQUESTED_SLOT,
    STAGE_SLOT,
    Stage,
)


class ActionStartCheckin(Action):
    """Greets a new young person, or welcomes one back at the step they left."""

    def name(self) -> str:
        return "action_start_checkin"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with database() as db:
            session = checkin_session(db, tracker)
            says = checkin.opening(db, session)
            stage = checkin.stage(db, session)
        say(dispatcher, says)
        return [SlotSet(STAGE_SLOT, stage.value), SlotSet(ON_HOLD_SLOT, False), SlotSet(CLARIFYING_SLOT, None)]


class ActionSavePreferences(Action):
    def name(self) -> str:
        return "action_save_preferences"

    def run(self, dispatcher, tracker, domain):
        input_mode, read_aloud, question_set, who_with = (tracker.get_slot(slot) for slot in PREFERENCE_SLOTS)
        with database() as db:
            says = checkin.save_preferences(db, checkin_session(db, tracker), input_mode=input_mode,
                                            read_aloud=read_aloud == "on", question_set=question_set, who_with=who_with)
        say(dispatcher, says)
        return [SlotSet(STAGE_SLOT, Stage.SURVEY.value)]


class ActionReadBack(Action):
    def name(self) -> str:
        return "action_read_back"

    def run(self, dispatcher, tracker, domain):
        with database() as db:
            says = checkin.read_back(db, checkin_session(db, tracker))
        say(dispatcher, says)
        return [SlotSet(STAGE_SLOT, Stage.READBACK.value)]


class ActionConfirmReadBack(Action):
    """The read-back was right: remembered, so a break from here resumes at consent."""

    def name(self) -> str:
        return "action_confirm_readback"

    def run(self, dispatcher, tracker, domain):
        with database() as db:
            checkin.confirm_readback(db, checkin_session(db, tracker))
        return [SlotSet(STAGE_SLOT, Stage.CONSENT.value)]


class ActionOfferChanges(Action):
    def name(self) -> str:
        return "action_offer_changes"

    def run(self, dispatcher, tracker, domain):
        with database() as db:
            says = checkin.change_options(db, checkin_session(db, tracker))
        say(dispatcher, says)
        return []


class ActionChangeAnswer(Action):
    """Puts the check-in back on the chosen question; the survey form asks it again."""

    def name(self) -> str:
        return "action_change_answer"

    def run(self, dispatcher, tracker, domain):
        statement_id = next(tracker.get_latest_entity_values("statement_id"), None)
        with database() as db:
            ok = statement_id is not None and checkin.begin_change(db, checkin_session(db, tracker), statement_id)
        if not ok:
            dispatcher.utter_message(response="utter_default")
            return []
        return [SlotSet(CHANGING_SLOT, True), SlotSet(STAGE_SLOT, Stage.SURVEY.value), SlotSet(REPLY_SLOT, None)]


class ActionSaveConsent(Action):
    def name(self) -> str:
        return "action_save_consent"

    def run(self, dispatcher, tracker, domain):
        with database() as db:
            says = checkin.save_consent(db, checkin_session(db, tracker), tracker.get_slot(CONSENT_SLOT))
        say(dispatcher, says)
        return [SlotSet(STAGE_SLOT, Stage.FINISHED.value)]


class ActionTakeBreak(Action):
    def name(self) -> str:
        return "action_take_break"

    def run(self, dispatcher, tracker, domain):
        with database() as db:
            says = checkin.take_break(db, checkin_session(db, tracker))
        say(dispatcher, says)
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), SlotSet(STAGE_SLOT, Stage.PAUSED.value)]


class ActionStopCheckin(Action):
    def name(self) -> str:
        return "action_stop_checkin"

    def run(self, dispatcher, tracker, domain):
        with database() as db:
            says = checkin.stop(db, checkin_session(db, tracker))
        say(dispatcher, says)
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), SlotSet(STAGE_SLOT, Stage.STOPPED.value)]


class ActionConcern(Action):
    """A worry said outside the questions (the language model's signal)."""

    def name(self) -> str:
        return "action_concern"

    def run(self, dispatcher, tracker, domain):
        reply = latest_reply(tracker)
        with database() as db:
            says = raise_alert_from_dialogue(db, checkin_session(db, tracker), reply.text if reply else "")
        say(dispatcher, says)
        return []
