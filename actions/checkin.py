"""The check-in's other steps: start or resume, preferences saved, read-back (and it was
right), change an answer, consent, break, stop, and a worry said outside a form. Each runs
one function of framework/checkin.py on this check-in and says what it returns; and the
questions about what happens to their words (framework/followups.py), outside a form."""
from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import checkin_session, database, fails_visibly, say, turn
from actions.forms import concern_words, latest_reply, raise_alert_from_dialogue
from framework import checkin, followups
from framework.conversation import (
    CHANGING_SLOT,
    CLARIFYING_SLOT,
    CONSENT_SLOT,
    ON_HOLD_SLOT,
    PREFERENCE_SLOTS,
    REPLY_SLOT,
    REQUESTED_SLOT,
    STAGE_SLOT,
    STATEMENT_ENTITY,
    Stage,
)
from framework.db.models import SurveySession


class CheckinStep(Action, ABC):
    """Runs `step` in one transaction, says what it returns, then moves the stage on (the
    rules branch on it); a step that ends the check-in for now also closes any open form.
    A step that stores what the young person said does it once per message: for a message
    sent again it says the same and keeps nothing new."""

    action: str  # the name in domain.yml
    stage: Stage | None = None
    leaves_form = False
    stores = True  # False for a step that only reads

    def name(self) -> str:
        return self.action

    @abstractmethod
    def step(self, db: Session, session: SurveySession, tracker: Tracker) -> list[checkin.Say]:
        ...

    def stage_after(self, session: SurveySession) -> Stage | None:
        """The stage the step leads to, for the rules; most steps always lead to the same one."""
        return self.stage

    @fails_visibly
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if not self.stores:
            with database() as db:
                session = checkin_session(db, tracker)
                says, stage = self.step(db, session, tracker), self.stage_after(session)
        else:
            with turn(tracker) as now, now.stored_once() as db:
                says, stage = self.step(db, now.session, tracker), self.stage_after(now.session)
        say(dispatcher, says)
        # Leaving a form also ends any pause for "carry on or stop?" (the Stop button after a
        # worry), so a form that comes next, such as who may see, asks its question.
        events: list[EventType] = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), SlotSet(ON_HOLD_SLOT, False)] \
            if self.leaves_form else []
        return events + ([SlotSet(STAGE_SLOT, stage.value)] if stage else [])


class ActionStartCheckin(Action):
    """Greets a new young person, or welcomes one back at the step they left."""

    def name(self) -> str:
        return "action_start_checkin"

    @fails_visibly
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        with database() as db:
            session = checkin_session(db, tracker)
            says = checkin.opening(db, session)
            stage = checkin.stage(db, session)
        say(dispatcher, says)
        return [SlotSet(STAGE_SLOT, stage.value), SlotSet(ON_HOLD_SLOT, False), SlotSet(CLARIFYING_SLOT, None)]


class ActionSavePreferences(CheckinStep):
    action, stage = "action_save_preferences", Stage.SURVEY

    def step(self, db, session, tracker):
        input_mode, read_aloud, question_set, who_with = (tracker.get_slot(slot) for slot in PREFERENCE_SLOTS)
        return checkin.save_preferences(db, session, input_mode=input_mode, read_aloud=read_aloud == "on",
                                        question_set=question_set, who_with=who_with)


class ActionReadBack(CheckinStep):
    action, stage, stores = "action_read_back", Stage.READBACK, False

    def step(self, db, session, tracker):
        return checkin.read_back(db, session)


class ActionConfirmReadBack(CheckinStep):
    """The read-back was right: remembered, so a break from here resumes at consent."""

    action, stage = "action_confirm_readback", Stage.CONSENT

    def step(self, db, session, tracker):
        checkin.confirm_readback(db, session)
        return []


class ActionOfferChanges(CheckinStep):
    action, stores = "action_offer_changes", False

    def step(self, db, session, tracker):
        return checkin.change_options(db, session)


class ActionChangeAnswer(Action):
    """Puts the check-in back on the chosen question; the survey form asks it again."""

    def name(self) -> str:
        return "action_change_answer"

    @fails_visibly
    def run(self, dispatcher, tracker, domain):
        statement_id = next(tracker.get_latest_entity_values(STATEMENT_ENTITY), None)
        with database() as db:
            ok = statement_id is not None and checkin.begin_change(db, checkin_session(db, tracker), statement_id)
        if not ok:
            dispatcher.utter_message(response="utter_default")
            return []
        return [SlotSet(CHANGING_SLOT, True), SlotSet(STAGE_SLOT, Stage.SURVEY.value), SlotSet(REPLY_SLOT, None)]


class ActionSaveConsent(CheckinStep):
    action, stage = "action_save_consent", Stage.FINISHED

    def step(self, db, session, tracker):
        return checkin.save_consent(db, session, tracker.get_slot(CONSENT_SLOT))

    def stage_after(self, session):
        return Stage.STOPPED if session.status == "stopped" else self.stage


class ActionTakeBreak(CheckinStep):
    action, stage, leaves_form = "action_take_break", Stage.PAUSED, True

    def step(self, db, session, tracker):
        return checkin.take_break(db, session)


class ActionStopCheckin(CheckinStep):
    """Stops, or first asks who may see what was given (the rules then open the consent form)."""

    action, stage, leaves_form = "action_stop_checkin", Stage.STOPPED, True

    def step(self, db, session, tracker):
        return checkin.stop(db, session)

    def stage_after(self, session):
        return self.stage if session.status == "stopped" else Stage.CONSENT


class ActionFollowUp(Action):
    """ "will u tell my mum", "what happens now", "i want a real person", outside the forms."""

    def name(self) -> str:
        return "action_follow_up"

    def run(self, dispatcher, tracker, domain):
        reply = latest_reply(tracker)
        with database() as db:
            answered = followups.answer(db, checkin_session(db, tracker), reply.intent)
        say(dispatcher, answered.says)
        return [SlotSet(ON_HOLD_SLOT, True)] if answered.on_hold else []


class ActionConcern(CheckinStep):
    """A worry said outside the questions (the language model's signal)."""

    action = "action_concern"

    def step(self, db, session, tracker):
        reply = latest_reply(tracker)
        return raise_alert_from_dialogue(db, session, reply.text if reply else "", concern_words(tracker, reply))
