"""Where scheduled jobs meet the app: the Services object and the event loop it lives on.

APScheduler runs on a thread of its own (jobs/scheduler.py), and its jobs are module-level functions
(its job store keeps them by name). Each job hands its real work to the app's loop through `run`,
where the database engines, the notifier and the queue live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.services import Services

T = TypeVar('T')
logger = logging.getLogger(__name__)
_bound: tuple[Services, asyncio.AbstractEventLoop] | None = None


def bind(services: Services) -> None:
    """Called on the app's loop when the scheduler starts."""
    global _bound
    _bound = (services, asyncio.get_running_loop())


async def run(work: Callable[[Services], Awaitable[T]]) -> T | None:
    """Run `work(services)` on the app's loop and wait for it from wherever this is awaited; None when the
    app has already shut down (a job that fired during the shutdown has nothing left to act on)."""
    if _bound is None or _bound[1].is_closed():
        logger.info('scheduled job skipped: the app is not running')
        return None
    services, loop = _bound
    if asyncio.get_running_loop() is loop:
        return await work(services)
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_call(work, services), loop))


async def _call(work: Callable[[Services], Awaitable[T]], services: Services) -> T:
    return await work(services)
