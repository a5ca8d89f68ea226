"""Event log: append+follow throughput and append→follower latency, beside raw baselines.

For each notifier (in-process, Redis) on SQLite (and Postgres when it is running):
  - latency: a writer appends one event at a time and waits until the follower has yielded it;
    latency = time from calling append() to the follower yielding the event (DB write + commit +
    wake-up + the follower's read). Also reported: publish→wake of the notifier alone.
  - throughput: one writer appends N events (single appends; then batches of 100) while one
    follower consumes them; events/s from the first append to the last event followed.
Baselines in the same run: asyncio.Queue put→get, and redis-py publish→subscriber receive.

Run: .venv/bin/python -m bench.bench_events [N]
Targets: follower latency p99 < 5 ms in-process.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from pathlib import Path

import redis.asyncio as redis
from sqlmodel import SQLModel

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.notify_redis import RedisNotifier
from core.db import SessionFactory, make_engine, make_session_factory, transaction
from core.event_log import EventLog
from core.events import Narration
from core.models import BuildJob, Project, Tier, User
from core.ports import Notifier
from tests.services import POSTGRES_URL, REDIS_URL, port_open


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def show(name: str, samples_s: list[float]) -> None:
    ms = [s * 1000 for s in samples_s]
    print(f'  {name:48s} p50 {pct(ms, 0.5):7.3f} ms   p99 {pct(ms, 0.99):7.3f} ms   (n={len(ms)})')


async def new_job(sessions: SessionFactory) -> uuid.UUID:
    async with transaction(sessions) as session:
        if await session.get(Tier, 'bootstrapper') is None:
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
    return job.id


# ── baselines ──


async def queue_baseline(n: int) -> None:
    queue: asyncio.Queue[float] = asyncio.Queue()
    samples: list[float] = []

    async def consumer() -> None:
        for _ in range(n):
            sent = await queue.get()
            samples.append(time.perf_counter() - sent)

    task = asyncio.create_task(consumer())
    for _ in range(n):
        await queue.put(time.perf_counter())
        await asyncio.sleep(0)  # let the consumer run: one message in flight, as in the latency test
    await task
    show('baseline asyncio.Queue put→get', samples)
    start = time.perf_counter()
    for i in range(n * 10):
        queue.put_nowait(i)
    while not queue.empty():
        await queue.get()
    print(f'  {"baseline asyncio.Queue throughput":48s} {n * 10 / (time.perf_counter() - start):12,.0f} msgs/s')


async def redis_baseline(n: int) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    channel = f'bench:{uuid.uuid4().hex}'
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    samples = []
    for _ in range(n):
        sent = time.perf_counter()
        await client.publish(channel, '1')
        while await pubsub.get_message(timeout=1) is None:
            pass
        samples.append(time.perf_counter() - sent)
    show('baseline redis-py publish→subscriber receive', samples)
    await pubsub.aclose()
    await client.aclose()


# ── the notifier alone ──


async def notifier_wake(notifier: Notifier, n: int) -> None:
    topic = f'build:{uuid.uuid4()}'
    listener = await notifier.listen(topic)
    samples = []
    for seq in range(1, n + 1):
        sent = time.perf_counter()
        await notifier.publish(topic, seq)
        await listener.wait(5)
        samples.append(time.perf_counter() - sent)
    show(f'{type(notifier).__name__} publish→wake', samples)
    await listener.close()


# ── the event log ──


async def latency(log: EventLog, sessions: SessionFactory, n: int, label: str) -> None:
    job = await new_job(sessions)
    received = asyncio.Queue[float]()
    started = asyncio.Event()

    async def follower() -> None:
        async with aclosing(log.follow(job)) as events:
            started.set()
            async for _ in events:
                received.put_nowait(time.perf_counter())

    task = asyncio.create_task(follower())
    await started.wait()
    await asyncio.sleep(0.05)
    append_only, end_to_end, after_commit = [], [], []
    for i in range(n):
        sent = time.perf_counter()
        await log.append(Narration(job_id=job, text=f'step {i}'))
        committed = time.perf_counter()
        got = await received.get()
        append_only.append(committed - sent)
        end_to_end.append(got - sent)
        after_commit.append(got - committed)
    task.cancel()
    show(f'{label} append() (write+commit+publish)', append_only)
    show(f'{label} append() returned→follower yields', after_commit)
    show(f'{label} append() called→follower yields', end_to_end)


async def throughput(log: EventLog, sessions: SessionFactory, n: int, label: str, batch: int) -> None:
    job = await new_job(sessions)
    done = asyncio.Event()
    count = 0

    async def follower() -> None:
        nonlocal count
        async with aclosing(log.follow(job)) as events:
            async for event in events:
                count += 1
                if event.seq == n:
                    done.set()
                    return

    task = asyncio.create_task(follower())
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    for i in range(0, n, batch):
        await log.append_many([Narration(job_id=job, text=f'step {k}') for k in range(i, min(n, i + batch))])
    await done.wait()
    elapsed = time.perf_counter() - start
    await task
    what = 'single appends' if batch == 1 else f'batches of {batch}'
    print(f'  {label + " append+follow, " + what:48s} {n / elapsed:12,.0f} events/s')


async def run_backend(name: str, url: str, n: int, notifiers: list[Callable[[], Notifier]]) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    sessions = make_session_factory(engine)
    for factory in notifiers:
        notifier = factory()
        label = f'{name}+{type(notifier).__name__.removesuffix("Notifier")}'
        log = EventLog(sessions, notifier)
        print(f'\n{label}')
        await notifier_wake(notifier, n)
        await latency(log, sessions, n, label)
        await throughput(log, sessions, n, label, batch=1)
        await throughput(log, sessions, n * 10, label, batch=100)
        await notifier.close()
    await engine.dispose()


async def with_postgres(run: Callable[[str], Awaitable[None]]) -> None:
    import psycopg

    name = f'cf_bench_{uuid.uuid4().hex[:8]}'
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE {name}')
    try:
        await run(POSTGRES_URL.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://') + f'/{name}')
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


async def main(n: int) -> None:
    have_redis = port_open('127.0.0.1', 6379)
    print(f'Event log benchmark, n={n}')
    print('\nbaselines')
    await queue_baseline(n)
    if have_redis:
        await redis_baseline(n)
    notifiers: list[Callable[[], Notifier]] = [MemoryNotifier]
    if have_redis:
        notifiers.append(lambda: RedisNotifier(REDIS_URL, client_name='cf-bench'))
    with tempfile.TemporaryDirectory() as tmp:
        await run_backend('sqlite', f'sqlite+aiosqlite:///{Path(tmp) / "bench.db"}', n, notifiers)
    if port_open('127.0.0.1', 5432):
        await with_postgres(lambda url: run_backend('postgres', url, n, notifiers))


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
