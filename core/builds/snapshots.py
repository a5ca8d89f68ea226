"""Project snapshots (B-10): the workspace saved as a tar.gz in blob storage, newest 5 kept.

Saved at phase commits, on READY and before the agent sleeps, so a lost sandbox can be recreated
with the right files. A snapshot is a convenience, never a reason to fail a build: saving logs
and returns None instead of raising.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import SessionFactory, transaction
from core.models import BlobRecord, ProjectSnapshot, utcnow
from core.ports import BlobStore, Sandbox

log = logging.getLogger(__name__)

KEEP_NEWEST = 5
TRIES = 3
BACKOFF_S = (0.5, 1.5)  # pause after the 1st and 2nd failed try
CONTENT_TYPE = 'application/gzip'


def snapshot_prefix(project_id: uuid.UUID) -> str:
    return f'projects/{project_id}/snapshots/'


async def save_snapshot(
    *,
    sandbox: Sandbox,
    blobs: BlobStore,
    sessions: SessionFactory,
    project_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    job_id: uuid.UUID | None,
    reason: str,
    backoff: Sequence[float] = BACKOFF_S,
) -> ProjectSnapshot | None:
    """Archive the sandbox into blob storage and record it; keep the project's newest 5.

    Archive + upload is tried 3 times with a short backoff. Returns the new row, or None when
    every try failed (logged; never raised, so a snapshot failure cannot fail a build).
    """
    snapshot_id = uuid.uuid4()
    created = utcnow()
    key = f'{snapshot_prefix(project_id)}{created:%Y%m%dT%H%M%S%fZ}-{snapshot_id.hex}.tar.gz'
    size = await _upload_with_retries(sandbox, blobs, key, project_id, backoff)
    if size is None:
        return None
    row = ProjectSnapshot(
        id=snapshot_id,
        project_id=project_id,
        job_id=job_id,
        blob_key=key,
        size=size,
        reason=reason,
        created_at=created,
    )
    try:
        async with transaction(sessions) as session:
            session.add(row)
            session.add(
                BlobRecord(
                    key=key,
                    owner_id=owner_id,
                    project_id=project_id,
                    job_id=job_id,
                    kind='snapshot',
                    content_type=CONTENT_TYPE,
                    size=size,
                    created_at=created,
                )
            )
    except Exception:
        log.exception('snapshot of project %s stored but not recorded; removing the blob', project_id)
        await _quiet_delete(blobs, key)
        return None
    await _prune(blobs, sessions, project_id)
    return row


async def _upload_with_retries(
    sandbox: Sandbox, blobs: BlobStore, key: str, project_id: uuid.UUID, backoff: Sequence[float]
) -> int | None:
    for attempt in range(1, TRIES + 1):
        try:
            data = await sandbox.archive()
            await blobs.put(key, data, content_type=CONTENT_TYPE)
            return len(data)
        except Exception as exc:
            log.warning('snapshot of project %s: try %d/%d failed: %r', project_id, attempt, TRIES, exc)
            if attempt < TRIES:
                await asyncio.sleep(backoff[min(attempt - 1, len(backoff) - 1)] if backoff else 0)
    log.error('snapshot of project %s failed after %d tries; the build goes on without it', project_id, TRIES)
    return None


async def _prune(blobs: BlobStore, sessions: SessionFactory, project_id: uuid.UUID) -> None:
    """Delete working snapshots beyond the newest KEEP_NEWEST: blob first, then its rows."""
    try:
        async with sessions() as session:
            rows = (await session.exec(_newest_first(project_id))).all()
        # Each version's snapshot stays (a changelog compares with it, a restore brings it back).
        for old in [row for row in rows if row.reason != 'ready'][KEEP_NEWEST:]:
            await blobs.delete(old.blob_key)
            async with transaction(sessions) as session:
                stale = await session.get(ProjectSnapshot, old.id)
                if stale is not None:
                    await session.delete(stale)
                record = await session.get(BlobRecord, old.blob_key)
                if record is not None:
                    await session.delete(record)
    except Exception:
        # Pruning is housekeeping: the next save tries again.
        log.exception('pruning old snapshots of project %s failed', project_id)


def _newest_first(project_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return (
        select(ProjectSnapshot)
        .where(ProjectSnapshot.project_id == project_id)
        .order_by(col(ProjectSnapshot.created_at).desc(), col(ProjectSnapshot.blob_key).desc())
    )


async def list_snapshots(sessions: SessionFactory, project_id: uuid.UUID) -> list[ProjectSnapshot]:
    """The project's snapshots, newest first."""
    async with sessions() as session:
        return list((await session.exec(_newest_first(project_id))).all())


async def restore_latest(
    *, sandbox: Sandbox, blobs: BlobStore, sessions: SessionFactory, project_id: uuid.UUID
) -> ProjectSnapshot | None:
    """Restore the newest snapshot whose blob is still readable into a (fresh) sandbox.

    Returns the snapshot restored, or None when the project has none. A snapshot whose blob is
    missing is skipped for the next older one; an error from the sandbox itself propagates,
    because the caller must not believe the files are back.
    """
    for snapshot in await list_snapshots(sessions, project_id):
        try:
            data = await blobs.get(snapshot.blob_key)
        except KeyError:
            log.warning('snapshot blob %s is missing; trying an older one', snapshot.blob_key)
            continue
        await sandbox.restore(data)
        return snapshot
    return None


async def ready_snapshot(session: AsyncSession, job_id: uuid.UUID) -> ProjectSnapshot | None:
    """The READY snapshot of a build: that version's files (kept for good, unlike working snapshots)."""
    query = select(ProjectSnapshot).where(ProjectSnapshot.job_id == job_id, ProjectSnapshot.reason == 'ready')
    return (await session.exec(query.order_by(col(ProjectSnapshot.created_at).desc()).limit(1))).first()


async def restore_version(
    *, sandbox: Sandbox, blobs: BlobStore, sessions: SessionFactory, job_id: uuid.UUID
) -> ProjectSnapshot | None:
    """Restore the files of the version built by `job_id` (its READY snapshot) into a (fresh) sandbox.

    None when that version's snapshot or its blob is gone; an error from the sandbox propagates.
    """
    async with sessions() as session:
        snapshot = await ready_snapshot(session, job_id)
    if snapshot is None:
        return None
    try:
        data = await blobs.get(snapshot.blob_key)
    except KeyError:
        log.warning('the READY snapshot %s of build %s is missing', snapshot.blob_key, job_id)
        return None
    await sandbox.restore(data)
    return snapshot


async def _quiet_delete(blobs: BlobStore, key: str) -> None:
    try:
        await blobs.delete(key)
    except Exception:
        log.exception('could not delete blob %s', key)
