"""AG-6: a worker killed mid-build; the next worker resumes from the checkpoint without redoing work."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from core.agent import checkpoint
from core.builds import jobs as builds
from core.events import StageChanged, ToolCalled
from core.models import BuildJob
from core.services import build_services
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, make_settings
from tests.services import require_chromium

ROOT = Path(__file__).resolve().parents[2]
SIDE_EFFECT_TOOLS = {'write_file', 'edit_file', 'bash'}


def start_worker(data_dir: Path, pace: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        'DATA_DIR': str(data_dir),
        'OFFLINE_PACE_SECONDS': str(pace),
        'ENV': 'test',
        'STORAGE_SECRET': 'build-test-secret-123',
        'WORKERS': 'inprocess',
        'LOG_JSON': 'false',
    }
    return subprocess.Popen(
        [sys.executable, 'main.py', 'worker'],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir.parent / 'worker.log').open('ab'),
    )


async def wait_for(predicate, timeout: float = 90):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not (result := await predicate()):  # noqa: ASYNC110 - the worker is another process
            await asyncio.sleep(0.2)
        return result


async def test_killed_worker_resumes_from_checkpoint_without_redoing_tool_calls(tmp_path: Path) -> None:
    require_chromium()
    settings = make_settings(tmp_path / 'data')  # this process only queues: its queue is never started
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    svc = build_services(settings)
    await svc.start()
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)

    first = start_worker(settings.data_dir, pace=0.3)

    async def progressed() -> checkpoint.CheckpointState | None:
        state = await checkpoint.load(svc.sessions, job.id)
        return state if state and state.tool_calls >= 6 else None

    try:
        await wait_for(progressed)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # no goodbye: the worker and its sandbox die at once
        first.wait()
    saved = await checkpoint.load(svc.sessions, job.id)
    assert saved is not None
    seq_at_kill = await svc.events.last_seq(job.id)
    done_labels = {
        e.label
        for e in await svc.events.read(job.id)
        if isinstance(e, ToolCalled) and e.tool in SIDE_EFFECT_TOOLS and _finished(saved, e.call_id)
    }
    assert done_labels, 'the worker should have written files before it was killed'

    second = start_worker(settings.data_dir, pace=0)
    try:

        async def finished() -> BuildJob | None:
            async with svc.sessions() as session:
                row = (await session.exec(select(BuildJob).where(BuildJob.id == job.id))).one()
            return row if row.state in {'READY', 'FAILED', 'CANCELLED'} else None

        final = await wait_for(finished, timeout=120)
    finally:
        second.terminate()
        second.wait(timeout=15)
    assert final.state == 'READY', final.error_detail
    after = await svc.events.read(job.id, after_seq=seq_at_kill)
    assert any(isinstance(e, StageChanged) and e.to_state == 'QUEUED' for e in after)  # recovered at start-up
    redone = {e.label for e in after if isinstance(e, ToolCalled) and e.label in done_labels}
    assert redone == set()
    await svc.close()


def _finished(state: checkpoint.CheckpointState, call_id: str) -> bool:
    """A call is finished when its result is in the saved conversation."""
    return any(
        block.get('type') == 'tool_result' and block.get('tool_use_id') == call_id
        for message in state.messages
        if isinstance(message.get('content'), list)
        for block in message['content']
    )
