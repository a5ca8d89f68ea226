"""Builds end to end with the real pieces: offline model, local sandbox, Chromium, SQLite or Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from core.config import Settings
from core.events import BuildEvent
from core.services import Services, build_services
from jobs import worker
from migrations import upgrade
from tests.services import drop_postgres_database, fresh_postgres_database, require_chromium

IDEA = 'A booking tool for independent dog groomers so clients can pick a slot and pay a deposit.'
MUST_HAVE = 'online booking calendar, deposit payment, SMS reminders, client pet profiles'
# A whole build where the database is not what the test is about runs on SQLite only; full builds on Postgres:
# test_offline_build's READY test, the housekeeping build, and every integration test of the core on both
SQLITE_ONLY = pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)


def make_settings(data_dir: Path, **extra: object) -> Settings:
    values = {
        'ENV': 'test',
        'DATA_DIR': data_dir,
        'OFFLINE_PACE_SECONDS': 0,
        'STORAGE_SECRET': 'build-test-secret-123',
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(params=['sqlite', pytest.param('postgres', marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if request.param == 'sqlite':
        yield None
        return
    url = fresh_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
async def services(tmp_path: Path, database_url: str | None) -> AsyncIterator[Services]:
    require_chromium()
    settings = make_settings(tmp_path / 'data', DATABASE_URL=database_url)
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    svc = build_services(settings)
    await svc.start()
    yield svc
    await worker.stop(svc)  # the queue and the scheduler, when a test started them
    await svc.close()


async def events_until_done(svc: Services, job_id, timeout: float = 120) -> list[BuildEvent]:  # type: ignore[no-untyped-def]
    seen: list[BuildEvent] = []
    async with asyncio.timeout(timeout), aclosing(svc.events.follow(job_id, until_done=True)) as stream:
        async for event in stream:
            seen.append(event)
    return seen
