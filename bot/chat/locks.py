"""One check-in's messages are handled one at a time, in order.

Within one web process an asyncio lock per check-in does it. With several web workers the
balancer sends a check-in's messages to one worker while it is up; a Redis lock (redis-py's)
makes it hold when a worker dies and its check-ins move to another.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

# Longer than any turn (Rasa's timeout is a minute): a worker that died holding a lock frees it then.
HELD_AT_MOST_SECONDS = 180


class CheckinLocks:
    def __init__(self, redis_url: str = "") -> None:
        self._local: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2) if redis_url else None

    @asynccontextmanager
    async def hold(self, session_id: int) -> AsyncIterator[None]:
        lock = self._local.get(session_id)
        if lock is None:
            lock = self._local[session_id] = asyncio.Lock()
        async with lock:
            if self._redis is None:
                yield
                return
            shared = self._redis.lock(f"heard:checkin:{session_id}", timeout=HELD_AT_MOST_SECONDS,
                                      blocking_timeout=HELD_AT_MOST_SECONDS)
            try:
                acquired = await shared.acquire()
            except RedisError as exc:
                acquired, why = False, str(exc)
            else:
                why = f"still held after {HELD_AT_MOST_SECONDS} s"
            if not acquired:
                # The message must still be stored: carry on with the balancer's stickiness alone.
                log.warning("check-in %s handled without its shared lock: %s", session_id, why)
                yield
                return
            try:
                yield
            finally:
                try:
                    await shared.release()
                except (LockError, RedisError) as exc:  # expired, or Redis went away: it frees itself
                    log.warning("check-in %s: shared lock not released: %s", session_id, exc)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
