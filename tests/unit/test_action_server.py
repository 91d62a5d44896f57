"""The action server runs Rasa's action calls side by side: one waiting for the database (SQLite's
write lock, while the web app writes) must not hold up the calls behind it."""
import asyncio
import threading

from actions.server import ActionsInThreads


def test_action_calls_run_side_by_side():
    both_running = threading.Barrier(2, timeout=60)
    executor = ActionsInThreads()

    def waits_for_the_other_call(dispatcher, tracker, domain):
        both_running.wait()  # one call at a time, the first would wait here until the timeout breaks it
        dispatcher.utter_message(text=f"done for {tracker.sender_id}")
        return []

    executor.register_function("action_waits", waits_for_the_other_call)

    async def two_calls():
        return await asyncio.gather(*(executor.run({"next_action": "action_waits", "tracker": {"sender_id": sender}})
                                      for sender in ("first", "second")))

    replies = asyncio.run(two_calls())
    assert [reply["responses"][0]["text"] for reply in replies] == ["done for first", "done for second"]
