"""The arq queue (WORKERS=external): one job per build id, admission in the database, a dead worker's build
redelivered through arq's retry once its lease lapses. Real Redis, real databases; the dying worker is a real
process killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_arq import ArqQueue
from core.adapters.queue_inprocess import InProcessQueue
from core.builds.scheduling import claim_next, queued_builds
from core.builds.states import RUNNING, BuildState, IllegalTransition, transition
from core.config import Settings
from core.db import SessionFactory
from core.event_log import EventLog
from core.models import BuildJob
from core.services import build_services
from tests.integration.test_queue import arrange, queue_build
from tests.services import require_redis

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.redis


def arq_queue(session_factory: SessionFactory, name: str, **options: object) -> ArqQueue:
    return ArqQueue(require_redis(), pending=lambda: queued_builds(session_factory), queue_name=name, **options)  # type: ignore[arg-type]


@pytest.fixture
def queue_name() -> str:
    return f'test:builds:{uuid.uuid4().hex[:8]}'  # each test its own arq queue on the shared Redis


class Recorder:
    """What the queue ran, and a gate each run waits on (so a test decides when a build ends)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.ran: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self.release = asyncio.Event()

    async def run(self, job_id: uuid.UUID) -> None:
        await self.ran.put(job_id)
        await self.release.wait()
        await transition(self.log, job_id, BuildState.FAILED, reason='test build over')


@pytest.fixture
async def worker(session_factory: SessionFactory, queue_name: str) -> AsyncIterator[tuple[ArqQueue, Recorder]]:
    log = EventLog(session_factory, MemoryNotifier())
    recorder = Recorder(log)
    queue = arq_queue(session_factory, queue_name, dispatch=True, lease_s=1.0)
    queue.bind(claim=lambda: claim_next(session_factory, log), run=recorder.run, recover=lambda j: requeue(log, j))
    yield queue, recorder
    recorder.release.set()
    await queue.stop()


async def requeue(log: EventLog, job_id: uuid.UUID) -> None:
    async with log._sessions() as session:  # noqa: SLF001 - the test's stand-in for jobs.recovery.requeue_orphan
        job = await session.get(BuildJob, job_id)
    if job is not None and job.state in {s.value for s in RUNNING}:
        try:
            await transition(log, job_id, BuildState.QUEUED, reason='Picking up where I left off')
        except IllegalTransition:
            pass


async def test_a_build_enqueued_twice_runs_once(session_factory, worker) -> None:  # type: ignore[no-untyped-def]
    queue, recorder = worker
    users = await arrange(session_factory, {'a': 'cto_scale'})
    job = await queue_build(session_factory, users['a'])
    await queue.enqueue(job.id)
    await queue.enqueue(job.id)  # refused by id: the first job is still waiting
    recorder.release.set()
    await queue.start()
    assert await asyncio.wait_for(recorder.ran.get(), 10) == job.id
    await queue.enqueue(job.id)  # pending or finished, a third delivery must not run it again
    await asyncio.sleep(1.0)  # several polls of the worker
    assert recorder.ran.empty()


async def test_a_build_held_by_its_limit_starts_when_the_slot_frees(session_factory, worker) -> None:  # type: ignore[no-untyped-def]
    queue, recorder = worker
    users = await arrange(session_factory, {'solo': 'bootstrapper'})  # one build at a time
    first = await queue_build(session_factory, users['solo'], age_s=20)
    second = await queue_build(session_factory, users['solo'], age_s=10)
    await queue.start()
    for job in (first, second):
        await queue.enqueue(job.id)
    assert await asyncio.wait_for(recorder.ran.get(), 10) == first.id
    await asyncio.sleep(0.5)  # the second job was delivered meanwhile and found its founder at the limit
    assert recorder.ran.empty()
    recorder.release.set()  # the first build ends: its worker enqueues the waiting one again
    assert await asyncio.wait_for(recorder.ran.get(), 10) == second.id


DYING_WORKER = """
import asyncio, sys
from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_arq import ArqQueue
from core.builds.scheduling import claim_next, queued_builds
from core.builds.states import BuildState, transition
from core.db import make_engine, make_session_factory
from core.event_log import EventLog

async def main(db_url, redis_url, queue_name):
    sessions = make_session_factory(make_engine(db_url))
    log = EventLog(sessions, MemoryNotifier())
    queue = ArqQueue(redis_url, pending=lambda: queued_builds(sessions), queue_name=queue_name, dispatch=True,
                     lease_s=1.0)
    async def run(job_id):
        await transition(log, job_id, BuildState.SCAFFOLD, reason='working')
        print('RUNNING', job_id, flush=True)
        await asyncio.Event().wait()  # until killed
    queue.bind(claim=lambda: claim_next(sessions, log), run=run)
    await queue.start()
    await asyncio.Event().wait()

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_build_whose_worker_is_killed_is_redelivered_and_resumed(  # type: ignore[no-untyped-def]
    session_factory, db_url: str, queue_name: str, worker
) -> None:
    survivor, recorder = worker
    users = await arrange(session_factory, {'a': 'cto_scale'})
    job = await queue_build(session_factory, users['a'])
    dying = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, '-c', DYING_WORKER, db_url, require_redis(), queue_name],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, 'PYTHONPATH': str(ROOT)},
    )
    try:
        await survivor.enqueue(job.id)
        line = await asyncio.wait_for(asyncio.to_thread(dying.stdout.readline), 30)  # type: ignore[union-attr]
        assert line.decode().split() == ['RUNNING', str(job.id)]
        dying.send_signal(signal.SIGKILL)
        await asyncio.to_thread(dying.wait)
        await survivor.start()  # its poll finds the job once the dead worker's one-second lease lapses
        assert await asyncio.wait_for(recorder.ran.get(), 15) == job.id
        events = await EventLog(session_factory, MemoryNotifier()).read(job.id)
        states = [e.to_state for e in events if e.type == 'build.stage.changed']  # type: ignore[attr-defined]
        assert states[-3:] == ['SCAFFOLD', 'QUEUED', 'STARTING']  # back in the queue, then claimed again
    finally:
        if dying.poll() is None:
            dying.kill()
        dying.wait()


def test_settings_choose_the_queue(tmp_path: Path) -> None:
    base = {'_env_file': None, 'DATA_DIR': tmp_path, 'ENV': 'test'}
    assert isinstance(build_services(Settings(**base)).queue, InProcessQueue)  # type: ignore[arg-type]
    scaled = Settings(**base, REDIS_URL='redis://127.0.0.1:6379/0', WORKERS='external')  # type: ignore[arg-type]
    web, worker = build_services(scaled).queue, build_services(scaled, worker_process=True).queue
    assert isinstance(web, ArqQueue) and isinstance(worker, ArqQueue)
    assert (web.dispatch, worker.dispatch) == (False, True)  # the web side only enqueues
    with pytest.raises(ValueError, match='WORKERS=external needs REDIS_URL'):
        build_services(Settings(**base, WORKERS='external'))  # type: ignore[arg-type]
