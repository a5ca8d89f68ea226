"""Which queued build runs next (B-2): tier priority, then age, within per-user and per-project limits."""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.states import RUNNING, BuildState, IllegalTransition, transition
from core.db import SessionFactory
from core.event_log import EventLog
from core.models import BuildJob, Tier, User

RUNNING_VALUES = [s.value for s in RUNNING]
MAX_CLAIM_RACES = 100


async def _running_counts(session: AsyncSession) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    rows = (
        await session.exec(select(BuildJob.user_id, BuildJob.project_id).where(col(BuildJob.state).in_(RUNNING_VALUES)))
    ).all()
    per_user: dict[uuid.UUID, int] = {}
    per_project: dict[uuid.UUID, int] = {}
    for user_id, project_id in rows:
        per_user[user_id] = per_user.get(user_id, 0) + 1
        per_project[project_id] = per_project.get(project_id, 0) + 1
    return per_user, per_project


async def next_runnable(session: AsyncSession, *, scan: int = 200) -> BuildJob | None:
    """The first queued build whose owner and project are under their tier's concurrency limits."""
    per_user, per_project = await _running_counts(session)
    query = (
        select(BuildJob, Tier)
        .join(User, col(User.id) == BuildJob.user_id)
        .join(Tier, col(Tier.name) == User.tier)
        .where(BuildJob.state == BuildState.QUEUED.value)
        .order_by(col(BuildJob.priority).desc(), col(BuildJob.queued_at))
        .limit(scan)
    )
    for job, tier in (await session.exec(query)).all():
        if (
            per_user.get(job.user_id, 0) < tier.max_concurrent_user
            and per_project.get(job.project_id, 0) < tier.max_concurrent_project
        ):
            return job
    return None


async def claim_next(sessions: SessionFactory, events: EventLog) -> uuid.UUID | None:
    """Move the next runnable build to STARTING and return its id; None when nothing may start now.

    The transition locks the row, so two dispatchers racing for one job cannot both win. Each lost
    race means another dispatcher claimed a build, so retrying ends once nothing runnable is left.
    """
    for _ in range(MAX_CLAIM_RACES):
        async with sessions() as session:
            job = await next_runnable(session)
        if job is None:
            return None
        try:
            await transition(events, job.id, BuildState.STARTING, reason='A builder picked up your build')
            return job.id
        except IllegalTransition:
            continue  # someone else claimed or cancelled it meanwhile
    return None
