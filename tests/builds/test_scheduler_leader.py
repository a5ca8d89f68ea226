"""BU-5 scaled: two worker processes with Redis elect one scheduler; when the leader is killed the
other takes over within seconds and the pending wake-up still fires, once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio as redis

from core.adapters.leader_redis import KEY
from core.events import Sleeping, Waking
from core.models import BuildJob
from core.services import build_services
from migrations import upgrade
from tests.builds.conftest import make_settings
from tests.builds.test_resume_after_crash import wait_for
from tests.builds.test_sleep_wake import TWO_DAYS_TOKENS, paced_founder, start
from tests.services import drop_postgres_database, fresh_postgres_database, require_chromium, require_redis

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TTL = 3


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, 'main.py', 'worker'], cwd=ROOT, env=env, stderr=log.open('wb'),
                            start_new_session=True)  # fmt: skip


async def test_one_scheduler_leads_and_another_takes_over_when_it_dies(tmp_path: Path) -> None:
    require_chromium()
    redis_url = require_redis()
    pg_url = fresh_postgres_database()
    settings = make_settings(tmp_path / 'data', DATABASE_URL=pg_url, REDIS_URL=redis_url, WORKERS='external')
    env = {**os.environ, 'DATA_DIR': str(settings.data_dir), 'DATABASE_URL': pg_url, 'REDIS_URL': redis_url,
           'WORKERS': 'external', 'OFFLINE_PACE_SECONDS': '0', 'ENV': 'test', 'LOG_JSON': 'false',
           'STORAGE_SECRET': 'build-test-secret-123', 'SCHEDULER_LEADER_TTL_SECONDS': str(TTL)}  # fmt: skip
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    keys = redis.Redis.from_url(redis_url)
    await keys.delete(KEY)  # a leader left by an earlier run would hold the lock for TTL seconds
    web = build_services(settings)
    await web.start()
    logs = {name: tmp_path / f'worker-{name}.log' for name in ('a', 'b')}
    a = start_worker(env, logs['a'])

    async def holder() -> str | None:
        value = await keys.get(KEY)
        return value.decode() if value else None

    b = None
    try:
        assert f':{a.pid}:' in await wait_for(holder, timeout=30)  # the first process leads
        b = start_worker(env, logs['b'])
        # the kill lands well before the wake; one sleep is enough to see who wakes it
        user, project_id = await paced_founder(web, day_seconds=6, daily_tokens=TWO_DAYS_TOKENS)
        job = await start(web, user, project_id)

        async def sleeping() -> BuildJob | None:
            async with web.sessions() as session:
                row = await session.get(BuildJob, job.id, populate_existing=True)
            return row if row is not None and row.state == 'SLEEPING' else None

        await wait_for(sleeping, timeout=60)
        assert f':{a.pid}:' in (await holder() or '')  # b never took the lock while a lived
        os.killpg(a.pid, signal.SIGKILL)
        a.wait()

        async def b_leads() -> bool:
            return f':{b.pid}:' in (await holder() or '')

        await wait_for(b_leads, timeout=TTL + 5)  # within seconds of the leader's death
        final = await wait_for(lambda: _finished(web, job.id), timeout=90)
        assert final.state == 'READY', logs['b'].read_text()[-3000:]
        events = await web.events.read(job.id)
        sleeps = [e for e in events if isinstance(e, Sleeping)]
        assert len([e for e in events if isinstance(e, Waking)]) == len(sleeps) >= 1  # each wake fired once
        b_log = logs['b'].read_text()
        assert b_log.count('scheduler: leading') == 1 and 'woke build' in b_log  # b ran the wake after taking over
        assert 'woke build' not in logs['a'].read_text()  # a died before the wake was due
    finally:
        for process in (a, b):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        await keys.aclose()
        await web.close()
        drop_postgres_database(pg_url)


async def _finished(web, job_id) -> BuildJob | None:  # type: ignore[no-untyped-def]
    async with web.sessions() as session:
        row = await session.get(BuildJob, job_id, populate_existing=True)
    return row if row is not None and row.state in {'READY', 'FAILED', 'CANCELLED'} else None
