"""Deleting a project for good (J-7): its rows, events, blobs and workspaces, after the founder typed its name.

The rows go in one transaction: every table with a `project_id` column (the project's own rows) or a `job_id`
column (rows of its builds), children before parents so foreign keys hold on both databases. Found from the
schema rather than listed, so a table added later is not forgotten. The usage records stay: they are the
founder's spending history for the period, and deleting a project must not give its tokens back.

Blobs (everything under `projects/{id}/`, plus any recorded elsewhere) and the builds' workspaces are removed
after the commit: the database is the truth, and a blob or workspace that could not be removed is an orphan
that retention (core/retention.py) sweeps later, never a row pointing at nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.states import TERMINAL, BuildState
from core.errors import Conflict, InvalidInput
from core.journey.projects import load_project, require_active_user
from core.models import AcceptanceResult, AgentCheckpoint, BlobRecord, BuildJob, ProjectSnapshot, User
from core.ports import BlobStore, SandboxProvider

log = logging.getLogger(__name__)

KEPT_TABLES = frozenset({'usage_records'})  # spending history outlives the project (see the module's note)
WRONG_NAME = 'Type the project’s name exactly as shown to delete it.'
_STATE_WORDS = {
    BuildState.SLEEPING: 'resting until its budget renews',
    BuildState.NEEDS_INPUT: 'waiting for your decision',
    BuildState.QUEUED: 'waiting to start',
}


@dataclass(frozen=True)
class Removed:
    title: str
    builds: int
    blobs: int
    workspaces: int


def blob_prefix(project_id: uuid.UUID) -> str:
    """Every blob of a project lives under this prefix (snapshots, screenshots, check evidence, event archives)."""
    return f'projects/{project_id}/'


async def delete_project(
    session: AsyncSession,
    *,
    user: User,
    project_id: uuid.UUID,
    confirm_title: str,
    blobs: BlobStore,
    sandboxes: SandboxProvider,
) -> Removed:
    """Delete the project and everything it made. InvalidInput when `confirm_title` is not its name; Conflict
    while one of its builds is under way (running, queued, resting or waiting for the founder)."""
    require_active_user(user)
    project = await load_project(session, user=user, project_id=project_id)
    if ' '.join(confirm_title.split()) != ' '.join(project.title.split()):
        raise InvalidInput(WRONG_NAME)
    builds = list((await session.exec(select(BuildJob).where(BuildJob.project_id == project.id))).all())
    _refuse_while_under_way(builds)
    job_ids = [job.id for job in builds]
    keys = await _blob_keys(session, project.id, job_ids, builds)
    workspaces = await _workspaces(session, job_ids, builds)
    title = project.title
    for table in reversed(SQLModel.metadata.sorted_tables):
        where = _rows_of(table, project.id, job_ids)
        if where is not None:
            await session.execute(delete(table).where(where))
    await session.commit()
    log.info('project %s deleted by its owner (%d builds)', project_id, len(builds))
    removed_blobs = await _remove_blobs(blobs, project_id, keys)
    removed_workspaces = await _remove_workspaces(sandboxes, workspaces)
    return Removed(title, len(builds), removed_blobs, removed_workspaces)


def _refuse_while_under_way(builds: list[BuildJob]) -> None:
    for job in builds:
        if job.state not in TERMINAL:
            doing = _STATE_WORDS.get(BuildState(job.state), 'running')
            raise Conflict(
                f'A build of this project is {doing}. Cancel it on the build page first, then delete the project.'
            )


def _rows_of(table, project_id: uuid.UUID, job_ids: list[uuid.UUID]) -> ColumnElement[bool] | None:  # type: ignore[no-untyped-def]
    if table.name in KEPT_TABLES:
        return None
    if table.name == 'projects':
        return table.c.id == project_id  # type: ignore[no-any-return]
    parts = []
    if 'project_id' in table.c:
        parts.append(table.c.project_id == project_id)
    if 'job_id' in table.c and job_ids:
        parts.append(table.c.job_id.in_(job_ids))
    return or_(*parts) if parts else None


async def _blob_keys(
    session: AsyncSession, project_id: uuid.UUID, job_ids: list[uuid.UUID], builds: list[BuildJob]
) -> set[str]:
    """Keys recorded for the project, whatever their prefix (the prefix covers the rest)."""
    keys = {job.events_archive_key for job in builds if job.events_archive_key}
    of_jobs = [col(BlobRecord.job_id).in_(job_ids)] if job_ids else []
    records = await session.exec(select(BlobRecord.key).where(or_(col(BlobRecord.project_id) == project_id, *of_jobs)))
    keys |= set(records.all())
    keys |= set((await session.exec(select(ProjectSnapshot.blob_key).where(
        ProjectSnapshot.project_id == project_id))).all())  # fmt: skip
    shots = await session.exec(select(AcceptanceResult.screenshot_key).where(
        AcceptanceResult.project_id == project_id, col(AcceptanceResult.screenshot_key).is_not(None)))  # fmt: skip
    keys |= {key for key in shots.all() if key}
    return keys


async def _workspaces(session: AsyncSession, job_ids: list[uuid.UUID], builds: list[BuildJob]) -> set[str]:
    ids = {job.sandbox_id for job in builds if job.sandbox_id}
    if job_ids:
        checkpoints = await session.exec(
            select(AgentCheckpoint.sandbox_id).where(col(AgentCheckpoint.job_id).in_(job_ids))
        )
        ids |= {sandbox_id for sandbox_id in checkpoints.all() if sandbox_id}
    return ids


async def _remove_blobs(blobs: BlobStore, project_id: uuid.UUID, keys: set[str]) -> int:
    prefix = blob_prefix(project_id)
    removed = 0
    try:
        removed = await blobs.delete_prefix(prefix)
        for key in sorted(k for k in keys if not k.startswith(prefix)):
            await blobs.delete(key)
            removed += 1
    except Exception:  # noqa: BLE001 — the rows are gone; what is left is an orphan retention sweeps
        log.warning('removing the blobs of deleted project %s failed', project_id, exc_info=True)
    return removed


async def _remove_workspaces(sandboxes: SandboxProvider, ids: set[str]) -> int:
    removed = 0
    for sandbox_id in sorted(ids):
        try:
            sandbox = await sandboxes.connect(sandbox_id)
            if sandbox is not None:
                await sandbox.destroy()  # stops its app (a running preview) too
                removed += 1
        except Exception:  # noqa: BLE001 — one stuck workspace must not keep the others
            log.warning('removing workspace %s of a deleted project failed', sandbox_id, exc_info=True)
    return removed
