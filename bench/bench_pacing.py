"""Budget pacing: what the accounting adds to each model call, and how late the scheduler wakes a build.

1. Accounting per call (SQLite, a founder with 5,000 earlier calls over 29 days of the period): the pacer's
   question before the call, recording the call's usage with its pacing day (which returns the day's
   total), and the breaker check after it. Baseline in the same run: recording the usage row alone, which
   every call did before pacing.
2. Wake latency: N sleeping builds whose `wake_at` is 1-2 s away; the real Scheduler (APScheduler on its
   own thread, job store in the database) plans them; latency = the build's move to QUEUED − wake_at.
   Baseline in the same run: `asyncio.sleep` overshoot for the same delays (the event loop's own timer).

Printed, never asserted. Targets: accounting < 1 ms per call; wake latency < 1 s.
Run: .venv/bin/python -m bench.bench_pacing [calls] [builds]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from core.builds.pacer import BuildPacer
from core.config import Settings
from core.db import transaction
from core.metering import record_usage, usage_record
from core.models import BuildJob, Project, Tier, User, utcnow
from core.ports import Usage
from core.services import Services, build_services
from jobs import scheduler
from migrations import upgrade


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f'p50 {statistics.median(ordered) * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms'


async def founder(svc: Services, earlier: int) -> User:
    async with transaction(svc.sessions) as session:
        user = User(email=f'{uuid.uuid4().hex[:8]}@bench.invalid', password_hash='x', tier='bootstrapper',
                    period_started_at=utcnow() - timedelta(days=29))  # fmt: skip
        session.add(user)
        await session.flush()
        start = utcnow() - timedelta(days=29)
        for i in range(earlier):  # spread over the period so far, through the recording path
            await record_usage(session, user_id=user.id, project_id=None, job_id=None, role='builder',
                               model='offline-1', provider='offline', usage=Usage(100, 10),
                               at=start + timedelta(days=29 * i / max(earlier, 1)))  # fmt: skip
    return user


async def record_row(svc: Services, user: User) -> None:
    """Before pacing: the usage row alone."""
    async with transaction(svc.sessions) as session:
        session.add(usage_record(user_id=user.id, project_id=None, job_id=None, role='builder', model='offline-1',
                                 provider='offline', usage=Usage(1000, 50)))  # fmt: skip


async def record(svc: Services, user: User, pacer: BuildPacer) -> None:
    """With pacing: the row and the founder's day, as the pipeline records a call."""
    async with transaction(svc.sessions) as session:
        day = pacer.last.day if pacer.last else None
        recorded = await record_usage(
            session,
            user_id=user.id,
            project_id=None,
            job_id=None,
            role='builder',
            model='offline-1',
            provider='offline',
            usage=Usage(1000, 50),
            day=day,
        )
    pacer.note(recorded)


async def accounting(svc: Services, calls: int) -> None:
    user = await founder(svc, 5_000)
    pacer = BuildPacer(svc.sessions, user_id=user.id, model='offline-1', provider='offline')
    base, paced = [], []
    for _ in range(calls):
        t0 = time.perf_counter()
        await record_row(svc, user)
        base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await pacer.before_call(input_tokens=1000, max_tokens=4096)
        await record(svc, user, pacer)
        await pacer.after_call()
        paced.append(time.perf_counter() - t0)
    added = [p - b for p, b in zip(sorted(paced), sorted(base), strict=True)]
    print(f'accounting, {calls} calls: usage row alone {ms(base)}; with pacing {ms(paced)}')
    print(f'  added by pacing: p50 {statistics.median(added) * 1000:.3f} ms (target < 1 ms)')


async def sleeping_builds(svc: Services, count: int) -> list[tuple[uuid.UUID, float]]:
    user = await founder(svc, 0)
    planned = []
    async with transaction(svc.sessions) as session:
        project = Project(owner_id=user.id, title='Bench', idea='bench')
        session.add(project)
        await session.flush()
        for i in range(count):
            wake_at = utcnow() + timedelta(seconds=1 + i / count)
            job = BuildJob(project_id=project.id, user_id=user.id, state='SLEEPING', wake_at=wake_at)
            session.add(job)
            planned.append((job.id, wake_at.timestamp()))
    return planned


async def woken_at(svc: Services, job_id: uuid.UUID) -> float:
    async for event in svc.events.follow(job_id):
        if getattr(event, 'to_state', None) == 'QUEUED':
            return event.at.timestamp()
    raise RuntimeError('the follow ended before the wake')


async def wake_latency(svc: Services, count: int) -> None:
    delays = [1 + i / count for i in range(count)]
    overshoot = []
    for delay in delays[: min(count, 20)]:
        t0 = time.perf_counter()
        await asyncio.sleep(delay / 10)
        overshoot.append(time.perf_counter() - t0 - delay / 10)
    planned = await sleeping_builds(svc, count)
    watchers = [asyncio.create_task(woken_at(svc, job_id)) for job_id, _ in planned]
    running = await scheduler.start(svc)
    try:
        woke = await asyncio.wait_for(asyncio.gather(*watchers), 30)
    finally:
        await running.stop()
    late = [at - wake_at for at, (_, wake_at) in zip(woke, planned, strict=True)]
    print(f'wake latency, {count} builds: {ms(late)} after wake_at (target < 1 s); max {max(late) * 1000:.1f} ms')
    print(f'  baseline asyncio.sleep overshoot: {ms(overshoot)}')


async def main(calls: int, builds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, ENV='test', DATA_DIR=Path(tmp), STORAGE_SECRET='bench-secret-0123456789')
        await asyncio.to_thread(upgrade, settings.sync_database_url)
        svc = build_services(settings)
        await svc.start()
        async with svc.sessions() as session:
            assert await session.get(Tier, 'bootstrapper') is not None
        try:
            await accounting(svc, calls)
            await wake_latency(svc, builds)
        finally:
            await svc.close()


if __name__ == '__main__':
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(args[0] if args else 300, args[1] if len(args) > 1 else 50))
