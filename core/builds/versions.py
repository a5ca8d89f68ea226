"""Product versions (B-8): each READY build gets the next v0.N; the first moves the project to "MVP built"."""

from __future__ import annotations

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.journey import timeline
from core.journey.projects import advance_stage
from core.models import BuildJob, Project


async def assign_version(session: AsyncSession, job: BuildJob) -> str:
    """Number the build (in the caller's transaction) and record the milestone on the timeline."""
    ready = select(func.max(BuildJob.version_number)).where(BuildJob.project_id == job.project_id)
    number = ((await session.exec(ready)).one() or 0) + 1
    job.version_number, job.version_label = number, f'v0.{number}'
    project = await session.get(Project, job.project_id)
    assert project is not None
    timeline.record(
        session, project_id=project.id, kind='build.ready', title=f'Build {job.version_label} is ready', job_id=job.id
    )
    if number == 1:
        advance_stage(project, 'mvp_built')
        timeline.record(session, project_id=project.id, kind='mvp.built', title='MVP built', job_id=job.id)
    return job.version_label
