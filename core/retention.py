"""Retention (OPS-3): what storage keeps, and nothing a founder still needs goes.

Each function deletes one kind of thing and returns how many it deleted:
- screenshots older than `screenshot_days`, except those of each project's latest READY build (its
  current version) and of builds still under way;
- working project snapshots beyond the newest `snapshots_kept` per project (blob, snapshot row, blob record);
  each version's READY snapshot stays;
- orphaned blobs: records whose project is gone, and blobs under `projects/` that nothing records;
- workspaces of builds that ended more than `workspace_days` ago, except each project's latest READY
  build (its preview and files are the founder's current version).

Blobs go before their rows: a crash in between leaves a row whose blob is gone, which the next run
deletes again (deleting a missing blob is not an error), never a blob nothing knows about.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, case, delete, func, select, update

from core.admin_settings import Retention
from core.builds.states import TERMINAL, BuildState
from core.db import SessionFactory, engine_of, transaction
from core.models import BlobRecord, BuildJob, Project, ProjectSnapshot, utcnow
from core.ports import BlobStore, SandboxProvider

log = logging.getLogger(__name__)

PROJECTS_PREFIX = 'projects/'
UNRECORDED_GRACE_S = 30.0  # a blob is stored before its record: look twice before calling it an orphan
BATCH = 500
_jobs = cast(Table, BuildJob.__table__)  # type: ignore[attr-defined]
_blobs = cast(Table, BlobRecord.__table__)  # type: ignore[attr-defined]
_snapshots = cast(Table, ProjectSnapshot.__table__)  # type: ignore[attr-defined]
_projects = cast(Table, Project.__table__)  # type: ignore[attr-defined]
_TERMINAL = [s.value for s in TERMINAL]


async def apply_retention(
    sessions: SessionFactory,
    blobs: BlobStore,
    sandboxes: SandboxProvider,
    retention: Retention,
    *,
    now: datetime | None = None,
    grace_s: float = UNRECORDED_GRACE_S,
) -> dict[str, int]:
    """Every retention rule once; returns how many of each kind went. A rule that fails is logged and the
    others still run (the next run retries it)."""
    now = now or utcnow()
    steps = {
        'screenshots': lambda: delete_old_screenshots(
            sessions, blobs, older_than=timedelta(days=retention.screenshot_days), now=now
        ),
        'snapshots': lambda: prune_snapshots(sessions, blobs, keep=retention.snapshots_kept),
        'orphaned_blobs': lambda: delete_orphaned_blobs(sessions, blobs, grace_s=grace_s),
        'workspaces': lambda: delete_old_workspaces(
            sessions, sandboxes, older_than=timedelta(days=retention.workspace_days), now=now
        ),
    }
    counts: dict[str, int] = {}
    for name, step in steps.items():
        try:
            counts[name] = await step()
        except Exception:  # noqa: BLE001 — housekeeping: one rule's failure must not stop the others
            log.exception('retention: deleting old %s failed', name)
            counts[name] = 0
    if any(counts.values()):
        log.info('retention deleted %s', counts)
    return counts


def latest_ready_builds() -> Select[Any]:
    """The id of each project's latest READY build: the version the founder has now."""
    rank = (
        func.row_number()
        .over(partition_by=_jobs.c.project_id, order_by=(_jobs.c.finished_at.desc(), _jobs.c.id.desc()))
        .label('rank')
    )
    ranked = select(_jobs.c.id, rank).where(_jobs.c.state == BuildState.READY.value).subquery()
    return select(ranked.c.id).where(ranked.c.rank == 1)


# ── screenshots ──


async def delete_old_screenshots(
    sessions: SessionFactory, blobs: BlobStore, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Screenshots taken before now - older_than, except the current version's and running builds'."""
    protected = select(_jobs.c.id).where(_jobs.c.state.not_in(_TERMINAL)).union(latest_ready_builds())
    query = select(_blobs.c.key).where(
        _blobs.c.kind == 'screenshot',
        _blobs.c.created_at < (now or utcnow()) - older_than,
        _blobs.c.job_id.is_(None) | _blobs.c.job_id.not_in(protected),
    )
    async with engine_of(sessions).connect() as conn:
        keys = list((await conn.execute(query)).scalars())
    return await _delete_recorded(sessions, blobs, keys)


# ── snapshots ──


async def prune_snapshots(sessions: SessionFactory, blobs: BlobStore, *, keep: int) -> int:
    """Working snapshots beyond the newest `keep` of each project (newest as `core.builds.snapshots` orders
    them); every version's READY snapshot is kept."""
    rank = (
        func.row_number()
        .over(
            partition_by=_snapshots.c.project_id,
            order_by=(_snapshots.c.created_at.desc(), _snapshots.c.blob_key.desc()),
        )
        .label('rank')
    )
    # Each version's READY snapshot stays: it is that version's files (changelog, files, restore).
    working = select(_snapshots.c.id, _snapshots.c.blob_key, rank).where(_snapshots.c.reason != 'ready')
    ranked = working.subquery()
    query = select(ranked.c.id, ranked.c.blob_key).where(ranked.c.rank > max(keep, 1))
    async with engine_of(sessions).connect() as conn:
        doomed = (await conn.execute(query)).all()
    for snapshot_id, key in doomed:
        await blobs.delete(key)
        async with transaction(sessions) as session:
            await session.execute(delete(_snapshots).where(_snapshots.c.id == snapshot_id))
            await session.execute(delete(_blobs).where(_blobs.c.key == key))
    return len(doomed)


# ── orphans ──


async def delete_orphaned_blobs(
    sessions: SessionFactory, blobs: BlobStore, *, grace_s: float = UNRECORDED_GRACE_S
) -> int:
    """Blobs whose project is gone, and blobs under projects/ that no record owns (a crash between an upload
    and its record). The latter are looked at twice, `grace_s` apart: an upload's record follows it."""
    gone = select(_blobs.c.key).where(
        _blobs.c.project_id.is_not(None), _blobs.c.project_id.not_in(select(_projects.c.id))
    )
    async with engine_of(sessions).connect() as conn:
        of_gone_projects = list((await conn.execute(gone)).scalars())
    deleted = await _delete_recorded(sessions, blobs, of_gone_projects)
    unrecorded = await _unrecorded(sessions, await blobs.list(PROJECTS_PREFIX))
    if unrecorded and grace_s > 0:
        await asyncio.sleep(grace_s)
        unrecorded = await _unrecorded(sessions, unrecorded)
    for key in unrecorded:
        await blobs.delete(key)
    return deleted + len(unrecorded)


async def _unrecorded(sessions: SessionFactory, keys: Sequence[str]) -> list[str]:
    recorded: set[str] = set()
    async with engine_of(sessions).connect() as conn:
        for start in range(0, len(keys), BATCH):
            batch = list(keys[start : start + BATCH])
            recorded.update((await conn.execute(select(_blobs.c.key).where(_blobs.c.key.in_(batch)))).scalars())
    return [key for key in keys if key not in recorded]


async def _delete_recorded(sessions: SessionFactory, blobs: BlobStore, keys: Sequence[str]) -> int:
    """Delete recorded blobs: each blob, then its record, a batch at a time."""
    for start in range(0, len(keys), BATCH):
        batch = list(keys[start : start + BATCH])
        for key in batch:
            await blobs.delete(key)
        async with transaction(sessions) as session:
            await session.execute(delete(_blobs).where(_blobs.c.key.in_(batch)))
    return len(keys)


# ── workspaces ──


async def delete_old_workspaces(
    sessions: SessionFactory, sandboxes: SandboxProvider, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Destroy the workspaces of builds that ended before now - older_than, except each project's latest READY
    build's; a workspace another (newer or running) build still names stays. The builds forget their
    sandbox, and a preview they had becomes 'expired'. Returns the workspaces destroyed."""
    eligible = await _old_workspaces(sessions, (now or utcnow()) - older_than)
    in_use = await _still_named(sessions, eligible)
    destroyed = 0
    for sandbox_id in sorted(set(eligible.values()) - in_use):
        sandbox = await sandboxes.connect(sandbox_id)
        if sandbox is not None:
            await sandbox.destroy()
            destroyed += 1
        await _forget_sandbox(sessions, [job for job, named in eligible.items() if named == sandbox_id])
    return destroyed


async def _old_workspaces(sessions: SessionFactory, before: datetime) -> dict[uuid.UUID, str]:
    query = select(_jobs.c.id, _jobs.c.sandbox_id).where(
        _jobs.c.state.in_(_TERMINAL),
        _jobs.c.finished_at < before,
        _jobs.c.sandbox_id.is_not(None),
        _jobs.c.id.not_in(latest_ready_builds()),
    )
    async with engine_of(sessions).connect() as conn:
        return {job_id: sandbox_id for job_id, sandbox_id in (await conn.execute(query)).all()}


async def _still_named(sessions: SessionFactory, eligible: dict[uuid.UUID, str]) -> set[str]:
    """Sandboxes of `eligible` that a build outside it also names."""
    names = sorted(set(eligible.values()))
    in_use: set[str] = set()
    async with engine_of(sessions).connect() as conn:
        for start in range(0, len(names), BATCH):
            query = select(_jobs.c.id, _jobs.c.sandbox_id).where(_jobs.c.sandbox_id.in_(names[start : start + BATCH]))
            in_use.update(
                sandbox_id for job_id, sandbox_id in (await conn.execute(query)).all() if job_id not in eligible
            )
    return in_use


async def _forget_sandbox(sessions: SessionFactory, job_ids: list[uuid.UUID]) -> None:
    expired = case((_jobs.c.preview_state.in_(['running', 'paused']), 'expired'), else_=_jobs.c.preview_state)
    async with transaction(sessions) as session:
        await session.execute(
            update(_jobs).where(_jobs.c.id.in_(job_ids)).values(sandbox_id=None, preview_state=expired)
        )
