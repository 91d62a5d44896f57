"""Jobs the web app runs in the background while it serves (bot/app.py starts them): the
outbox sender and the retention job. Each runs in a worker thread, so the database never
blocks a request; a run that fails is logged and the job carries on at its next time."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)


@asynccontextmanager
async def repeating(name: str, job: Callable[[], object], every: float,
                    woken: asyncio.Event | None = None) -> AsyncIterator[None]:
    """Run `job` now and then every `every` seconds (sooner when `woken` is set) until the block ends."""
    woken = woken or asyncio.Event()

    async def keep_running() -> None:
        while True:
            woken.clear()
            try:
                await run_in_threadpool(job)
            except Exception:  # e.g. the database is down: log it and try again next time
                log.exception("%s failed; trying again in %.0f s", name, every)
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=every)

    task = asyncio.create_task(keep_running(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
