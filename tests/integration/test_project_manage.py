"""J-7: a founder renames, archives (and restores) and deletes a project. Deleting removes every row of the project
and its builds, its blobs and its builds' workspaces (a running preview stops), keeps the spending history, and
is refused with a wrong name or while a build is under way. Real databases (SQLite, Postgres), a real blob
store on files and real local sandboxes."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.notify_memory import MemoryNotifier
from core.adapters.sandbox_local import LocalSandboxProvider
from core.builds.states import BuildState
from core.config import Settings
from core.db import SessionFactory, transaction
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.event_log import EventLog
from core.journey import projects
from core.models import (
    AcceptanceResult,
    AgentCheckpoint,
    Artifact,
    BlobRecord,
    DecisionGate,
    ErrorSignature,
    Escalation,
    InterviewSession,
    PlanOption,
    Project,
    ProjectSnapshot,
    TimelineEvent,
    UsageRecord,
    User,
)
from core.project_removal import delete_project
from tests.integration.housekeeping_support import TO_READY, Founder, founder, queued_build, walk


@pytest.fixture
async def sandboxes(settings: Settings) -> AsyncIterator[LocalSandboxProvider]:
    provider = LocalSandboxProvider(settings, use_bwrap=False)
    yield provider
    await provider.close()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / 'blobs')


@pytest.fixture
def log(session_factory: SessionFactory) -> EventLog:
    return EventLog(session_factory, MemoryNotifier())


async def owner(sessions: SessionFactory, who: Founder) -> User:
    async with sessions() as session:
        user = await session.get(User, who.user_id)
    assert user is not None
    return user


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


async def everything_of_a_project(
    sessions: SessionFactory, log: EventLog, blobs: FileBlobStore, sandboxes: LocalSandboxProvider, who: Founder
) -> tuple[uuid.UUID, str]:
    """A READY build with a running preview, and a row in every table a project fills, with blobs behind them."""
    pid = who.project_id
    job_id = await queued_build(sessions, who)
    sandbox = await sandboxes.create(key=str(job_id))
    await sandbox.write_file('index.html', '<h1>Dog walking</h1>')
    url = await sandbox.start_app()
    await walk(log, job_id, *TO_READY, sandbox_id=sandbox.id, preview_url=url, preview_state='running')
    shot, snap, evidence = (f'projects/{pid}/screenshots/{job_id}/a.png', f'projects/{pid}/snapshots/s.tar.gz',
                            f'projects/{pid}/checks/{job_id}/c.png')  # fmt: skip
    for key in (shot, snap, evidence, f'projects/{pid}/archives/{job_id}.jsonl.gz'):
        await blobs.put(key, b'bytes', content_type='application/octet-stream')
    async with transaction(sessions) as session:
        session.add_all([
            InterviewSession(project_id=pid, kind='onboarding', answers={'who': 'dog owners'}),
            Artifact(project_id=pid, kind='idea_brief', content={'title': 'Dog walking'}),
            DecisionGate(project_id=pid, gate_type='direction', status='decided', decision='proceed'),
            PlanOption(project_id=pid, key='fast', title='Fast MVP', selected=True),
            TimelineEvent(project_id=pid, kind='idea.created', title='Idea captured', job_id=job_id),
            AgentCheckpoint(job_id=job_id, sandbox_id=sandbox.id, messages=[{'role': 'user', 'content': 'go'}]),
            ProjectSnapshot(project_id=pid, job_id=job_id, blob_key=snap, reason='ready'),
            BlobRecord(key=shot, owner_id=who.user_id, project_id=pid, job_id=job_id, kind='screenshot'),
            BlobRecord(key=snap, owner_id=who.user_id, project_id=pid, job_id=job_id, kind='snapshot'),
            ErrorSignature(project_id=pid, job_id=job_id, signature='cmd:abc', attempts=1),
            AcceptanceResult(job_id=job_id, project_id=pid, feature='Walks', passed=True, screenshot_key=evidence),
            Escalation(job_id=job_id, signature='cmd:abc', problem='It failed.', status='resolved'),
            UsageRecord(user_id=who.user_id, project_id=pid, job_id=job_id, model='offline-1', input_tokens=10),
        ])  # fmt: skip
    return job_id, url


async def rows_left(sessions: SessionFactory, project_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, int]:
    """For every table with a project_id or job_id column: the rows still naming the project or its build."""
    left = {}
    async with sessions() as session:
        for table in SQLModel.metadata.sorted_tables:
            parts = [c == v for c, v in ((table.c.get('project_id'), project_id), (table.c.get('job_id'), job_id))
                     if c is not None]  # fmt: skip
            if table.name == 'projects':
                parts = [table.c.id == project_id]
            for part in parts:
                count = (await session.execute(select(func.count()).select_from(table).where(part))).scalar_one()
                if count:
                    left[table.name] = left.get(table.name, 0) + count
    return left


# ── rename, archive, restore ─────────────────────────────────────────────────────────────────────


async def test_rename_keeps_the_founders_words_and_refuses_an_empty_or_long_name(
    session_factory: SessionFactory,
) -> None:
    who = await founder(session_factory)
    ada = await owner(session_factory, who)
    async with session_factory() as session:
        renamed = await projects.rename_project(
            session, user=ada, project_id=who.project_id, title='  <b>Paws</b> &   Walks 🐕 '
        )
    assert renamed.title == '<b>Paws</b> & Walks 🐕'  # verbatim text (shown as text), spaces tidied
    for bad, reason in (('   ', 'Give the project a name'), ('x' * 121, 'under 120 characters')):
        async with session_factory() as session:
            with pytest.raises(InvalidInput, match=reason):
                await projects.rename_project(session, user=ada, project_id=who.project_id, title=bad)
    async with session_factory() as session:
        events = await projects.list_timeline(session, user=ada, project_id=who.project_id)
        assert (await session.get(Project, who.project_id)).title == '<b>Paws</b> & Walks 🐕'  # type: ignore[union-attr]
    assert [(e.kind, e.detail) for e in events] == [('project.renamed', 'Dog walking app → <b>Paws</b> & Walks 🐕')]


async def test_archive_hides_and_restore_brings_back_and_both_are_the_owners_alone(
    session_factory: SessionFactory,
) -> None:
    who = await founder(session_factory)
    ada = await owner(session_factory, who)
    other = await owner(session_factory, await founder(session_factory, 'Other idea'))
    async with session_factory() as session:
        assert await projects.archived_ids(session, user=ada) == set()
        await projects.archive_project(session, user=ada, project_id=who.project_id)
        await projects.archive_project(session, user=ada, project_id=who.project_id)  # twice is once
        assert await projects.archived_ids(session, user=ada) == {who.project_id}
        for change in (projects.archive_project, projects.restore_project):
            with pytest.raises(NotFound):
                await change(session, user=other, project_id=who.project_id)
        with pytest.raises(NotFound):
            await projects.rename_project(session, user=other, project_id=who.project_id, title='Mine now')
        restored = await projects.restore_project(session, user=ada, project_id=who.project_id)
        assert restored.archived_at is None
        assert await projects.archived_ids(session, user=ada) == set()
        kinds = [e.kind for e in await projects.list_timeline(session, user=ada, project_id=who.project_id)]
    assert kinds == ['project.archived', 'project.restored']


async def test_a_suspended_founder_changes_nothing(session_factory: SessionFactory) -> None:
    who = await founder(session_factory)
    ada = await owner(session_factory, who)
    ada.suspended = True
    async with session_factory() as session:
        with pytest.raises(Forbidden):
            await projects.archive_project(session, user=ada, project_id=who.project_id)
        with pytest.raises(Forbidden):
            await projects.rename_project(session, user=ada, project_id=who.project_id, title='New name')


# ── delete ───────────────────────────────────────────────────────────────────────────────────────


async def test_delete_removes_rows_blobs_and_workspaces_and_keeps_the_spending(
    session_factory: SessionFactory, log: EventLog, blobs: FileBlobStore, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    ada = await owner(session_factory, who)
    job_id, url = await everything_of_a_project(session_factory, log, blobs, sandboxes, who)
    keep = Founder(who.user_id, (await founder_project(session_factory, who.user_id)))
    kept_job, kept_url = await everything_of_a_project(session_factory, log, blobs, sandboxes, keep)
    assert await asyncio.to_thread(answers, url)
    assert len(await rows_left(session_factory, who.project_id, job_id)) >= 14

    async with session_factory() as session:
        removed = await delete_project(session, user=ada, project_id=who.project_id, confirm_title=' Dog  walking app',
                                       blobs=blobs, sandboxes=sandboxes)  # fmt: skip

    assert (removed.title, removed.builds, removed.blobs, removed.workspaces) == ('Dog walking app', 1, 4, 1)
    assert await rows_left(session_factory, who.project_id, job_id) == {'usage_records': 2}  # by project and by job
    assert await blobs.list(f'projects/{who.project_id}/') == []
    assert await sandboxes.connect(str(job_id)) is None  # its workspace is gone …
    assert not await asyncio.to_thread(answers, url)  # … and its preview stopped
    # the founder's other project is untouched
    assert len(await rows_left(session_factory, keep.project_id, kept_job)) >= 14
    assert len(await blobs.list(f'projects/{keep.project_id}/')) == 4
    assert await asyncio.to_thread(answers, kept_url)
    async with session_factory() as session:
        with pytest.raises(NotFound):
            await projects.get_project(session, user=ada, project_id=who.project_id)


async def founder_project(sessions: SessionFactory, user_id: uuid.UUID) -> uuid.UUID:
    async with transaction(sessions) as session:
        project = Project(owner_id=user_id, title='Cat sitting')
        session.add(project)
    return project.id


async def test_delete_needs_the_name_and_the_owner(
    session_factory: SessionFactory, blobs: FileBlobStore, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    ada = await owner(session_factory, who)
    other = await owner(session_factory, await founder(session_factory))
    async with session_factory() as session:
        with pytest.raises(InvalidInput, match='Type the project’s name exactly'):
            await delete_project(session, user=ada, project_id=who.project_id, confirm_title='Dog walking',
                                 blobs=blobs, sandboxes=sandboxes)  # fmt: skip
        with pytest.raises(NotFound):  # another founder's: the same answer as a missing one
            await delete_project(session, user=other, project_id=who.project_id, confirm_title='Dog walking app',
                                 blobs=blobs, sandboxes=sandboxes)  # fmt: skip
    async with session_factory() as session:
        assert await session.get(Project, who.project_id) is not None


@pytest.mark.parametrize('state', [BuildState.CODE, BuildState.SLEEPING, BuildState.QUEUED])
async def test_delete_is_refused_while_a_build_is_under_way(
    session_factory: SessionFactory, log: EventLog, blobs: FileBlobStore, sandboxes: LocalSandboxProvider,
    state: BuildState,
) -> None:  # fmt: skip
    who = await founder(session_factory)
    ada = await owner(session_factory, who)
    job_id = await queued_build(session_factory, who)
    path = {BuildState.CODE: TO_READY[:3], BuildState.SLEEPING: [*TO_READY[:3], BuildState.SLEEPING]}.get(state, [])
    await walk(log, job_id, *path)

    async def attempt() -> None:
        async with session_factory() as session:
            await delete_project(session, user=ada, project_id=who.project_id, confirm_title='Dog walking app',
                                 blobs=blobs, sandboxes=sandboxes)  # fmt: skip

    with pytest.raises(Conflict, match='Cancel it on the build page first'):
        await attempt()
    assert 'projects' in await rows_left(session_factory, who.project_id, job_id)
    await walk(log, job_id, BuildState.CANCELLED)
    await attempt()
    assert await rows_left(session_factory, who.project_id, job_id) == {}
