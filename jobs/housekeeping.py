"""Scheduled housekeeping (OPS-3), run by the scheduler's leader on the app's loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from core.admin_settings import Retention, retention_settings
from core.builds.archive import archive_finished_builds
from core.builds.preview import pause_idle_previews
from core.retention import apply_retention
from core.services import Services
from jobs import app_loop, recovery


async def requeue_stale_builds() -> int | None:
    """Builds whose worker stopped beating its heart go back to the queue and resume from their checkpoint."""
    return await app_loop.run(_requeue_stale)


async def _requeue_stale(services: Services) -> int:
    requeued = await recovery.requeue_stale_builds(services, sole_executor=False)
    for job_id in requeued:
        await services.queue.enqueue(job_id)
    return len(requeued)


async def archive_build_events() -> int | None:
    """Events of builds that ended more than `event_hours` ago move to the blob store (B-3)."""
    return await app_loop.run(_archive_build_events)


async def _archive_build_events(services: Services) -> int:
    retention = await _retention(services)
    archived = await archive_finished_builds(
        services.sessions, services.events, services.blobs, older_than=timedelta(hours=retention.event_hours)
    )
    return len(archived)


async def delete_expired_files() -> dict[str, int] | None:
    """Old screenshots, snapshots beyond the newest N, orphaned blobs and old workspaces go."""
    return await app_loop.run(_delete_expired_files)


async def _delete_expired_files(services: Services) -> dict[str, int]:
    return await apply_retention(services.sessions, services.blobs, services.sandboxes, await _retention(services))


async def pause_unviewed_previews() -> int | None:
    """Previews nobody has viewed for `preview_idle_minutes` stop their app; Resume restarts it (B-5)."""
    return await app_loop.run(_pause_unviewed_previews)


async def _pause_unviewed_previews(services: Services) -> int:
    retention = await _retention(services)
    idle_for = timedelta(minutes=retention.preview_idle_minutes)
    return len(await pause_idle_previews(services.sessions, services.sandboxes, idle_for=idle_for))


async def _retention(services: Services) -> Retention:
    async with services.sessions() as session:
        return await retention_settings(session)


# (job id, function, every N seconds)
JOBS: list[tuple[str, Callable[[], Awaitable[object]], int]] = [
    ('requeue-stale-builds', requeue_stale_builds, 60),
    ('archive-build-events', archive_build_events, 3600),
    ('retention', delete_expired_files, 3600),
    ('pause-idle-previews', pause_unviewed_previews, 60),
]
