"""Start-up recovery (OPS-3): builds a crash left in a running state are re-queued, never stuck."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlmodel import col, select, update

from core.builds.pipeline import HEARTBEAT_S
from core.builds.states import RUNNING, BuildState, IllegalTransition, transition
from core.db import transaction
from core.models import BuildJob, utcnow
from core.services import Services

logger = logging.getLogger(__name__)
STALE_AFTER_S = 6 * HEARTBEAT_S


async def requeue_stale_builds(services: Services, *, sole_executor: bool) -> list[uuid.UUID]:
    """Move interrupted builds back to QUEUED; their runner resumes from the agent checkpoint.

    The sole executor (the single container) owns every running build, so all of them are orphans
    after a restart; with several workers only builds whose heartbeat stopped are.
    """
    query = select(BuildJob.id).where(col(BuildJob.state).in_([s.value for s in RUNNING]))
    if not sole_executor:
        query = query.where(col(BuildJob.updated_at) < utcnow() - timedelta(seconds=STALE_AFTER_S))
    async with services.sessions() as session:
        stale = (await session.exec(query)).all()
    requeued = []
    for job_id in stale:
        try:
            await transition(services.events, job_id, BuildState.QUEUED, reason='Picking up where I left off')
            requeued.append(job_id)
        except IllegalTransition:
            continue
    if requeued:
        logger.info('re-queued %d interrupted build(s)', len(requeued))
    return requeued


async def requeue_orphan(services: Services, job_id: uuid.UUID) -> bool:
    """A build whose worker died mid-run (its queue redelivered the job) goes back to QUEUED, so the next claim
    resumes it from its checkpoint. Only a running build: one that slept, asked or ended meanwhile stays."""
    async with services.sessions() as session:
        job = await session.get(BuildJob, job_id)
    if job is None or job.state not in {s.value for s in RUNNING}:
        return False
    try:
        await transition(services.events, job_id, BuildState.QUEUED, reason='Picking up where I left off')
    except IllegalTransition:
        return False
    logger.info('build %s: its worker stopped; queued again to resume from its checkpoint', job_id)
    return True


async def mark_previews_paused(services: Services) -> int:
    """A local sandbox's apps die with the process that ran them: after a restart their previews are
    paused (the founder presses Resume), not "running" behind a dead port."""
    if services.sandboxes.apps_survive_restart:
        return 0
    stmt = update(BuildJob).where(col(BuildJob.preview_state) == 'running').values(preview_state='paused')
    async with transaction(services.sessions) as session:
        result = await session.exec(stmt)  # type: ignore[call-overload]
    return int(result.rowcount or 0)
