"""The scaled setup: Postgres + Redis, the web side only queues, a `main.py worker` process builds.

The queue wake-up and every build event cross processes through Redis; the web side follows the
build live without running it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.builds import jobs as builds
from core.services import build_services
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done, make_settings
from tests.services import drop_postgres_database, fresh_postgres_database, require_chromium, require_redis

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python main.py worker`; builds queued before it is up are picked up when it starts."""
    return subprocess.Popen([sys.executable, 'main.py', 'worker'], cwd=ROOT, env=env, stderr=log.open('wb'))


async def test_external_worker_builds_what_the_web_side_queues(tmp_path: Path) -> None:
    require_chromium()
    redis_url = require_redis()
    pg_url = fresh_postgres_database()
    settings = make_settings(tmp_path / 'data', DATABASE_URL=pg_url, REDIS_URL=redis_url, WORKERS='external')
    env = {
        **os.environ,
        'DATA_DIR': str(settings.data_dir),
        'DATABASE_URL': pg_url,
        'REDIS_URL': redis_url,
        'WORKERS': 'external',
        'OFFLINE_PACE_SECONDS': '0',
        'ENV': 'test',
        'LOG_JSON': 'false',
        'STORAGE_SECRET': 'build-test-secret-123',
    }
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    web = build_services(settings)
    await web.start()
    worker = start_worker(env, tmp_path / 'worker.log')
    try:
        user, project_id = await founder_flow(web, IDEA, MUST_HAVE)
        async with web.sessions() as session:
            job = await builds.start_build(
                session, user=user, project_id=project_id, queue=web.queue, events=web.events
            )
        events = await events_until_done(web, job.id, timeout=180)
        assert events[-1].state == 'READY', (tmp_path / 'worker.log').read_text()[-3000:]  # type: ignore[attr-defined]
        assert web.queue.running == 0  # type: ignore[attr-defined]  # the web side never ran it
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        await web.close()
        drop_postgres_database(pg_url)
