"""Project snapshots (B-10) on a real FileBlobStore and database (SQLite and Postgres).

The sandbox is a small in-memory one: it is the network edge here (the real sandboxes have their
own tests). It archives and restores real tar.gz bytes.
"""

from __future__ import annotations

import io
import logging
import tarfile
import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from core.adapters.blobs_fs import FileBlobStore
from core.builds.snapshots import list_snapshots, restore_latest, save_snapshot, snapshot_prefix
from core.db import SessionFactory, transaction
from core.models import BlobRecord, Project, Tier, User
from core.ports import CommandResult, PackagesWarmed, Sandbox, SandboxError

NO_WAIT = (0.0, 0.0)


class MemorySandbox:
    """Files in a dict; archive/restore as gzipped tar like the real sandboxes."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.id = f'mem-{uuid.uuid4().hex[:8]}'
        self.files: dict[str, bytes] = dict(files or {})

    async def write_file(self, path: str, data: str | bytes) -> None:
        self.files[path] = data.encode() if isinstance(data, str) else data

    async def read_file(self, path: str) -> bytes:
        if path not in self.files:
            raise SandboxError(f'no such file: {path}')
        return self.files[path]

    async def list_files(self, path: str = '.', *, recursive: bool = True) -> list[str]:
        return sorted(self.files)

    async def delete_file(self, path: str) -> None:
        self.files.pop(path, None)

    async def run(self, command: str, **_: object) -> CommandResult:
        raise NotImplementedError

    async def start_app(self, *, on_output: object = None) -> str:
        raise NotImplementedError

    async def app_url(self) -> str | None:
        return None

    async def stop_app(self) -> None: ...

    async def kill_processes(self) -> None: ...

    async def warm_packages(self, files: dict[str, str]) -> PackagesWarmed:
        return PackagesWarmed()

    async def archive(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w:gz') as tar:
            for name, data in sorted(self.files.items()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    async def restore(self, archive: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(archive), mode='r:gz') as tar:
            self.files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def destroy(self) -> None: ...


class FlakyStore(FileBlobStore):
    """A store whose uploads fail `failures` times (network trouble), then work."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures
        self.put_calls = 0

    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        self.put_calls += 1
        if self.put_calls <= self.failures:
            raise ConnectionError('connection reset by peer')
        return await super().put(key, data, content_type=content_type)


async def make_project(sessions: SessionFactory) -> tuple[uuid.UUID, uuid.UUID]:
    async with transaction(sessions) as session:
        if await session.get(Tier, 'bootstrapper') is None:
            session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=1_000_000))
        user = User(email=f'{uuid.uuid4().hex[:8]}@example.com', password_hash='x')
        session.add(user)
        await session.flush()
        project = Project(owner_id=user.id, title='Dog walking marketplace')
        session.add(project)
    return project.id, user.id


async def snapshot_records(sessions: SessionFactory, project_id: uuid.UUID) -> list[BlobRecord]:
    async with sessions() as session:
        query = select(BlobRecord).where(BlobRecord.project_id == project_id, BlobRecord.kind == 'snapshot')
        return list((await session.exec(query)).all())


def test_memory_sandbox_fits_the_port() -> None:
    assert isinstance(MemorySandbox(), Sandbox)


async def test_seven_saves_keep_the_newest_five(session_factory: SessionFactory, tmp_path: Path) -> None:
    project_id, owner_id = await make_project(session_factory)
    blobs = FileBlobStore(tmp_path / 'blobs')
    sandbox = MemorySandbox({'app.py': b'print(1)'})
    job_id = uuid.uuid4()
    saved = []
    for i in range(7):
        await sandbox.write_file('version.txt', f'v{i}')
        snap = await save_snapshot(
            sandbox=sandbox,
            blobs=blobs,
            sessions=session_factory,
            project_id=project_id,
            owner_id=owner_id,
            job_id=job_id,
            reason='phase',
        )
        assert snap is not None
        saved.append(snap)

    kept = await list_snapshots(session_factory, project_id)
    assert [s.id for s in kept] == [s.id for s in reversed(saved[2:])]
    assert await blobs.list(snapshot_prefix(project_id)) == [s.blob_key for s in saved[2:]]
    records = await snapshot_records(session_factory, project_id)
    assert sorted(r.key for r in records) == sorted(s.blob_key for s in saved[2:])
    assert all(r.owner_id == owner_id and r.content_type == 'application/gzip' for r in records)
    assert kept[0].size == len(await blobs.get(kept[0].blob_key)) > 0


async def test_restore_brings_back_the_newest_files(session_factory: SessionFactory, tmp_path: Path) -> None:
    project_id, owner_id = await make_project(session_factory)
    blobs = FileBlobStore(tmp_path / 'blobs')
    sandbox = MemorySandbox({'app.py': b'print("old")', 'gone.txt': b'deleted later'})
    common = dict(blobs=blobs, sessions=session_factory, project_id=project_id, owner_id=owner_id, job_id=None)
    assert await save_snapshot(sandbox=sandbox, reason='phase', **common) is not None
    await sandbox.write_file('app.py', 'print("new")')
    await sandbox.delete_file('gone.txt')
    await sandbox.write_file('static/logo.png', bytes(range(256)))
    newest = await save_snapshot(sandbox=sandbox, reason='sleep', **common)

    fresh = MemorySandbox()
    restored = await restore_latest(sandbox=fresh, blobs=blobs, sessions=session_factory, project_id=project_id)
    assert restored is not None and newest is not None
    assert restored.id == newest.id and restored.reason == 'sleep'
    assert fresh.files == {'app.py': b'print("new")', 'static/logo.png': bytes(range(256))}


async def test_restore_skips_a_snapshot_whose_blob_is_lost(session_factory: SessionFactory, tmp_path: Path) -> None:
    project_id, owner_id = await make_project(session_factory)
    blobs = FileBlobStore(tmp_path / 'blobs')
    sandbox = MemorySandbox({'a.txt': b'first'})
    common = dict(blobs=blobs, sessions=session_factory, project_id=project_id, owner_id=owner_id, job_id=None)
    first = await save_snapshot(sandbox=sandbox, reason='phase', **common)
    await sandbox.write_file('a.txt', 'second')
    second = await save_snapshot(sandbox=sandbox, reason='phase', **common)
    assert first is not None and second is not None
    await blobs.delete(second.blob_key)

    fresh = MemorySandbox()
    restored = await restore_latest(sandbox=fresh, blobs=blobs, sessions=session_factory, project_id=project_id)
    assert restored is not None and restored.id == first.id
    assert fresh.files == {'a.txt': b'first'}


async def test_restore_without_snapshots_returns_none(session_factory: SessionFactory, tmp_path: Path) -> None:
    project_id, _ = await make_project(session_factory)
    fresh = MemorySandbox({'untouched': b'1'})
    blobs = FileBlobStore(tmp_path / 'blobs')
    assert await restore_latest(sandbox=fresh, blobs=blobs, sessions=session_factory, project_id=project_id) is None
    assert fresh.files == {'untouched': b'1'}


async def test_store_failing_twice_then_working_still_saves(session_factory: SessionFactory, tmp_path: Path) -> None:
    project_id, owner_id = await make_project(session_factory)
    blobs = FlakyStore(tmp_path / 'blobs', failures=2)
    snap = await save_snapshot(
        sandbox=MemorySandbox({'a.txt': b'x'}),
        blobs=blobs,
        sessions=session_factory,
        project_id=project_id,
        owner_id=owner_id,
        job_id=None,
        reason='ready',
        backoff=NO_WAIT,
    )
    assert snap is not None
    assert blobs.put_calls == 3
    assert await blobs.exists(snap.blob_key)
    assert [s.id for s in await list_snapshots(session_factory, project_id)] == [snap.id]


async def test_store_always_failing_returns_none_and_logs(
    session_factory: SessionFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project_id, owner_id = await make_project(session_factory)
    blobs = FlakyStore(tmp_path / 'blobs', failures=1000)
    with caplog.at_level(logging.WARNING, logger='core.builds.snapshots'):
        snap = await save_snapshot(
            sandbox=MemorySandbox({'a.txt': b'x'}),
            blobs=blobs,
            sessions=session_factory,
            project_id=project_id,
            owner_id=owner_id,
            job_id=None,
            reason='sleep',
            backoff=NO_WAIT,
        )
    assert snap is None
    assert blobs.put_calls == 3
    assert await list_snapshots(session_factory, project_id) == []
    assert await snapshot_records(session_factory, project_id) == []
    assert any(r.levelno == logging.ERROR and 'failed after 3 tries' in r.getMessage() for r in caplog.records)


async def test_sandbox_that_cannot_archive_returns_none(session_factory: SessionFactory, tmp_path: Path) -> None:
    class DeadSandbox(MemorySandbox):
        async def archive(self) -> bytes:
            raise SandboxError('sandbox is gone')

    project_id, owner_id = await make_project(session_factory)
    snap = await save_snapshot(
        sandbox=DeadSandbox(),
        blobs=FileBlobStore(tmp_path / 'blobs'),
        sessions=session_factory,
        project_id=project_id,
        owner_id=owner_id,
        job_id=None,
        reason='sleep',
        backoff=NO_WAIT,
    )
    assert snap is None
