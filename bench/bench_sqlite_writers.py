"""SQLite writers taking turns (core.db.SQLiteWriterTurns) against SQLite's own busy handler.

20 builds append events at once, as under 20 concurrent offline builds: each round every build
appends one Narration at a random moment within 200 ms; the time of each `EventLog.append` is
printed, with the writers taking turns and, as the baseline in the same run, without.
Printed, never asserted, never part of the test run.
Run: .venv/bin/python -m bench.bench_sqlite_writers [--builds 20] [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from core.adapters.notify_memory import MemoryNotifier
from core.config import Settings
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import Narration
from core.models import BuildJob, Project, User
from migrations import upgrade


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def append_times(data_dir: Path, *, turns: bool, builds: int, rounds: int) -> list[float]:
    settings = Settings(DATA_DIR=data_dir, DATABASE_URL=None, REDIS_URL=None, ENV='test')
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    engine = make_engine(settings.database_url, writer_turns=turns)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        owner = User(email='bench@example.com', password_hash='x')
        session.add(owner)
        await session.flush()
        jobs = []
        for n in range(builds):
            project = Project(owner_id=owner.id, title=f'P{n}', idea='bench')
            session.add(project)
            await session.flush()
            job = BuildJob(project_id=project.id, user_id=owner.id, state='CODE')
            session.add(job)
            await session.flush()
            jobs.append(job.id)
        await session.commit()
    log = EventLog(sessions, MemoryNotifier())
    times: list[float] = []

    async def one(job_id) -> None:  # type: ignore[no-untyped-def]
        await asyncio.sleep(random.uniform(0, 0.2))
        started = time.perf_counter()
        await log.append(Narration(job_id=job_id, text='step'))
        times.append((time.perf_counter() - started) * 1000)

    for _ in range(rounds):
        await asyncio.gather(*(one(job_id) for job_id in jobs))
        await asyncio.sleep(0.1)
    await engine.dispose()
    return times


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix='bench-sqlite-writers-') as tmp:
        results = {}
        for label, turns in (('SQLite busy handler (baseline)', False), ('writers take turns', True)):
            results[label] = await append_times(Path(tmp) / label.split()[0], turns=turns, **vars(args))
    print(f'EventLog.append on SQLite, {args.builds} builds appending at once ({args.rounds} rounds):')
    for label, times in results.items():
        print(f'  {label:<32} n={len(times)}  p50 {pct(times, 0.5):6.1f}  p99 {pct(times, 0.99):6.1f}  '
              f'max {max(times):6.1f} ms')  # fmt: skip
    base, turns = results['SQLite busy handler (baseline)'], results['writers take turns']
    print(f'  p99 ratio turns / baseline: {pct(turns, 0.99) / pct(base, 0.99):.2f}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--builds', type=int, default=20)
    parser.add_argument('--rounds', type=int, default=30)
    asyncio.run(run(parser.parse_args()))


if __name__ == '__main__':
    main()
