"""B-8, IT-3, IT-5 with real builds: v0.1, a change to v0.2, then v0.1 restored as v0.3. The restore installs and
checks v0.1's files without the agent; nothing is lost (v0.2's snapshot stays); a version's zip holds exactly the
files of its workspace."""

from __future__ import annotations

import io
import zipfile

from sqlmodel import select

from core.builds import versions
from core.builds.changelog import SKIPPED
from core.events import StageChanged
from core.journey import change_requests as changes
from core.models import BuildJob, ProjectSnapshot
from tests.builds.conftest import SQLITE_ONLY, events_until_done
from tests.builds.test_iteration_build import CHANGE, first_version


async def workspace_files(svc, job: BuildJob) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The files of a build's workspace that make up the app (runtime data, dotfiles and caches left out)."""
    sandbox = await svc.sandboxes.connect(job.sandbox_id)
    assert sandbox is not None
    paths = [p for p in await sandbox.list_files('.') if not p.startswith(SKIPPED) and '/__pycache__/' not in p]
    return {path: await sandbox.read_file(path) for path in sorted(paths)}


@SQLITE_ONLY
async def test_restoring_v0_1_makes_v0_3_with_its_files_and_keeps_v0_2(services) -> None:  # type: ignore[no-untyped-def]
    user, v1 = await first_version(services)
    async with services.sessions() as session:
        await changes.start_change(session, user=user, project_id=v1.project_id, request=CHANGE)
        draft = await changes.draft_change(session, user=user, project_id=v1.project_id)
        job = await changes.confirm_change(session, user=user, project_id=v1.project_id, artifact_id=draft.id,
                                           queue=services.queue, events=services.events)  # fmt: skip
    await events_until_done(services, job.id)
    async with services.sessions() as session:
        v2 = await session.get(BuildJob, job.id)
        assert v2 is not None and v2.version_label == 'v0.2'
        zipped = await versions.zip_of_version(session, services.blobs, user=user, job_id=v2.id)
    archive = zipfile.ZipFile(io.BytesIO(zipped))
    in_zip = {name: archive.read(name) for name in archive.namelist()}
    assert in_zip == await workspace_files(services, v2) and 'app.py' in in_zip  # the zip is the workspace

    async with services.sessions() as session:
        restore = await versions.restore_version(session, user=user, job_id=v1.id, queue=services.queue,
                                                 events=services.events)  # fmt: skip
    seen = await events_until_done(services, restore.id)
    assert seen[-1].state == 'READY'  # type: ignore[attr-defined]
    assert 'CODE' not in {e.to_state for e in seen if isinstance(e, StageChanged)}  # installed and checked as it was
    async with services.sessions() as session:
        v3 = await session.get(BuildJob, restore.id)
        assert v3 is not None and (v3.version_label, v3.kind, v3.restore_of) == ('v0.3', 'restore', v1.id)
        assert v3.input_tokens + v3.output_tokens == 0  # no model call
        v1_files = await versions.version_files(session, services.blobs, user=user, job_id=v1.id)
        v2_files = await versions.version_files(session, services.blobs, user=user, job_id=v2.id)
        v3_files = await versions.version_files(session, services.blobs, user=user, job_id=v3.id)
        listed = await versions.list_versions(session, user=user, project_id=v1.project_id)
        ready = (await session.exec(select(ProjectSnapshot).where(ProjectSnapshot.reason == 'ready'))).all()
    assert v3_files == v1_files and v2_files != v1_files  # v0.1 is back, v0.2 is still there
    assert {s.job_id for s in ready} == {v1.id, v2.id, v3.id}
    assert await services.blobs.exists(next(s.blob_key for s in ready if s.job_id == v2.id))
    assert [v.label for v in listed] == ['v0.3', 'v0.2', 'v0.1'] and listed[0].restored_from == 'v0.1'
    assert listed[0].summary.startswith('Restored from v0.1. v0.3: ')  # its changelog against v0.2
    assert v3.summary['changelog']['changed'] == ['app.py']
