"""JobQueue backed by the database: a dispatcher that starts claimed builds as asyncio tasks.

The queue itself is the QUEUED rows, so nothing is lost on a restart and tier priority and
concurrency limits are applied in one place (`claim`). `enqueue` only wakes dispatchers, through
the Notifier: in-process by default, across processes (web + `main.py worker`) with Redis.
With `dispatch=False` (WORKERS=external) this process only announces work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from core.ports import Notifier

logger = logging.getLogger(__name__)

Claim = Callable[[], Awaitable[UUID | None]]
Run = Callable[[UUID], Awaitable[object]]
TOPIC = 'builds:queued'


class InProcessQueue:
    def __init__(self, notifier: Notifier, *, concurrency: int = 4, dispatch: bool = True) -> None:
        self.notifier = notifier
        self.concurrency = concurrency
        self.dispatch = dispatch
        self._claim: Claim | None = None
        self._run: Run | None = None
        self._wake = asyncio.Event()
        self._tasks: dict[UUID, asyncio.Task[None]] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def bind(self, *, claim: Claim, run: Run) -> None:
        """Connect the queue to what picks the next build and what runs one (jobs.runner)."""
        self._claim, self._run = claim, run

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def enqueue(self, job_id: UUID) -> None:
        self._wake.set()
        await self.notifier.publish(TOPIC, 1)

    async def start(self) -> None:
        if not self.dispatch:
            return
        if self._claim is None or self._run is None:
            raise RuntimeError('InProcessQueue.bind() must be called before start()')
        listener = await self.notifier.listen(TOPIC)
        self._listener = asyncio.create_task(self._listen(listener), name='build-queue-listener')
        self._dispatcher = asyncio.create_task(self._dispatch(), name='build-dispatcher')
        self._wake.set()  # pick up builds queued before this process started

    async def _listen(self, listener) -> None:  # type: ignore[no-untyped-def]
        """Another process queued a build (or a slot freed there): look again."""
        try:
            while True:
                await listener.wait(60.0)  # the timeout is a safety net for a lost wake-up
                self._wake.set()
        finally:
            await listener.close()

    async def stop(self) -> None:
        """Cancel running builds; their rows stay in a running state and recovery re-queues them."""
        tasks = [t for t in (self._listener, self._dispatcher, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def _dispatch(self) -> None:
        assert self._claim is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(self._tasks) < self.concurrency:
                try:
                    job_id = await self._claim()
                except Exception:  # noqa: BLE001 - a database hiccup must not kill the dispatcher
                    logger.exception('could not claim the next build')
                    break
                if job_id is None:
                    break
                self._tasks[job_id] = asyncio.create_task(self._execute(job_id), name=f'build-{job_id}')

    async def _execute(self, job_id: UUID) -> None:
        assert self._run is not None
        try:
            await self._run(job_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the runner ends builds cleanly; this only guards the pool
            logger.exception('build %s ended with an unexpected error', job_id)
        finally:
            self._tasks.pop(job_id, None)
            self._wake.set()  # a slot freed: limits may now allow another build
