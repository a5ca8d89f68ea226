"""run_build(job_id): the one entry both the in-process worker and an external worker call."""

from __future__ import annotations

import uuid

from core.builds import pipeline
from core.builds.scheduling import claim_next
from core.services import Services


async def run_build(services: Services, job_id: uuid.UUID) -> str:
    """Run a claimed build to READY / FAILED / CANCELLED; safe to call again for the same job."""
    return await pipeline.run_build(services.build_deps(), job_id)


async def claim(services: Services) -> uuid.UUID | None:
    return await claim_next(services.sessions, services.events)
