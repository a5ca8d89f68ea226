"""Build jobs as the founder sees them: start, follow, cancel, retry, queue position (B-1, B-2, B-9)."""

from __future__ import annotations

import uuid

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.accounts import require_active
from core.admin_settings import builds_enabled
from core.builds.states import HOLDS, RUNNING, TERMINAL, BuildState, IllegalTransition, transition
from core.errors import Conflict, NotFound
from core.event_log import EventLog
from core.journey import timeline
from core.journey.projects import advance_stage, load_project
from core.models import BuildJob, Escalation, Project, Tier, User, utcnow
from core.ports import JobQueue
from core.row_locks import lock_key

KILL_SWITCH_MESSAGE = 'Autonomous builds are switched off by your administrator right now. Try again later.'
CANCELLED_REASON = 'Cancelled by the founder'


def cancel_topic(job_id: uuid.UUID) -> str:
    """Where a running build listens for its founder's cancel."""
    return f'cancel:{job_id}'


async def get_build(session: AsyncSession, *, user: User, job_id: uuid.UUID | str) -> BuildJob:
    """The build if it belongs to `user`; NotFound otherwise (missing and foreign look the same)."""
    try:
        job = await session.get(BuildJob, uuid.UUID(str(job_id)))
    except ValueError:
        job = None
    if job is None or job.user_id != user.id:
        raise NotFound('That build')
    await require_active(session, user)  # a suspension since the page opened counts (cancel, answer, restore)
    return job


async def _owned_project(
    session: AsyncSession, user: User, project_id: uuid.UUID | str, *, active: bool = False
) -> Project:
    try:
        pid = uuid.UUID(str(project_id))
    except ValueError:
        raise NotFound('That project') from None
    return await load_project(session, user=user, project_id=pid, active=active)


async def latest_build(session: AsyncSession, *, user: User, project_id: uuid.UUID | str) -> BuildJob | None:
    project = await _owned_project(session, user, project_id)
    query = select(BuildJob).where(BuildJob.project_id == project.id).order_by(col(BuildJob.queued_at).desc())
    return (await session.exec(query.limit(1))).first()


async def list_builds(session: AsyncSession, *, user: User, project_id: uuid.UUID | str) -> list[BuildJob]:
    project = await _owned_project(session, user, project_id)
    query = select(BuildJob).where(BuildJob.project_id == project.id).order_by(col(BuildJob.queued_at).desc())
    return list((await session.exec(query)).all())


async def start_build(
    session: AsyncSession,
    *,
    user: User,
    project_id: uuid.UUID | str,
    queue: JobQueue,
    events: EventLog,
    kind: str = 'initial',
    retry_of: uuid.UUID | None = None,
    change_request_id: uuid.UUID | None = None,
    restore_of: uuid.UUID | None = None,
) -> BuildJob:
    """Queue a build of the project with its selected plan; refuses with a clear reason when it can't."""
    project = await _owned_project(session, user, project_id, active=True)
    await lock_key(session, Project, project.id)  # check-then-insert: two clicks must not start two builds
    await _check_can_build(session, project, kind)
    tier = await session.get(Tier, user.tier)
    job = BuildJob(
        project_id=project.id,
        user_id=user.id,
        kind=kind,
        retry_of=retry_of,
        plan_id=project.selected_plan_id,
        change_request_id=change_request_id,
        restore_of=restore_of,
        priority=tier.priority if tier else 0,
    )
    session.add(job)
    advance_stage(project, 'building')
    project.updated_at = utcnow()
    label = {'initial': 'Build started', 'retry': 'Build retried', 'iteration': 'Iteration build started',
             'restore': 'Restore build started'}[kind]  # fmt: skip
    await session.flush()
    timeline.record(session, project_id=project.id, kind='build.started', title=label, job_id=job.id)
    await session.commit()
    await queue.enqueue(job.id)
    return job


async def _check_can_build(session: AsyncSession, project: Project, kind: str) -> None:
    if not await builds_enabled(session):
        raise Conflict(KILL_SWITCH_MESSAGE)
    if kind == 'initial' and project.selected_plan_id is None:
        raise Conflict('Choose an execution plan first: the build follows it.')
    active = (
        select(func.count())
        .select_from(BuildJob)
        .where(
            BuildJob.project_id == project.id,
            col(BuildJob.state).in_([s.value for s in RUNNING | HOLDS | {BuildState.QUEUED}]),
        )
    )
    if (await session.exec(active)).one():
        raise Conflict('A build of this project is already under way.')


async def request_cancel(session: AsyncSession, *, user: User, job_id: uuid.UUID | str, events: EventLog) -> BuildJob:
    """Queued, resting or waiting builds end at once (a waiting one's question is closed, a resting one's wake-up
    dropped); a running one is stopped by its runner (pushed, not polled)."""
    job = await get_build(session, user=user, job_id=job_id)
    state = BuildState(job.state)
    if state in TERMINAL:
        raise Conflict('This build has already finished.')
    if state in RUNNING:
        job.cancel_requested = True
        await session.commit()
        await events.announce(cancel_topic(job.id))  # the runner stops at once, in whichever process it runs
        return job
    # Queued, resting or waiting for the founder's decision: no agent runs it, so it ends here and now.
    await session.commit()  # release our read before the transition takes the row lock
    fields = {'wake_at': None} if state == BuildState.SLEEPING else {}
    try:
        cancelled = await transition(events, job.id, BuildState.CANCELLED, reason=CANCELLED_REASON, **fields)
    except IllegalTransition:  # it finished in the meantime (a claim, a wake-up or an answer can still be cancelled)
        raise Conflict('This build has already finished.') from None
    if state == BuildState.NEEDS_INPUT:
        await _close_questions(session, job.id)
    return cancelled


async def _close_questions(session: AsyncSession, job_id: uuid.UUID) -> None:
    """The question the build was waiting on is settled by the cancel: nothing is left open for it."""
    waiting = await session.exec(select(Escalation).where(Escalation.job_id == job_id, Escalation.status == 'open'))
    for question in waiting.all():
        question.status, question.decision, question.resolved_at = 'resolved', CANCELLED_REASON, utcnow()
    await session.commit()


async def retry_build(
    session: AsyncSession,
    *,
    user: User,
    job_id: uuid.UUID | str,
    queue: JobQueue,
    events: EventLog,
) -> BuildJob:
    """Start a fresh build after a failure or cancel; it resumes from the project's last snapshot."""
    job = await get_build(session, user=user, job_id=job_id)
    if BuildState(job.state) not in {BuildState.FAILED, BuildState.CANCELLED, BuildState.BUDGET_EXCEEDED}:
        raise Conflict('Only a failed or cancelled build can be retried.')
    return await start_build(
        session,
        user=user,
        project_id=job.project_id,
        queue=queue,
        events=events,
        kind='retry',
        retry_of=job.id,
        change_request_id=job.change_request_id,
        restore_of=job.restore_of,  # a retried restore still brings back that version
    )


async def queue_position(session: AsyncSession, *, job: BuildJob) -> int | None:
    """1-based position among queued builds (higher tier priority first, then oldest), or None."""
    if job.state != BuildState.QUEUED:
        return None
    ahead = (
        select(func.count())
        .select_from(BuildJob)
        .where(
            BuildJob.state == BuildState.QUEUED.value,
            (col(BuildJob.priority) > job.priority)
            | ((col(BuildJob.priority) == job.priority) & (col(BuildJob.queued_at) < job.queued_at)),
        )
    )
    return int((await session.exec(ahead)).one()) + 1
