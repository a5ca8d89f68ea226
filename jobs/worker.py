"""Background execution: the build queue (in-process dispatcher or arq worker), start-up recovery and the scheduler."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from functools import partial

from core.services import Services
from jobs import recovery, runner, scheduler

logger = logging.getLogger(__name__)


_schedulers: dict[int, scheduler.Scheduler] = {}
_stopped: set[int] = set()  # services whose stop came first: a start still under way must not run on


async def start(services: Services) -> None:
    """Recover interrupted builds, start executing queued ones, and take part in electing the scheduler."""
    _stopped.discard(id(services))
    _wait_for_children_on_the_loop()
    services.queue.bind(
        claim=partial(runner.claim, services),
        run=partial(runner.run_build, services),
        recover=partial(runner.recover, services),
    )
    sole_executor = services.settings.WORKERS == 'inprocess'
    await recovery.requeue_stale_builds(services, sole_executor=sole_executor)
    if sole_executor:
        await recovery.mark_previews_paused(services)
    if id(services) in _stopped:  # the app shut down while this start awaited (NiceGUI runs it as a task)
        return
    await services.queue.start()
    _schedulers[id(services)] = await scheduler.start(services)


async def stop(services: Services) -> None:
    _stopped.add(id(services))
    running = _schedulers.pop(id(services), None)
    if running is not None:
        await running.stop()
    await services.queue.stop()


def _wait_for_children_on_the_loop() -> None:
    """Builds spawn many short commands. Python 3.11's default child watcher starts a thread per child,
    which costs the event loop more per spawn than a pidfd watcher waiting on the loop itself
    (bench/README.md). Python 3.12+ already does this."""
    if sys.version_info >= (3, 12) or not hasattr(os, 'pidfd_open'):
        return
    policy = asyncio.get_event_loop_policy()
    if isinstance(getattr(policy, '_watcher', None), asyncio.PidfdChildWatcher):
        return
    try:
        watcher = asyncio.PidfdChildWatcher()
        policy.set_child_watcher(watcher)  # type: ignore[attr-defined]
        watcher.attach_loop(asyncio.get_running_loop())
    except (OSError, AttributeError, NotImplementedError):
        logger.info('pidfd child watcher unavailable; using the default')
