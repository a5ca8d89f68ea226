"""Scheduled housekeeping (OPS-3), run by the scheduler's leader on the app's loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.services import Services
from jobs import app_loop, recovery


async def requeue_stale_builds() -> int:
    """Builds whose worker stopped beating its heart go back to the queue and resume from their checkpoint."""
    return await app_loop.run(_requeue_stale)


async def _requeue_stale(services: Services) -> int:
    requeued = await recovery.requeue_stale_builds(services, sole_executor=False)
    for job_id in requeued:
        await services.queue.enqueue(job_id)
    return len(requeued)


# (job id, function, every N seconds)
JOBS: list[tuple[str, Callable[[], Awaitable[object]], int]] = [
    ('requeue-stale-builds', requeue_stale_builds, 60),
]
