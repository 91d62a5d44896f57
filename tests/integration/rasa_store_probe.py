"""Run with .venv-rasa's Python: builds Rasa's own tracker store and lock store from an
endpoints file Heard wrote (with rasa_server's change to how it connects, as `rasa_server run`
makes it), saves a conversation, reads it back through a second store (as another Rasa server
would), and takes the conversation's lock. Prints one JSON line."""
import asyncio
import json
import os
import sys

sys.path.insert(0, os.getcwd())

from rasa.core.lock_store import LockStore  # noqa: E402
from rasa.core.tracker_store import TrackerStore  # noqa: E402
from rasa.core.utils import AvailableEndpoints  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from rasa_server import sqlite_pool  # noqa: E402


async def main(endpoints_file: str, sender: str, words: str) -> dict:
    sqlite_pool.install()
    endpoints = AvailableEndpoints.read_endpoints(endpoints_file)
    domain = Domain.empty()
    writer = TrackerStore.create(endpoints.tracker_store, domain)
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered(words, {"name": "affirm", "confidence": 1.0}))
    await writer.save(tracker)
    reader = TrackerStore.create(endpoints.tracker_store, domain)  # a second Rasa server
    stored = await reader.retrieve(sender)
    locks = LockStore.create(endpoints.lock_store)
    async with locks.lock(sender):
        locked = locks.get_lock(sender) is not None
    return {
        "tracker_store": type(writer).__name__,
        "pool": type(writer.engine.pool).__name__,
        "lock_store": type(locks).__name__,
        "words": stored.latest_message.text if stored else None,
        "locked": locked,
    }


print(json.dumps(asyncio.run(main(*sys.argv[1:4]))))
