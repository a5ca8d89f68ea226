"""A founder's project in a known state for the chat tests, reached through the producers the pipeline uses
(start_build, transition, put_to_sleep, escalate, assign_version, save_snapshot, changelog, record_readiness,
acceptance runs) on a sandbox held in memory. Whole builds run in tests/builds and the browser test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.acceptance import runs
from core.acceptance.spec import CheckRun
from core.builds import jobs
from core.builds.changelog import changelog
from core.builds.escalations import escalate, record_failure
from core.builds.holds import HoldContext, put_to_sleep
from core.builds.readiness import record_readiness
from core.builds.snapshots import save_snapshot
from core.builds.states import BuildState, transition
from core.builds.versions import assign_version
from core.db import transaction
from core.models import BuildJob, User, utcnow
from core.services import Services, build_services
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, make_settings
from tests.fakes.memory_sandbox import MemorySandbox

# v0.1: no README, a hard-coded secret: readiness blocks; v0.2 adds a waiting list page.
V1 = {
    'app.py': b'import os\nAPI_KEY = "sk_live_9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"\nprint("booking")\n',
    'requirements.txt': b'flask\n',
}
V2 = {**V1, 'waiting_list.py': b'print("waiting list")\n', 'app.py': b'import os\nprint("booking v2")\n'}
CHANGE = 'Add a waiting list page where clients leave their email'


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path / 'data')
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    svc = build_services(settings)
    await svc.start()
    yield svc
    await svc.close()


async def founder(svc: Services) -> tuple[User, uuid.UUID]:
    """A founder past the interview, the brief, Gate 1 and a chosen plan (the offline model's journey)."""
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    return user, project_id


async def start(svc: Services, user: User, project_id: uuid.UUID) -> BuildJob:
    async with svc.sessions() as session:
        return await jobs.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)


async def running(svc: Services, job: BuildJob) -> BuildJob:
    """The build claimed and writing code, as a dispatcher and the pipeline move it."""
    for state in (BuildState.STARTING, BuildState.SCAFFOLD, BuildState.CODE):
        job = await transition(svc.events, job.id, state)
    return job


def hold(svc: Services, job: BuildJob, sandbox: MemorySandbox | None = None) -> HoldContext:
    return HoldContext(svc.sessions, svc.events, svc.notifier, svc.blobs, job, sandbox)


async def sleeping(svc: Services, user: User, project_id: uuid.UUID) -> tuple[BuildJob, datetime]:
    job = await running(svc, await start(svc, user, project_id))
    wake_at = (utcnow() + timedelta(hours=3, minutes=7)).replace(microsecond=0)
    done = 'Done so far: Online Booking Calendar.'
    ctx = hold(svc, job, MemorySandbox(files=V1))
    job = await put_to_sleep(ctx, wake_at=wake_at, reason="Today's budget is spent.", done_today=done)
    return job, wake_at


async def escalated(svc: Services, user: User, project_id: uuid.UUID) -> BuildJob:
    job = await running(svc, await start(svc, user, project_id))
    for n in range(3):
        failure = await record_failure(svc.sessions, project_id=project_id, job_id=job.id, sig='command:abc123',
                                       error='npm ERR! code E404', approach=f'approach {n}')  # fmt: skip
    return await escalate(hold(svc, job), failure=failure, phase='Payments')


async def ready_version(
    svc: Services, job: BuildJob, files: dict[str, bytes], *, request: str = '', passed: tuple[bool, ...] = (True,)
) -> BuildJob:
    """The pipeline's READY step (`BuildRun._ready`): version, snapshot, changelog, checks, readiness, READY."""
    sandbox = MemorySandbox(files=files)
    for state in (BuildState.DEPS, BuildState.CHECKS):
        job = await transition(svc.events, job.id, state)
    features = ['Online Booking Calendar', 'Deposit Payment'][: len(passed)]
    checked = [(CheckRun(feature=f, passed=ok, step='' if ok else 'click “Pay”',
                         problem='' if ok else 'The button “Pay” was not found.'), True)
               for f, ok in zip(features, passed, strict=True)]  # fmt: skip
    outcome = await runs.record(sessions=svc.sessions, blobs=svc.blobs, job=job, runs=checked, scope=features,
                                problems=[])  # fmt: skip
    async with transaction(svc.sessions) as session:
        row = await session.get(BuildJob, job.id)
        assert row is not None
        version = await assign_version(session, row)
    changes = await changelog(svc.sessions, svc.blobs, sandbox, job, version=version, request=request)
    await save_snapshot(sandbox=sandbox, blobs=svc.blobs, sessions=svc.sessions, project_id=job.project_id,
                        owner_id=job.user_id, job_id=job.id, reason='ready')  # fmt: skip
    await record_readiness(svc.sessions, sandbox, project_id=job.project_id, build_version=version,
                           verified=(outcome.event.verified, outcome.event.scoped))  # fmt: skip
    summary = {'files': sorted(files), 'file_count': len(files), 'features': features}
    return await transition(svc.events, job.id, BuildState.READY, reason=f'Your app {version} is ready to try.',
                            summary={**summary, 'changelog': changes} if changes else summary)  # fmt: skip
