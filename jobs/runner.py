"""run_build(job_id): the one entry both the in-process worker and an external worker call."""

from __future__ import annotations

import uuid

from core.builds import pipeline
from core.builds.scheduling import claim_next
from core.services import Services
from jobs import recovery


async def run_build(services: Services, job_id: uuid.UUID) -> str:
    """Run a claimed build to READY / FAILED / CANCELLED; safe to call again for the same job."""
    return await pipeline.run_build(services.build_deps(), job_id)


async def claim(services: Services) -> uuid.UUID | None:
    return await claim_next(services.sessions, services.events)


async def recover(services: Services, job_id: uuid.UUID) -> bool:
    """The queue redelivered a build whose worker died: put it back in the queue to resume it."""
    return await recovery.requeue_orphan(services, job_id)
