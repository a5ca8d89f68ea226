"""OPS-3 retention: old screenshots, snapshots beyond the newest N, orphaned blobs and old workspaces go;
the current version's screenshots, files and workspace, and running builds' things, stay.

Real databases (SQLite, Postgres), blob stores (files, S3 on moto's server) and local sandboxes; the
screenshotter is the one fake (Chromium is the edge; it has tests of its own).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.sandbox_local import LocalSandboxProvider
from core.admin_settings import Retention, retention_settings, set_setting
from core.builds.preview import resume_preview
from core.builds.screenshots import capture_and_publish
from core.builds.snapshots import list_snapshots, save_snapshot
from core.builds.states import BuildState
from core.config import Settings
from core.db import SessionFactory, transaction
from core.errors import Conflict
from core.event_log import EventLog
from core.models import BlobRecord, Project, User, utcnow
from core.ports import BlobStore
from core.retention import (
    apply_retention,
    delete_old_screenshots,
    delete_old_workspaces,
    delete_orphaned_blobs,
    prune_snapshots,
)
from tests.integration.housekeeping_support import TO_READY, Founder, blob_store, founder, job_row, queued_build, walk
from tests.integration.test_blob_contract import moto_endpoint, s3_admin  # noqa: F401  (fixtures)

PNG = b'\x89PNG\r\n\x1a\n' + b'\x00' * 6000


class StillScreenshotter:
    """Chromium stand-in: every capture is the same PNG."""

    async def capture(self, url: str, *, width: int = 1280, height: int = 800) -> bytes | None:
        return PNG

    async def close(self) -> None: ...

    def status(self) -> str:
        return 'ok'

    async def probe(self) -> str:
        return 'ok'


@pytest.fixture(params=['fs', 's3'])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    async with blob_store(request, tmp_path, request.param) as opened:
        yield opened


@pytest.fixture
def log(session_factory: SessionFactory, store: BlobStore) -> EventLog:
    return EventLog(session_factory, MemoryNotifier(), archive=store.get)


@pytest.fixture
def sandboxes(settings: Settings) -> LocalSandboxProvider:
    return LocalSandboxProvider(settings, use_bwrap=False)


async def screenshot(sessions: SessionFactory, store: BlobStore, log: EventLog, who: Founder, job_id: uuid.UUID) -> str:
    url = await capture_and_publish(
        shooter=StillScreenshotter(),
        blobs=store,
        sessions=sessions,
        emit=log.append,
        job_id=job_id,
        project_id=who.project_id,
        owner_id=who.user_id,
        url='http://127.0.0.1:1/',
    )
    assert url is not None
    return url.split('/blobs/', 1)[1] if '/blobs/' in url else url


async def keys_of(sessions: SessionFactory, kind: str) -> set[str]:
    async with sessions() as session:
        return set((await session.execute(select(BlobRecord.key).where(BlobRecord.kind == kind))).scalars())


async def ready_build(sessions: SessionFactory, log: EventLog, who: Founder, **fields: object) -> uuid.UUID:
    job_id = await queued_build(sessions, who)
    await walk(log, job_id, *TO_READY, preview_state='running', **fields)
    return job_id


# ── screenshots ──


async def test_old_screenshots_go_except_the_current_versions_and_a_running_builds(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    first = await ready_build(session_factory, log, who)
    failed = await queued_build(session_factory, who)
    await walk(log, failed, BuildState.STARTING, BuildState.CODE, BuildState.FAILED)
    current = await ready_build(session_factory, log, who)
    running = await queued_build(session_factory, who)
    await walk(log, running, BuildState.STARTING, BuildState.SCAFFOLD, BuildState.CODE)
    other = await founder(session_factory, 'Second idea')
    others_current = await ready_build(session_factory, log, other)
    shots = {job: await screenshot(session_factory, store, log, who, job) for job in (first, failed, current, running)}
    shots[others_current] = await screenshot(session_factory, store, log, other, others_current)

    month = timedelta(days=30)
    assert await delete_old_screenshots(session_factory, store, older_than=month) == 0  # all taken just now
    deleted = await delete_old_screenshots(session_factory, store, older_than=month, now=utcnow() + timedelta(days=31))

    assert deleted == 2
    kept = {shots[current], shots[running], shots[others_current]}
    assert await keys_of(session_factory, 'screenshot') == kept
    for job, key in shots.items():
        assert await store.exists(key) == (key in kept), job


# ── snapshots ──


async def test_every_versions_ready_snapshot_stays_however_many_newer_ones_come(
    session_factory: SessionFactory, store: BlobStore, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    sandbox = await sandboxes.create(key=f'snap-{uuid.uuid4().hex[:8]}')
    await sandbox.write_file('app.py', 'print("v0.1")\n')
    version = await save_snapshot(sandbox=sandbox, blobs=store, sessions=session_factory, project_id=who.project_id,
                                  owner_id=who.user_id, job_id=None, reason='ready')  # fmt: skip
    for _ in range(7):  # an iteration build's phases after it
        await save_snapshot(sandbox=sandbox, blobs=store, sessions=session_factory, project_id=who.project_id,
                            owner_id=who.user_id, job_id=None, reason='phase')  # fmt: skip
    await prune_snapshots(session_factory, store, keep=3)
    kept = await list_snapshots(session_factory, who.project_id)
    assert (
        version is not None and version.blob_key in {s.blob_key for s in kept} and await store.exists(version.blob_key)
    )
    assert len([s for s in kept if s.reason == 'phase']) == 3


async def test_snapshots_beyond_the_newest_n_go_rows_and_blobs(
    session_factory: SessionFactory, store: BlobStore, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    other = await founder(session_factory, 'Second idea')
    sandbox = await sandboxes.create(key=f'snap-{uuid.uuid4().hex[:8]}')
    for i in range(7):
        await sandbox.write_file('app.py', f'print({i})\n')
        await save_snapshot(sandbox=sandbox, blobs=store, sessions=session_factory, project_id=who.project_id,
                            owner_id=who.user_id, job_id=None, reason='phase')  # fmt: skip
    await save_snapshot(sandbox=sandbox, blobs=store, sessions=session_factory, project_id=other.project_id,
                        owner_id=other.user_id, job_id=None, reason='phase')  # fmt: skip
    newest_five = [s.blob_key for s in await list_snapshots(session_factory, who.project_id)]
    assert len(newest_five) == 5  # saving keeps 5 already

    assert await prune_snapshots(session_factory, store, keep=5) == 0
    assert [s.blob_key for s in await list_snapshots(session_factory, who.project_id)] == newest_five

    assert await prune_snapshots(session_factory, store, keep=3) == 2

    assert [s.blob_key for s in await list_snapshots(session_factory, who.project_id)] == newest_five[:3]
    for key in newest_five:
        assert await store.exists(key) == (key in newest_five[:3])
    assert await keys_of(session_factory, 'snapshot') == set(newest_five[:3]) | {
        s.blob_key for s in await list_snapshots(session_factory, other.project_id)
    }
    assert len(await list_snapshots(session_factory, other.project_id)) == 1
    await sandbox.destroy()


# ── orphans ──


async def test_orphaned_blobs_go_and_recorded_ones_stay(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    job_id = await ready_build(session_factory, log, who)
    recorded = await screenshot(session_factory, store, log, who, job_id)
    unrecorded = f'projects/{who.project_id}/screenshots/{job_id}/{uuid.uuid4()}.png'
    await store.put(unrecorded, PNG, content_type='image/png')  # stored, then the process died before its record
    outside = 'health/probe.txt'
    await store.put(outside, b'ok', content_type='text/plain')
    gone = await founder(session_factory, 'Abandoned idea')
    of_gone = f'projects/{gone.project_id}/screenshots/x/{uuid.uuid4()}.png'
    await store.put(of_gone, PNG, content_type='image/png')
    async with transaction(session_factory) as session:
        session.add(BlobRecord(key=of_gone, owner_id=gone.user_id, project_id=gone.project_id, kind='screenshot'))
    async with transaction(session_factory) as session:  # the project is deleted (by hand: no page does it yet)
        await session.execute(delete(Project).where(Project.id == gone.project_id))

    assert await delete_orphaned_blobs(session_factory, store, grace_s=0) == 2

    assert await store.exists(recorded) and await store.exists(outside)
    assert not await store.exists(unrecorded) and not await store.exists(of_gone)
    assert await keys_of(session_factory, 'screenshot') == {recorded}


async def test_a_blob_whose_record_lands_within_the_grace_is_not_an_orphan(
    session_factory: SessionFactory, store: BlobStore
) -> None:
    who = await founder(session_factory)
    key = f'projects/{who.project_id}/screenshots/j/{uuid.uuid4()}.png'
    await store.put(key, PNG, content_type='image/png')

    async def record_soon() -> None:
        await asyncio.sleep(0.2)
        async with transaction(session_factory) as session:
            session.add(BlobRecord(key=key, owner_id=who.user_id, project_id=who.project_id, kind='screenshot'))

    deleted, _ = await asyncio.gather(delete_orphaned_blobs(session_factory, store, grace_s=1.0), record_soon())

    assert deleted == 0
    assert await store.exists(key)


# ── workspaces ──


async def test_old_workspaces_go_except_the_current_versions_and_a_running_builds(
    session_factory: SessionFactory, sandboxes: LocalSandboxProvider
) -> None:
    log = EventLog(session_factory, MemoryNotifier())  # no blob store here
    who = await founder(session_factory)
    workspaces = {}

    async def build_with_workspace(*states: BuildState, **fields: object) -> uuid.UUID:
        job_id = await queued_build(session_factory, who)
        sandbox = await sandboxes.create(key=str(job_id))
        await sandbox.write_file('index.html', '<h1>Dog walking</h1>')
        workspaces[job_id] = sandbox.path
        await walk(log, job_id, BuildState.STARTING, sandbox_id=sandbox.id)
        await walk(log, job_id, *states, **fields)
        return job_id

    old_version = await build_with_workspace(*TO_READY[1:], preview_state='running')
    failed = await build_with_workspace(BuildState.SCAFFOLD, BuildState.FAILED)
    current = await build_with_workspace(*TO_READY[1:], preview_state='running')
    running = await build_with_workspace(BuildState.SCAFFOLD, BuildState.CODE)

    week, eight_days_on = timedelta(days=7), utcnow() + timedelta(days=8)
    assert await delete_old_workspaces(session_factory, sandboxes, older_than=week) == 0
    assert await delete_old_workspaces(session_factory, sandboxes, older_than=week, now=eight_days_on) == 2

    assert not workspaces[old_version].exists() and not workspaces[failed].exists()
    assert workspaces[current].exists() and workspaces[running].exists()
    old = await job_row(session_factory, old_version)
    assert (old.sandbox_id, old.preview_state) == (None, 'expired')
    assert (await job_row(session_factory, failed)).preview_state == 'none'
    kept = await job_row(session_factory, current)
    assert (kept.sandbox_id, kept.preview_state) == (str(current), 'running')
    async with session_factory() as session:
        owner = await session.get(User, who.user_id)
        assert owner is not None
        with pytest.raises(Conflict, match='expired'):
            await resume_preview(session, user=owner, job_id=old_version, sandboxes=sandboxes)
    assert await delete_old_workspaces(session_factory, sandboxes, older_than=week, now=eight_days_on) == 0


# ── all of it, with the admin's settings ──


async def test_apply_retention_uses_the_settings_and_reports_what_went(
    session_factory: SessionFactory, store: BlobStore, log: EventLog, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    async with transaction(session_factory) as session:
        admin = User(email=f'admin-{uuid.uuid4().hex[:6]}@example.com', password_hash='x', role='admin')
        session.add(admin)
    async with session_factory() as session:
        assert await retention_settings(session) == Retention(
            event_hours=24, workspace_days=7, snapshots_kept=5, screenshot_days=30, preview_idle_minutes=30
        )
        await set_setting(session, actor=admin, key='retention', value={'snapshots_kept': 2, 'workspace_days': 0})
        retention = await retention_settings(session)
    assert (retention.snapshots_kept, retention.workspace_days) == (2, 1)  # 0 days would be a slip: at least 1

    old = await queued_build(session_factory, who)
    await walk(log, old, BuildState.STARTING, BuildState.FAILED)
    await screenshot(session_factory, store, log, who, old)
    sandbox = await sandboxes.create(key=str(old))
    for i in range(4):
        await sandbox.write_file('app.py', f'print({i})\n')
        await save_snapshot(sandbox=sandbox, blobs=store, sessions=session_factory, project_id=who.project_id,
                            owner_id=who.user_id, job_id=old, reason='phase')  # fmt: skip

    counts = await apply_retention(session_factory, store, sandboxes, retention, now=utcnow() + timedelta(days=31))

    assert counts == {'screenshots': 1, 'snapshots': 2, 'orphaned_blobs': 0, 'workspaces': 0}
    assert len(await list_snapshots(session_factory, who.project_id)) == 2
