"""OPS-3: the housekeeping jobs are registered with the scheduler and run on the app's loop from its thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.config import Settings
from core.services import Services, build_services
from jobs import app_loop, housekeeping
from jobs.scheduler import Scheduler
from migrations import upgrade


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', STORAGE_SECRET='housekeeping-secret-1')
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    svc = build_services(settings)
    await svc.start()
    yield svc
    await svc.close()


def test_the_housekeeping_jobs_and_how_often_they_run() -> None:
    every = {name: seconds for name, _job, seconds in housekeeping.JOBS}
    assert every == {
        'requeue-stale-builds': 60,
        'archive-build-events': 3600,
        'retention': 3600,
        'pause-idle-previews': 60,
    }
    # APScheduler's job store keeps a job by its module and name: a module-level function each
    assert all(
        job.__module__ == 'jobs.housekeeping' and '<' not in job.__qualname__ for _, job, _s in housekeeping.JOBS
    )


async def test_the_leading_scheduler_plans_every_housekeeping_job(services: Services) -> None:
    scheduler = Scheduler(services)
    await scheduler.start()
    try:
        async with asyncio.timeout(30):
            while not scheduler.leading:  # noqa: ASYNC110 - the lead is taken by the scheduler's own task
                await asyncio.sleep(0.05)
        planned = {job_id for job_id, _next in await scheduler.jobs()}
    finally:
        await scheduler.stop()
    assert {name for name, _job, _s in housekeeping.JOBS} <= planned


async def test_each_job_runs_from_another_thread_on_the_apps_loop(services: Services) -> None:
    app_loop.bind(services)
    results = {}
    for name, job, _seconds in housekeeping.JOBS:
        # as APScheduler calls it: on the scheduler thread's own loop
        results[name] = await asyncio.to_thread(asyncio.run, job())  # type: ignore[arg-type]
    assert results == {
        'requeue-stale-builds': 0,
        'archive-build-events': 0,
        'retention': {'screenshots': 0, 'snapshots': 0, 'orphaned_blobs': 0, 'workspaces': 0},
        'pause-idle-previews': 0,
    }
