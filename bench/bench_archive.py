"""Event archive: archiving a 100k-event build (SQLite, blob store on files), and replay from the archive beside
replay from the rows, measured in the same run.

Reported:
  - archive: wall time of `archive_finished_builds` for the one build (read rows, compress, upload, read back
    and compare, delete the rows), compressed bytes against the JSON Lines it holds, and the longest stall of
    the event loop meanwhile (a 10 ms ticker);
  - replay: `EventLog.read(job)` of every event, and `follow(job, until_done=True)` paging 500 at a time (what
    a late-joining build page does), from the rows before archiving and from the archive after (cold: a new
    EventLog, nothing cached; warm: the archive already decompressed).

Run: .venv/bin/python -m bench.bench_archive [N]
Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import gzip
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import timedelta
from pathlib import Path

from sqlmodel import SQLModel

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.notify_memory import MemoryNotifier
from core.builds.archive import archive_finished_builds, archive_key
from core.builds.states import BuildState, transition
from core.db import SessionFactory, make_engine, make_session_factory, transaction
from core.event_log import EventLog
from core.events import BuildEvent, LogLines, Narration, ToolCalled, ToolResult
from core.models import BuildJob, Project, Tier, User, utcnow

ROUNDS = 3


async def new_job(sessions: SessionFactory) -> tuple[uuid.UUID, uuid.UUID]:
    async with transaction(sessions) as session:
        session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=10**9))
        await session.flush()
        user = User(email=f'{uuid.uuid4().hex[:8]}@bench.local', password_hash='x')
        session.add(user)
        await session.flush()
        project = Project(owner_id=user.id, title='bench')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=user.id)
        session.add(job)
    return project.id, job.id


def agent_turn(job_id: uuid.UUID, i: int) -> list[BuildEvent]:
    """Four events as an agent iteration writes them: narration, a tool call, its result, a batch of log lines."""
    return [
        Narration(job_id=job_id, text=f'I am adding the booking calendar, step {i}, and checking the form.'),
        ToolCalled(
            job_id=job_id,
            call_id=f'c{i}',
            tool='write_file',
            label=f'Wrote 47 lines to app/page_{i}.py',
            input={'path': f'app/page_{i}.py', 'content': 'def view(request):\n    return render()\n' * 3},
        ),
        ToolResult(job_id=job_id, call_id=f'c{i}', tool='write_file', ok=True, output=f'wrote app/page_{i}.py'),
        LogLines(job_id=job_id, phase='code', lines=[f'[{i}] GET /slots 200 in {i % 97} ms' for _ in range(4)]),
    ]


async def fill(log: EventLog, job_id: uuid.UUID, n: int) -> None:
    await transition(log, job_id, BuildState.STARTING)
    await transition(log, job_id, BuildState.CODE)
    batch: list[BuildEvent] = []
    for i in range(n // 4):
        batch.extend(agent_turn(job_id, i))
        if len(batch) >= 1000:
            await log.append_many(batch)
            batch = []
    if batch:
        await log.append_many(batch)
    await transition(log, job_id, BuildState.FAILED, reason='bench')


async def timed(work: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    start = time.perf_counter()
    result = await work()
    return time.perf_counter() - start, result


async def read_all(log: EventLog, job_id: uuid.UUID) -> int:
    return len(await log.read(job_id))


async def follow_all(log: EventLog, job_id: uuid.UUID) -> int:
    count = 0
    async with aclosing(log.follow(job_id, until_done=True)) as events:
        async for _ in events:
            count += 1
    return count


async def rounds(name: str, make: Callable[[], Awaitable[object]]) -> float:
    samples = []
    count: object = None
    for _ in range(ROUNDS):
        elapsed, count = await timed(make)
        samples.append(elapsed)
    median = statistics.median(samples)
    print(f'  {name:52s} median {median * 1000:8.0f} ms   best {min(samples) * 1000:8.0f} ms   ({count} events)')
    return median


async def loop_lag_during(work: Callable[[], Awaitable[object]]) -> tuple[float, float, object]:
    """Wall time of `work` and the longest a 10 ms ticker waited beyond its period meanwhile."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    elapsed, result = await timed(work)
    done.set()
    await tick
    return elapsed, worst, result


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f'sqlite+aiosqlite:///{Path(tmp) / "bench.db"}')
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        sessions = make_session_factory(engine)
        store = FileBlobStore(Path(tmp) / 'blobs')
        log = EventLog(sessions, MemoryNotifier(), archive=store.get)
        project_id, job_id = await new_job(sessions)
        start = time.perf_counter()
        await fill(log, job_id, n)
        total = await log.last_seq(job_id)
        print(f'{total} events appended in {time.perf_counter() - start:.1f} s (SQLite, file blob store)')

        print('replay from the rows (baseline):')
        rows_read = await rounds('read(job) — every event', lambda: read_all(log, job_id))
        rows_follow = await rounds('follow(job) — 500 a page', lambda: follow_all(log, job_id))

        later = utcnow() + timedelta(hours=25)
        elapsed, lag, archived = await loop_lag_during(
            lambda: archive_finished_builds(sessions, log, store, older_than=timedelta(hours=24), now=later)
        )
        data = await store.get(archive_key(project_id, job_id))
        raw = len(gzip.decompress(data))
        print(f'archive: {elapsed:.2f} s for {total} events (archived: {archived == [job_id]})')
        print(f'  {len(data) / 1e6:.2f} MB compressed from {raw / 1e6:.1f} MB of JSON Lines ({raw / len(data):.1f}x, '
              f'{len(data) / total:.0f} B/event); the event loop stalled at most {lag * 1000:.0f} ms')  # fmt: skip

        print('replay from the archive:')
        cold_read = await rounds(
            'read(job), cold (new EventLog)',
            lambda: read_all(EventLog(sessions, MemoryNotifier(), archive=store.get), job_id),
        )
        warm_read = await rounds('read(job), warm', lambda: read_all(log, job_id))
        cold_follow = await rounds(
            'follow(job), cold — 500 a page',
            lambda: follow_all(EventLog(sessions, MemoryNotifier(), archive=store.get), job_id),
        )
        warm_follow = await rounds('follow(job), warm — 500 a page', lambda: follow_all(log, job_id))
        print('ratios (archive / rows):')
        print(f'  read   cold {cold_read / rows_read:.2f}x   warm {warm_read / rows_read:.2f}x')
        print(f'  follow cold {cold_follow / rows_follow:.2f}x   warm {warm_follow / rows_follow:.2f}x')
        await engine.dispose()


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
