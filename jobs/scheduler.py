"""The one scheduler (BU-5, OPS-3): APScheduler 3 with its jobs persisted in the database, run by the
leader only.

Every process that runs builds or serves pages starts a `Scheduler`, and they elect a leader through
`Services.leader` (always this process in the single container; a Redis key with an expiry when
scaled). Only the leader's APScheduler runs; a process that loses the lead pauses it, and a process
that takes over starts or resumes its own. Sleeping builds' rows (`wake_at`) are the truth: the leader
plans a wake-up job for each when it takes over, when a build goes to sleep (a notifier message, from
any process) and every minute, so a missed message or a lost store entry costs a minute at most.

A wake-up due while no process ran fires at the next start: jobs have no `misfire_grace_time` ("run
however late") and `coalesce` runs a job once for all its missed times.

APScheduler's SQLAlchemy job store is synchronous. On the app's loop its writes would wait for
SQLite's write lock while the coroutine holding that lock waits for the loop: a deadlock until the
busy timeout (seen: a 30 s stall at every wake-up). So the AsyncIOScheduler runs on an event loop of
its own, in a thread, and its jobs hand their work to the app's loop (jobs/app_loop.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from core.builds.holds import WAKES_TOPIC
from core.observability import scheduler_listener
from core.services import Services
from jobs import app_loop, housekeeping, sleep_wake

logger = logging.getLogger(__name__)
TABLE = 'scheduler_jobs'
PLAN_EVERY_S = 60


class Scheduler:
    def __init__(self, services: Services, *, renew_every_s: float | None = None) -> None:
        self.services = services
        self.leading = False
        self.renew_every_s = renew_every_s or max(min(services.leader.ttl_s / 3, 5.0), 0.2)
        self._engine = _job_store_engine(services.settings.sync_database_url)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name='scheduler', daemon=True)
        self.aps = AsyncIOScheduler(
            jobstores={'default': SQLAlchemyJobStore(engine=self._engine, tablename=TABLE)},
            job_defaults={'coalesce': True, 'misfire_grace_time': None, 'max_instances': 1},
            event_loop=self._loop,
            timezone=UTC,
        )
        self.aps.add_listener(scheduler_listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)  # runs/failures on /metrics
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        app_loop.bind(self.services)
        self._thread.start()
        listener = await self.services.notifier.listen(WAKES_TOPIC)
        self._tasks = [
            asyncio.create_task(self._lead(), name='scheduler-leader'),
            asyncio.create_task(self._follow_sleeps(listener), name='scheduler-sleeps'),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.aps.running:
            await self._on_thread(self.aps.shutdown, wait=False)
        if self.leading:
            await self.services.leader.release()
        self.leading = False
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 5)
        self._engine.dispose()

    async def plan_wakes(self) -> int:
        """One date job per sleeping build, at its `wake_at` (replacing any earlier plan for it)."""
        sleeping = await sleep_wake.sleeping_builds(self.services)
        for job_id, wake_at in sleeping:
            await self._on_thread(self.aps.add_job, sleep_wake.wake_build, 'date', run_date=wake_at,
                                  args=[str(job_id)], id=f'wake:{job_id}', replace_existing=True)  # fmt: skip
        return len(sleeping)

    async def jobs(self) -> list[tuple[str, Any]]:
        """(id, next run time) of every scheduled job, for the admin page and tests."""
        listed = await self._on_thread(self.aps.get_jobs)
        return [(job.id, job.next_run_time) for job in listed]

    # ── leadership ──

    async def _lead(self) -> None:
        while True:
            held = await self.services.leader.hold()
            if held and not self.leading:
                await self._take_over()
            elif not held and self.leading:
                logger.warning('scheduler: lost the lead; pausing scheduled jobs here')
                await self._on_thread(self.aps.pause)
                self.leading = False
            await asyncio.sleep(self.renew_every_s)

    async def _take_over(self) -> None:
        await self._on_thread(self.aps.resume if self.aps.running else self.aps.start)
        await self._on_thread(self.aps.add_job, _plan_wakes_job, 'interval', seconds=PLAN_EVERY_S,
                              id='plan-wakes', replace_existing=True)  # fmt: skip
        for name, job, seconds in housekeeping.JOBS:
            await self._on_thread(self.aps.add_job, job, 'interval', seconds=seconds, id=name, replace_existing=True)
        planned = await self.plan_wakes()
        self.leading = True  # once every job is planned: what reads it may rely on them
        logger.info('scheduler: leading (%s); %d wake-up(s) planned', self.services.leader.name, planned)

    async def _follow_sleeps(self, listener) -> None:  # type: ignore[no-untyped-def]
        """A build went to sleep somewhere: the leader plans its wake-up now rather than within a minute."""
        try:
            while not getattr(listener, 'closed', False):
                if await listener.wait(None) is not None and self.leading:
                    await self.plan_wakes()
        finally:
            await listener.close()

    async def _on_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call APScheduler on its own loop's thread, where its job store may wait on the database."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_called(fn, args, kwargs), self._loop))


async def _called(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


_current: Scheduler | None = None  # the one scheduler of this process, for its module-level jobs


async def start(services: Services) -> Scheduler:
    global _current
    _current = Scheduler(services)
    await _current.start()
    return _current


async def _plan_wakes_job() -> int | None:
    current = _current
    if current is None or not current.leading:
        return 0
    return await app_loop.run(lambda _services: current.plan_wakes())


def _job_store_engine(sync_url: str) -> Engine:
    """APScheduler's store is synchronous; on its own thread its few writes may wait on SQLite's lock."""
    if sync_url.startswith('sqlite'):
        return create_engine(sync_url, connect_args={'timeout': 30})
    return create_engine(sync_url, pool_pre_ping=True)
