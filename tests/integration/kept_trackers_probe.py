"""Run with .venv-rasa's Python from the project root, with a folder for its database: has Rasa's
SQL tracker store keep the trackers it saved (rasa_server/kept_trackers.py, as `python -m
rasa_server run` does), and checks that each conversation read back holds exactly what Rasa's own
reading of the database gives, through seeded random turns by two stores on one database (two Rasa
servers), turns that fail before saving, and new sessions. Prints one JSON line."""
import asyncio
import json
import os
import random
import sys

sys.path.insert(0, os.getcwd())

from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)

rasas_retrieve = SQLTrackerStore.retrieve

from rasa_server import kept_trackers, sqlite_pool  # noqa: E402

kept_trackers.install()  # as `python -m rasa_server run` does
sqlite_pool.install()  # likewise: each store keeps its connections open
assert SQLTrackerStore.retrieve is not rasas_retrieve, "not installed"


def turn(rng: random.Random) -> list:
    reply = rng.choice(("yes", "no", "sometimes"))
    events = [UserUttered(f"/{reply}", {"name": "affirm", "confidence": 1.0}), ActionExecuted("survey_form"),
              SlotSet("reply", reply), BotUttered("Do you feel safe at school?", {"custom": {"kind": "question"}}),
              ActionExecuted("action_listen")]
    if rng.random() < 0.1:
        events.insert(2, ActiveLoop(rng.choice(("survey_form", None))))
    if rng.random() < 0.04:
        events.insert(0, rng.choice((SessionStarted(), Restarted())))
    return events


def same(tracker, read) -> bool:
    return ([e.as_dict() for e in tracker.events] == [e.as_dict() for e in read.events]
            and tracker.current_state() == read.current_state())


async def main(folder: str) -> dict:
    domain = Domain.load("domain.yml")
    db = os.path.join(folder, "kept.db")
    servers = [SQLTrackerStore(domain, dialect="sqlite", db=db) for _ in range(2)]  # two Rasa servers, one database
    rng = random.Random(11)
    checks = served_kept = differs = 0
    saved = {}  # the tracker each conversation was last saved with
    for step in range(600):
        sender = f"pupil-{rng.randrange(4)}"
        server = rng.choice(servers)
        tracker = await server.get_or_create_tracker(sender, append_action_listen=False)
        served_kept += tracker is saved.get(sender)
        read = await rasas_retrieve(server, sender)
        if read is not None:
            checks += 1
            differs += not same(tracker, read)
        for event in turn(rng):
            tracker.update(event, domain)
        if rng.random() < 0.1:
            continue  # the turn failed before it was saved: its events must not come back
        await server.save(tracker)
        saved[sender] = tracker
    return {"checks": checks, "differs": differs, "served_kept": served_kept}


print(json.dumps(asyncio.run(main(sys.argv[1]))))
