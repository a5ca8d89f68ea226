"""Waking sleeping builds (BU-5): the scheduler's job, and what it reads to plan them."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlmodel import col, select

from core.builds.holds import wake
from core.builds.states import BuildState
from core.models import BuildJob
from core.services import Services
from jobs import app_loop

logger = logging.getLogger(__name__)


async def sleeping_builds(services: Services) -> list[tuple[uuid.UUID, datetime]]:
    async with services.sessions() as session:
        rows = await session.exec(
            select(BuildJob.id, BuildJob.wake_at).where(
                BuildJob.state == BuildState.SLEEPING.value, col(BuildJob.wake_at).is_not(None)
            )
        )
        return [(job_id, wake_at) for job_id, wake_at in rows.all() if wake_at is not None]


async def wake_build(job_id: str) -> bool | None:
    """The scheduled job: put a sleeping build back in the queue. Idempotent (woken twice, runs once)."""
    return await app_loop.run(lambda services: wake_now(services, uuid.UUID(job_id)))


async def wake_now(services: Services, job_id: uuid.UUID) -> bool:
    job = await wake(services.events, job_id)
    if job is None:
        return False
    logger.info('woke build %s', job_id)
    await services.queue.enqueue(job.id)
    return True
