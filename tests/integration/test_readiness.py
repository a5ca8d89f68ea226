"""Deploy readiness (IT-4) produced by a real offline build, read back by its owner only, applied by hand.

The build runs with the real pieces (offline model, local sandbox, Chromium), like tests/builds.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from core import accounts
from core.builds import jobs as builds
from core.builds.readiness import assess, latest_report, record_readiness, report_of
from core.errors import NotFound
from core.journey import projects
from core.journey.dashboard import dashboard
from core.models import BuildJob
from jobs import worker
from jobs.demo import founder_flow
from tests.builds.conftest import IDEA, MUST_HAVE, SQLITE_ONLY, database_url, events_until_done, services  # noqa: F401
from tests.fakes.memory_sandbox import MemorySandbox
from tests.integration.test_journey import make_founder


def paste_fix(fix: str, files: dict[str, bytes], folder: Path) -> dict[str, bytes]:
    """The project's files after running a fix in its folder, as a founder would in a terminal."""
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    done = subprocess.run(['sh', '-c', fix], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip().endswith('ok'), done.stderr
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob('*') if p.is_file()}


@SQLITE_ONLY
async def test_a_ready_build_stores_its_report_for_its_owner_only(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    user, project_id = await founder_flow(services, IDEA, MUST_HAVE)
    await worker.start(services)
    async with services.sessions() as session:
        job = await builds.start_build(
            session, user=user, project_id=project_id, queue=services.queue, events=services.events
        )
    events = await events_until_done(services, job.id)
    assert events[-1].state == 'READY'  # type: ignore[attr-defined]

    async with services.sessions() as session:
        artifact = await latest_report(session, user=user, project_id=project_id)
        cards = await dashboard(session, user=user)
        other = await accounts.sign_up(session, email='someone-else@example.com', password='another pass 123')
        with pytest.raises(NotFound):
            await latest_report(session, user=other, project_id=project_id)
    assert artifact is not None
    assert (artifact.kind, artifact.version, artifact.build_version) == ('deploy_report', 1, 'v0.1')
    report = report_of(artifact)
    assert report is not None and report.build_version == 'v0.1'
    # The offline app: README, .env.example, start command, no secrets, nothing to pin, /healthz, no debug;
    # it has no tests of its own, so it is deployable with a warning.
    assert report.verdict == 'yellow'
    assert [c.key for c in report.checks if c.status != 'pass'] == ['tests']
    assert report.start_command == 'python3 app.py'
    assert [c.readiness for c in cards if c.id == project_id] == ['yellow']

    # The warning's fix, pasted into the project's folder, adds a smoke test that passes; the report turns green.
    async with services.sessions() as session:
        built = await session.get(BuildJob, job.id)
    workspace = await services.sandboxes.connect(built.sandbox_id)
    assert workspace is not None
    written = {name: await workspace.read_file(name) for name in await workspace.list_files('.', recursive=True)}
    fix = next(c.fix for c in report.checks if c.key == 'tests')
    files = await asyncio.to_thread(paste_fix, fix, written, tmp_path)
    assert assess(files, title=report.title, start_command=None, home_answers=True).verdict == 'green'


async def test_reports_are_versioned_per_build_and_a_broken_workspace_never_raises(
    sqlite_session_factory,
) -> None:  # type: ignore[no-untyped-def]
    async with sqlite_session_factory() as session:
        user = await make_founder(session)
        project = await projects.create_project(session, user=user, idea='A tool that chases unpaid invoices politely')
    sandbox = MemorySandbox(
        files={
            'app.py': b'import os\nAPI_KEY = "sk-live-4eC39HqLyjWDarjtT1zdp7dc"\nPORT = os.environ["PORT"]\n',
            'requirements.txt': b'fastapi\n',
        }
    )
    first = await record_readiness(sqlite_session_factory, sandbox, project_id=project.id, build_version='v0.1')
    sandbox.files['app.py'] = b'import os\nAPI_KEY = os.environ["API_KEY"]\nPORT = os.environ["PORT"]\n'
    second = await record_readiness(sqlite_session_factory, sandbox, project_id=project.id, build_version='v0.2')
    assert first is not None and second is not None
    assert [(a.version, a.build_version) for a in (first, second)] == [(1, 'v0.1'), (2, 'v0.2')]
    assert {c['key'] for c in first.content['blockers']} == {'secrets', 'env_example', 'pinned'}
    assert {c['key'] for c in second.content['blockers']} == {'env_example', 'pinned'}

    async with sqlite_session_factory() as session:
        newest = await latest_report(session, user=user, project_id=project.id)
    assert newest is not None and newest.id == second.id

    class Broken(MemorySandbox):
        async def list_files(self, path: str = '.', *, recursive: bool = True) -> list[str]:
            raise RuntimeError('the sandbox went away')

    assert await record_readiness(sqlite_session_factory, Broken(), project_id=project.id, build_version='v0.3') is None
    assert await record_readiness(sqlite_session_factory, None, project_id=project.id, build_version='v0.3') is None
