"""B-5/B-6: after a restart the local preview is paused, and Resume relaunches the app from its workspace."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

import pytest

from core.builds import jobs as builds
from core.builds.preview import resume_preview
from core.models import BuildJob
from core.services import build_services
from jobs import worker
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done, make_settings
from tests.services import require_chromium


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def test_restart_pauses_the_preview_and_resume_brings_the_app_back(tmp_path: Path) -> None:
    require_chromium()
    settings = make_settings(tmp_path / 'data')
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    first = build_services(settings)
    await first.start()
    await worker.start(first)
    user, project_id = await founder_flow(first, IDEA, MUST_HAVE)
    async with first.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=first.queue, events=first.events
        )
    await events_until_done(first, job.id)
    async with first.sessions() as session:
        old_url = (await session.get(BuildJob, job.id)).preview_url
    await worker.stop(first)
    await first.close()  # the process ends: its apps stop with it
    with pytest.raises(OSError):
        await asyncio.to_thread(fetch, old_url)

    second = build_services(settings)
    await second.start()
    await worker.start(second)
    try:
        async with second.sessions() as session:
            assert (await session.get(BuildJob, job.id)).preview_state == 'paused'
            resumed = await resume_preview(session, user=user, job_id=job.id, sandboxes=second.sandboxes)
        assert resumed.preview_state == 'running'
        assert 'Online Booking Calendar' in await asyncio.to_thread(fetch, resumed.preview_url)
    finally:
        await worker.stop(second)
        await second.close()
