"""JobQueue of the single container: the database is the queue, a dispatcher runs claimed builds as asyncio tasks.

The queue itself is the QUEUED rows, so nothing is lost on a restart and tier priority and
concurrency limits are applied in one place (`claim`, atomic across processes). `enqueue` wakes this
process's dispatcher; a periodic look catches builds queued by another process sharing the database
(several `serve` processes with WORKERS=inprocess). Scaled out, builds run on arq workers instead
(`queue_arq.py`, WORKERS=external). With `dispatch=False` this process only records builds (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

logger = logging.getLogger(__name__)

Claim = Callable[[], Awaitable[UUID | None]]
Run = Callable[[UUID], Awaitable[object]]
LOOK_EVERY_S = 30.0  # builds queued elsewhere (another process, a lost wake-up) wait at most this long


class InProcessQueue:
    def __init__(self, *, concurrency: int = 4, dispatch: bool = True, look_every_s: float = LOOK_EVERY_S) -> None:
        self.concurrency = concurrency
        self.dispatch = dispatch
        self.look_every_s = look_every_s
        self._claim: Claim | None = None
        self._run: Run | None = None
        self._wake = asyncio.Event()
        self._tasks: dict[UUID, asyncio.Task[None]] = {}
        self._dispatcher: asyncio.Task[None] | None = None

    def bind(self, *, claim: Claim, run: Run, recover: Run | None = None) -> None:
        """Connect the queue to what picks the next build and what runs one (jobs.runner). `recover` is not
        needed here: the single container re-queues every interrupted build when it starts (jobs.recovery)."""
        self._claim, self._run = claim, run

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def enqueue(self, job_id: UUID) -> None:
        self._wake.set()

    async def start(self) -> None:
        if not self.dispatch:
            return
        if self._claim is None or self._run is None:
            raise RuntimeError('InProcessQueue.bind() must be called before start()')
        self._dispatcher = asyncio.create_task(self._dispatch(), name='build-dispatcher')
        self._wake.set()  # pick up builds queued before this process started

    async def stop(self) -> None:
        """Cancel running builds; their rows stay in a running state and recovery re-queues them."""
        tasks = [t for t in (self._dispatcher, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def _dispatch(self) -> None:
        assert self._claim is not None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.look_every_s):  # wait_for may drop a stop's cancel (3.11)
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
