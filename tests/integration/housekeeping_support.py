"""What the archive, retention and idle-preview tests share: a founder's project, builds moved through the
real state machine, and a blob store on the filesystem or on S3 (moto's server)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.blobs_s3 import S3BlobStore
from core.builds.states import BuildState, transition
from core.db import SessionFactory, transaction
from core.event_log import EventLog
from core.models import BuildEventRow, BuildJob, Project, Tier, User
from core.ports import BlobStore
from tests.integration.test_blob_contract import CREDENTIALS

# The way every build walks to READY; FAILED and CANCELLED may come from any running stage.
TO_READY = [
    BuildState.STARTING,
    BuildState.SCAFFOLD,
    BuildState.CODE,
    BuildState.DEPS,
    BuildState.CHECKS,
    BuildState.READY,
]


@dataclass(frozen=True)
class Founder:
    user_id: uuid.UUID
    project_id: uuid.UUID


async def founder(sessions: SessionFactory, title: str = 'Dog walking app') -> Founder:
    """A user with a project (and the tier users need)."""
    async with transaction(sessions) as session:
        if await session.get(Tier, 'bootstrapper') is None:
            session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=1_000_000))
            await session.flush()
        user = User(email=f'{uuid.uuid4().hex[:8]}@example.com', password_hash='x')
        session.add(user)
        await session.flush()
        project = Project(owner_id=user.id, title=title)
        session.add(project)
    return Founder(user.id, project.id)


async def queued_build(sessions: SessionFactory, who: Founder) -> uuid.UUID:
    async with transaction(sessions) as session:
        job = BuildJob(project_id=who.project_id, user_id=who.user_id)
        session.add(job)
    return job.id


async def walk(log: EventLog, job_id: uuid.UUID, *states: BuildState, **ready_fields: object) -> None:
    """Move a build through `states` with the state machine; `ready_fields` go with the last move."""
    for i, state in enumerate(states):
        fields = ready_fields if i == len(states) - 1 else {}
        await transition(log, job_id, state, reason=f'now {state.value}', **fields)


async def event_rows(sessions: SessionFactory, job_id: uuid.UUID) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(BuildEventRow).where(BuildEventRow.job_id == job_id)
        return int((await session.execute(query)).scalar_one())


async def job_row(sessions: SessionFactory, job_id: uuid.UUID) -> BuildJob:
    async with sessions() as session:
        job = await session.get(BuildJob, job_id)
    assert job is not None
    return job


@asynccontextmanager
async def blob_store(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> AsyncIterator[BlobStore]:
    """A FileBlobStore, or an S3BlobStore on a fresh bucket of moto's server (the test module imports the
    `moto_endpoint` and `s3_admin` fixtures of test_blob_contract)."""
    if kind == 'fs':
        yield FileBlobStore(tmp_path / 'blobs')
        return
    endpoint = request.getfixturevalue('moto_endpoint')
    bucket = f'cf-test-{uuid.uuid4().hex[:10]}'
    request.getfixturevalue('s3_admin').create_bucket(Bucket=bucket)
    yield S3BlobStore(bucket, endpoint_url=endpoint, **CREDENTIALS)
