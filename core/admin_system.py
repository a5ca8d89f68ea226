"""The admin's System page (AD-5): the queue in order, the builds under way with their owners, the scheduled
jobs and their next run (APScheduler's own table), and the latest failures. Health lives in core/health.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.builds.states import RUNNING, BuildState, stage_label
from core.models import BuildJob, Project, SchedulerJob, User

UNDER_WAY = [s.value for s in RUNNING] + [BuildState.SLEEPING.value, BuildState.NEEDS_INPUT.value]


@dataclass(frozen=True)
class BuildLine:
    job_id: uuid.UUID
    state: str
    state_label: str
    owner: str
    project: str
    since: datetime  # queued at, for the queue; last change otherwise
    wake_at: datetime | None = None


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    next_run: datetime | None  # None: paused


@dataclass(frozen=True)
class Failure:
    job_id: uuid.UUID
    owner: str
    project: str
    at: datetime
    summary: str


async def queue(session: AsyncSession, *, actor: User, limit: int = 100) -> list[BuildLine]:
    """Queued builds in the order a dispatcher considers them (tier priority, then age): position = index + 1."""
    audit.require_admin(actor)
    query = _lines().where(BuildJob.state == BuildState.QUEUED.value)
    query = query.order_by(col(BuildJob.priority).desc(), col(BuildJob.queued_at)).limit(limit)
    return [_line(job, email, title, job.queued_at) for job, email, title in (await session.exec(query)).all()]


async def under_way(session: AsyncSession, *, actor: User) -> list[BuildLine]:
    """Running, resting and waiting builds, with their owners."""
    audit.require_admin(actor)
    query = _lines().where(col(BuildJob.state).in_(UNDER_WAY)).order_by(col(BuildJob.updated_at))
    return [_line(job, email, title, job.updated_at) for job, email, title in (await session.exec(query)).all()]


async def scheduled_jobs(session: AsyncSession, *, actor: User) -> list[ScheduledJob]:
    """What the scheduler will run and when (its job store's rows, soonest first)."""
    audit.require_admin(actor)
    rows = (await session.exec(select(SchedulerJob.id, SchedulerJob.next_run_time))).all()
    jobs = [ScheduledJob(job_id, datetime.fromtimestamp(at, UTC) if at is not None else None) for job_id, at in rows]
    return sorted(jobs, key=lambda job: (job.next_run is None, job.next_run or datetime.max.replace(tzinfo=UTC)))


async def recent_failures(session: AsyncSession, *, actor: User, limit: int = 10) -> list[Failure]:
    """The newest failed builds and what their founders were told."""
    audit.require_admin(actor)
    query = _lines().where(BuildJob.state == BuildState.FAILED.value)
    query = query.order_by(col(BuildJob.finished_at).desc(), col(BuildJob.updated_at).desc()).limit(limit)
    return [
        Failure(job.id, email, title, job.finished_at or job.updated_at, job.error_summary or 'No summary recorded.')
        for job, email, title in (await session.exec(query)).all()
    ]


def _lines():  # type: ignore[no-untyped-def]
    return (
        select(BuildJob, User.email, Project.title)
        .join(User, col(User.id) == col(BuildJob.user_id))
        .join(Project, col(Project.id) == col(BuildJob.project_id))
    )


def _line(job: BuildJob, email: str, title: str, since: datetime) -> BuildLine:
    return BuildLine(job.id, job.state, stage_label(job.state), email, title, since, job.wake_at)
