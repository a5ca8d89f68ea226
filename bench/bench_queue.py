"""The build queue: enqueue → STARTING latency on arq (WORKERS=external) vs the in-process dispatcher, and
builds started per second with 4 workers.

Builds here end the moment they start (the runner moves them to FAILED), so what is timed is the queue and
admission: the enqueue, the delivery (a poll on arq, a wake-up in process), the admission lock and the
STARTING transition. Latency: builds enqueued one at a time, each timed to its STARTING commit. Throughput:
N builds queued at once, the time until all have started. arq's 4 workers each have their own database
engine, as separate processes would (the admission lock then works across them); the in-process baseline
is one dispatcher running 4 builds at a time. PostgreSQL and Redis on 127.0.0.1 (TEST_POSTGRES_URL /
TEST_REDIS_URL to change). Printed, never asserted, never part of the test run.
Run: .venv/bin/python -m bench.bench_queue [--builds 200] [--samples 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable

import psycopg

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_arq import ArqQueue
from core.adapters.queue_inprocess import InProcessQueue
from core.budget import ensure_default_tiers
from core.builds.scheduling import claim_next, queued_builds
from core.builds.states import BuildState, transition
from core.db import SessionFactory, make_engine, make_session_factory
from core.event_log import EventLog
from core.models import BuildJob, Project, User
from migrations import upgrade

POSTGRES = os.environ.get('TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432/test')
REDIS = os.environ.get('TEST_REDIS_URL', 'redis://127.0.0.1:6379/0')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fresh_database() -> str:
    name = f'cf_bench_{uuid.uuid4().hex[:10]}'
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE {name}')
    return POSTGRES.rsplit('/', 1)[0] + f'/{name}'


def drop_database(url: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS {url.rsplit("/", 1)[1]} WITH (FORCE)')


class Harness:
    """Founders on the top tier (no limit gets in the way), builds queued on demand, starts timed."""

    def __init__(self, url: str) -> None:
        self.url = url.replace('postgresql://', 'postgresql+asyncpg://')
        self.sessions = make_session_factory(make_engine(self.url))
        self.started: dict[uuid.UUID, float] = {}
        self.all_started = asyncio.Event()
        self.expected = 0

    async def prepare(self) -> None:
        async with self.sessions() as session:
            await ensure_default_tiers(session)
            self.user = User(email=f'{uuid.uuid4().hex[:8]}@bench.example', password_hash='x', tier='cto_scale')
            session.add(self.user)
            await session.flush()
            self.project = Project(owner_id=self.user.id, title='bench', idea='a queue benchmark idea')
            session.add(self.project)
            await session.commit()

    async def queue(self, count: int) -> list[uuid.UUID]:
        async with self.sessions() as session:
            jobs = [BuildJob(project_id=self.project.id, user_id=self.user.id, priority=30) for _ in range(count)]
            session.add_all(jobs)
            await session.commit()
        return [job.id for job in jobs]

    def runner(self, sessions: SessionFactory) -> Callable[[uuid.UUID], Awaitable[None]]:
        log = EventLog(sessions, MemoryNotifier())

        async def run(job_id: uuid.UUID) -> None:
            self.started[job_id] = time.perf_counter()  # claim_next committed STARTING just before
            if len(self.started) >= self.expected:
                self.all_started.set()
            await transition(log, job_id, BuildState.FAILED, reason='benchmark build')

        return run


async def measure(kind: str, samples: int, builds: int) -> tuple[list[float], float]:
    url = await asyncio.to_thread(fresh_database)
    try:
        await asyncio.to_thread(upgrade, url.replace('postgresql://', 'postgresql+psycopg://'))
        harness = Harness(url)
        await harness.prepare()
        queues = make_queues(kind, harness)
        for queue in queues:
            await queue.start()
        latencies = []
        for _ in range(samples):  # one at a time
            (job_id,) = await harness.queue(1)
            harness.expected = len(harness.started) + 1
            harness.all_started.clear()
            sent = time.perf_counter()
            await queues[0].enqueue(job_id)
            await asyncio.wait_for(harness.all_started.wait(), 30)
            latencies.append((harness.started[job_id] - sent) * 1000)
        ids = await harness.queue(builds)
        harness.expected = len(harness.started) + builds
        harness.all_started.clear()
        sent = time.perf_counter()
        for job_id in ids:
            await queues[0].enqueue(job_id)
        await asyncio.wait_for(harness.all_started.wait(), 300)
        rate = builds / (time.perf_counter() - sent)
        for queue in queues:
            await queue.stop()
        return latencies, rate
    finally:
        await asyncio.to_thread(drop_database, url)


def make_queues(kind: str, harness: Harness) -> list[InProcessQueue | ArqQueue]:
    if kind == 'in-process':
        log = EventLog(harness.sessions, MemoryNotifier())
        queue = InProcessQueue(concurrency=4)
        queue.bind(claim=lambda: claim_next(harness.sessions, log), run=harness.runner(harness.sessions))
        return [queue]
    name = f'bench:builds:{uuid.uuid4().hex[:8]}'
    made: list[InProcessQueue | ArqQueue] = []
    for _ in range(4):  # four workers, each with an engine of its own
        sessions = make_session_factory(make_engine(harness.url))
        log = EventLog(sessions, MemoryNotifier())
        queue = ArqQueue(REDIS, pending=lambda s=sessions: queued_builds(s), queue_name=name, dispatch=True)
        queue.bind(claim=lambda s=sessions, lg=log: claim_next(s, lg), run=harness.runner(sessions))
        made.append(queue)
    return made


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--builds', type=int, default=200)
    parser.add_argument('--samples', type=int, default=60)
    args = parser.parse_args()
    print(f'{"queue":<12} {"enqueue→STARTING p50":>21} {"p99":>9} {"builds started/s":>17}')
    for kind in ('in-process', 'arq'):
        latencies, rate = await measure(kind, args.samples, args.builds)
        print(f'{kind:<12} {pct(latencies, 0.5):>18.1f} ms {pct(latencies, 0.99):>6.1f} ms {rate:>17.1f}')


if __name__ == '__main__':
    asyncio.run(main())
