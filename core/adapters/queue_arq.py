"""JobQueue on arq workers (REDIS_URL + WORKERS=external): `python main.py worker` runs an arq worker.

A build is enqueued as an arq job whose id is the build id, so enqueuing it twice runs it once (arq refuses
a second job with a live id; results are not kept, so a build re-queued later — woken, answered — gets a
new job). Admission stays in the database: each job claims the next runnable build (tier priority, per-user
and per-project limits, atomic across processes: core/builds/scheduling.py), which may be another build
than its own id; the job of a build claimed early then finds nothing. A job that finds nothing notes its
build as held; when a build run ends (a slot freed) the held builds are enqueued again, and every
KICK_EVERY_S one worker's cron enqueues every queued build without a job (a safety net).

A worker killed mid-build loses nothing. arq marks a job in progress with a key that normally lives as long
as the job's timeout; here the running job keeps it alive as a short lease (LEASE_S, renewed), so when its
worker dies the key expires within seconds and another worker's poll redelivers the job (arq's retry,
`job_try` > 1). The redelivery first puts the build back in the queue (`recover`), then claims it, and the
build resumes from its checkpoint. A graceful stop cancels the job, which arq also redelivers at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from arq import cron, func
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import in_progress_key_prefix
from arq.worker import Worker

logger = logging.getLogger(__name__)

Claim = Callable[[], Awaitable[UUID | None]]
Run = Callable[[UUID], Awaitable[object]]
Pending = Callable[[], Awaitable[list[UUID]]]
QUEUE_NAME = 'cofounder:builds'
FUNCTION = 'run_build'
LEASE_S = 10.0  # how soon a dead worker's build is redelivered
BUILD_TIMEOUT_S = 24 * 3600  # arq's own limit on one delivery; a build's real limits are its budget and tool calls
MAX_TRIES = 20  # deliveries of one job; past it the stale-heartbeat recovery (jobs/housekeeping.py) still requeues
KICK_EVERY_S = 30  # builds queued without a job (Redis was down, a limit held them back) are enqueued again


class ArqQueue:
    def __init__(
        self,
        redis_url: str,
        *,
        pending: Pending,
        concurrency: int = 4,
        dispatch: bool = False,
        queue_name: str = QUEUE_NAME,
        lease_s: float = LEASE_S,
        poll_s: float = 0.1,
    ) -> None:
        self.redis_settings = RedisSettings.from_dsn(redis_url)
        self.pending = pending  # QUEUED builds, next first: what a kick enqueues
        self.concurrency = concurrency
        self.dispatch = dispatch  # True in `main.py worker`: this process runs an arq worker
        self.queue_name = queue_name
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._claim: Claim | None = None
        self._run: Run | None = None
        self._recover: Run | None = None
        self._pool: ArqRedis | None = None
        self._pool_lock = asyncio.Lock()
        self._worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._running: set[UUID] = set()
        self._held_key = f'{queue_name}:held'  # builds whose last job found nothing runnable

    def bind(self, *, claim: Claim, run: Run, recover: Run | None = None) -> None:
        self._claim, self._run, self._recover = claim, run, recover

    @property
    def running(self) -> int:
        """Builds this process is running now."""
        return len(self._running)

    # ── the producer side (every process) ──

    async def enqueue(self, job_id: UUID) -> None:
        """One arq job per build id: a second enqueue while the first is pending or running is a no-op."""
        pool = await self._redis()
        await pool.enqueue_job(FUNCTION, str(job_id), _job_id=str(job_id), _queue_name=self.queue_name)

    async def kick(self) -> int:
        """Enqueue every queued build that has no job (the others are refused by id); returns how many were new."""
        pool = await self._redis()
        added = 0
        for job_id in await self.pending():
            job = await pool.enqueue_job(FUNCTION, str(job_id), _job_id=str(job_id), _queue_name=self.queue_name)
            added += job is not None
        return added

    async def _redis(self) -> ArqRedis:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await create_pool(self.redis_settings, default_queue_name=self.queue_name)
            return self._pool

    # ── the worker side (`main.py worker`) ──

    async def start(self) -> None:
        if not self.dispatch:
            return
        if self._claim is None or self._run is None:
            raise RuntimeError('ArqQueue.bind() must be called before start()')
        self._worker = Worker(
            functions=[func(self._job, name=FUNCTION, keep_result=0, timeout=BUILD_TIMEOUT_S, max_tries=MAX_TRIES)],
            cron_jobs=[cron(self._cron_kick, name='kick-queued-builds', second=set(range(0, 60, KICK_EVERY_S)))],
            redis_settings=self.redis_settings,
            queue_name=self.queue_name,
            max_jobs=self.concurrency,
            poll_delay=self.poll_s,
            handle_signals=False,  # main.py owns the process's signals
            after_job_end=self._after_job,
            retry_jobs=True,  # a job cancelled by a stopping worker is delivered again at once
        )
        self._worker_task = asyncio.create_task(self._worker.async_run(), name='arq-worker')
        await self.kick()  # builds queued while no worker ran

    async def stop(self) -> None:
        worker, task = self._worker, self._worker_task
        self._worker = self._worker_task = None
        if worker is not None:
            await worker.close()  # cancels running jobs: arq redelivers them to another worker
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def _job(self, ctx: dict[str, Any], build_id: str) -> str:
        """One delivery: recover a build whose last delivery died, claim the next runnable build, run it."""
        assert self._claim is not None and self._run is not None
        lease = asyncio.create_task(self._keep_lease(ctx['redis'], ctx['job_id']))
        try:
            if ctx['job_try'] > 1 and self._recover is not None:
                await self._recover(UUID(build_id))
            claimed = await self._claim()
            if claimed is None:  # held back by a limit (or claimed already): enqueued again when a slot frees
                await ctx['redis'].sadd(self._held_key, build_id)
                return 'nothing runnable now'
            ctx['ran'] = True
            self._running.add(claimed)
            try:
                await self._run(claimed)
            finally:
                self._running.discard(claimed)
            return f'ran {claimed}'
        finally:
            lease.cancel()
            await asyncio.gather(lease, return_exceptions=True)

    async def _keep_lease(self, redis: ArqRedis, job_id: str) -> None:
        """Hold arq's in-progress mark for LEASE_S at a time, renewed: it outlives this worker by at most that."""
        key, ttl_ms = in_progress_key_prefix + job_id, int(self.lease_s * 1000)
        while True:
            try:
                await redis.pexpire(key, ttl_ms)
            except Exception as error:  # noqa: BLE001 - Redis away: arq's own timeout still covers the job
                logger.warning('could not renew the lease of job %s (%s)', job_id, type(error).__name__)
            await asyncio.sleep(self.lease_s / 3)

    async def _after_job(self, ctx: dict[str, Any]) -> None:
        """A build ended here (its job is finished, so even its own id may be enqueued again): a slot freed, so
        the builds whose jobs found nothing runnable get a job again. Not after a job that ran nothing: that
        would only bounce builds held back by their limits between jobs."""
        if not ctx.get('ran'):
            return
        try:
            pool = await self._redis()
            held: Any = await pool.spop(self._held_key, 1000)  # type: ignore[misc]  # redis-py's stubs: sync or async
            for raw in held or []:
                build_id = raw.decode() if isinstance(raw, bytes) else str(raw)
                await pool.enqueue_job(FUNCTION, build_id, _job_id=build_id, _queue_name=self.queue_name)
        except Exception:  # noqa: BLE001 - the cron kick catches up
            logger.warning('could not enqueue the builds waiting for a slot', exc_info=True)

    async def _cron_kick(self, ctx: dict[str, Any], *args: Any, **kwargs: Any) -> int:
        return await self.kick()
