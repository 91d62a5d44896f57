"""Run with .venv-rasa's Python from the project root: compares Rasa's own `applied_events` and
event lookup with the ones `python -m rasa_server run` installs (rasa_server/tracker_replay.py), on
seeded random conversations of forms, slots, reverts, restarts and new sessions, asked after every
event as Rasa asks while a conversation grows. Prints one JSON line."""
import json
import os
import random
import sys

sys.path.insert(0, os.getcwd())

from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

rasas_applied_events = DialogueStateTracker.applied_events
rasas_undo = DialogueStateTracker._undo_till_previous_loop_execution

from rasa_server import tracker_replay  # noqa: E402

tracker_replay.install()  # as `python -m rasa_server run` does
assert DialogueStateTracker.applied_events is not rasas_applied_events, "not installed"

FORMS = ("survey_form", "consent_form", "preferences_form")


def random_event(rng: random.Random, step: int) -> Event:
    form = rng.choice(FORMS[:2] if step < 150 else FORMS)  # a third form only late: earlier events read anew
    return rng.choices([
        lambda: UserUttered("yes", {"name": "affirm", "confidence": 1.0}),
        lambda: ActionExecuted("action_listen"),
        lambda: ActionExecuted(form),
        lambda: ActionExecuted(rng.choice(("action_say_hi", "utter_thanks", "validate_" + form))),
        lambda: ActiveLoop(form),
        lambda: ActiveLoop(None),
        lambda: SlotSet("requested_slot", rng.choice(("reply", None))),
        lambda: BotUttered("Do you feel safe?", {"custom": {"kind": "question"}}),
        lambda: ActionExecutionRejected(form),
        lambda: UserUtteranceReverted(),
        lambda: ActionReverted(),
        lambda: SessionStarted(),
        lambda: Restarted(),
    ], weights=[10, 10, 12, 6, 3, 2, 8, 8, 1, 1, 1, 0.3, 0.2])[0]()


def compare(seed: int, length: int) -> int:
    rng = random.Random(seed)
    tracker = DialogueStateTracker("probe", [])
    calls = 0
    for step in range(length):
        tracker.events.append(random_event(rng, step))
        for _ in range(rng.choice((1, 1, 2))):  # asked once or twice with nothing new
            ours = tracker.applied_events()
            theirs = rasas_applied_events(tracker)
            assert ours == theirs and all(a is b for a, b in zip(ours, theirs)), (seed, step)
            ours.clear()  # a caller's changes to its list change nothing kept
            calls += 1
    return calls


calls = sum(compare(seed, 300) for seed in range(40))

undone = []
for seed in range(200):
    rng = random.Random(seed)
    events = [rng.choice([ActionExecuted("survey_form"), ActionExecuted("action_listen"), UserUttered("hi"),
                          SlotSet("reply", "yes"), BotUttered("hello")]) for _ in range(rng.randrange(0, 30))]
    ours, theirs = list(events), list(events)
    DialogueStateTracker._undo_till_previous_loop_execution("survey_form", ours)
    rasas_undo("survey_form", theirs)
    undone.append(ours == theirs)

stored = [event.as_dict() for event in [UserUttered("kinda", {"name": "sometimes"}), SlotSet("reply", "sometimes"),
                                        ActionExecuted("survey_form"), BotUttered("Thanks"), ActiveLoop(None)]]
read_twice = [Event.from_parameters(d) for d in stored] == [Event.from_parameters(d) for d in stored]
print(json.dumps({"calls": calls, "undo_same": all(undone), "read_twice_same": read_twice,
                  "read_back": [Event.from_parameters(d).as_dict() == d for d in stored],
                  "unknown_gets_default": Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet}))
