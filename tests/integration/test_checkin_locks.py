"""One check-in's messages, one at a time, even when two web workers hold them: each worker
has its own CheckinLocks, and they meet in a real Redis."""
from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.chat.locks import CheckinLocks
from tests.integration.test_rasa_endpoints import redis_url  # noqa: F401  (the fixture)
from tests.stack import free_port

pytestmark = pytest.mark.integration


def ids(count: int) -> list[int]:
    """Check-in ids no other run on this Redis uses at the same time."""
    return random.sample(range(10**6, 10**9), count)


async def take_turns(first: CheckinLocks, second: CheckinLocks, first_id: int, second_id: int) -> list[str]:
    happened: list[str] = []
    first_holds = asyncio.Event()

    async def turn(locks: CheckinLocks, session_id: int, name: str, signal: asyncio.Event | None) -> None:
        async with locks.hold(session_id):
            happened.append(f"{name} in")
            if signal:
                signal.set()
            await asyncio.sleep(0.5)  # a turn in Rasa: the other worker must not start meanwhile
            happened.append(f"{name} out")

    one = asyncio.create_task(turn(first, first_id, "first", first_holds))
    await first_holds.wait()
    await asyncio.gather(one, turn(second, second_id, "second", None))
    await first.close()
    await second.close()
    return happened


def run_apart(turns) -> list[str]:
    """asyncio.run in a thread of its own: the browser tests' Playwright leaves an event loop
    running in the test thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, turns).result()


def test_two_workers_handle_one_checkins_messages_one_at_a_time(redis_url):  # noqa: F811
    happened = run_apart(take_turns(CheckinLocks(redis_url), CheckinLocks(redis_url), *ids(1) * 2))
    assert happened == ["first in", "first out", "second in", "second out"]


def test_two_workers_handle_different_checkins_at_once(redis_url):  # noqa: F811
    happened = run_apart(take_turns(CheckinLocks(redis_url), CheckinLocks(redis_url), *ids(2)))
    assert happened == ["first in", "second in", "first out", "second out"]


def test_with_redis_gone_a_message_is_still_handled():
    gone = f"redis://127.0.0.1:{free_port()}/0"
    happened = run_apart(take_turns(CheckinLocks(gone), CheckinLocks(gone), *ids(2)))
    assert sorted(happened) == ["first in", "first out", "second in", "second out"]
