"""A real offline build, then a day of housekeeping: its events replay from the archive exactly as they were
(through the Services the app builds), its idle preview pauses and resumes, and retention keeps what the
founder's current version needs (B-3, B-5, B-10, OPS-3)."""

from __future__ import annotations

import asyncio
import urllib.request
from datetime import timedelta

from core.admin_settings import retention_settings
from core.builds import jobs as builds
from core.builds.archive import archive_finished_builds, archive_key
from core.builds.preview import pause_idle_previews, resume_preview
from core.builds.snapshots import list_snapshots
from core.events import SnapshotUpdated
from core.models import BuildJob, utcnow
from core.retention import apply_retention
from core.services import Services
from jobs import worker
from jobs.demo import founder_flow
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def test_a_day_after_a_build_its_events_replay_from_the_archive_and_its_preview_rests(
    services: Services,
) -> None:
    user, project_id = await founder_flow(services, IDEA, MUST_HAVE)
    await worker.start(services)
    async with services.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=services.queue, events=services.events
        )
    live = await events_until_done(services, job.id)
    await worker.stop(services)  # nothing else writes while the housekeeping runs
    async with services.sessions() as session:
        retention = await retention_settings(session)
    a_day_later = utcnow() + timedelta(hours=retention.event_hours + 1)

    archived = await archive_finished_builds(
        services.sessions, services.events, services.blobs, older_than=timedelta(hours=24), now=a_day_later
    )

    assert archived == [job.id]
    assert await services.blobs.exists(archive_key(project_id, job.id))
    replayed = await events_until_done(services, job.id)  # what the build page and the API follow
    assert replayed == live
    assert await services.events.read(job.id, after_seq=len(live) - 3, limit=3) == live[-3:]

    paused = await pause_idle_previews(
        services.sessions, services.sandboxes, idle_for=timedelta(minutes=retention.preview_idle_minutes),
        now=a_day_later,
    )  # fmt: skip
    assert paused == [job.id]
    async with services.sessions() as session:
        resumed = await resume_preview(session, user=user, job_id=job.id, sandboxes=services.sandboxes)
    assert resumed.preview_state == 'running'
    assert 'Online Booking Calendar' in await asyncio.to_thread(fetch, resumed.preview_url)

    a_month_later = utcnow() + timedelta(days=retention.screenshot_days + 1)
    counts = await apply_retention(services.sessions, services.blobs, services.sandboxes, retention, now=a_month_later)

    assert counts['screenshots'] == 0 and counts['workspaces'] == 0  # the current version keeps them
    shots = [e for e in live if isinstance(e, SnapshotUpdated)]
    assert shots and await services.blobs.exists(shots[-1].key)
    assert await services.blobs.exists(archive_key(project_id, job.id))  # an archive is not an orphan
    kept = await list_snapshots(services.sessions, project_id)
    assert len([s for s in kept if s.reason != 'ready']) <= retention.snapshots_kept
    assert [s.reason for s in kept].count('ready') == 1  # the version's own files stay
    async with services.sessions() as session:
        current = await session.get(BuildJob, job.id)
    assert current is not None and current.sandbox_id and current.preview_state == 'running'
