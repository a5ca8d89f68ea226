"""B-2 across processes: admission is atomic, so racing dispatchers never start a founder's builds past the limit.

Each dispatcher gets an engine of its own, as separate processes would: nothing in-process (the asyncio lock,
SQLite's writer turns) is shared between them, so only the database-level admission lock keeps the limit —
a Postgres advisory lock, or the lock file beside an SQLite database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlmodel import SQLModel, col, select

from core.adapters.notify_memory import MemoryNotifier
from core.builds.scheduling import RUNNING_VALUES, claim_next
from core.db import SessionFactory, make_engine, make_session_factory
from core.event_log import EventLog
from core.models import BuildJob
from tests.integration.test_queue import arrange, queue_build

DISPATCHERS = 2  # engines, i.e. processes
CLAIMERS_EACH = 4  # concurrent claims per engine


@pytest.fixture
async def dispatchers(db_url: str) -> AsyncIterator[list[SessionFactory]]:
    engines = [make_engine(db_url) for _ in range(DISPATCHERS)]
    async with engines[0].begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield [make_session_factory(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


async def claim_all_at_once(factories: list[SessionFactory]) -> list[uuid.UUID]:
    logs = [EventLog(factory, MemoryNotifier()) for factory in factories]
    claims = [
        claim_next(factory, log) for factory, log in zip(factories, logs, strict=True) for _ in range(CLAIMERS_EACH)
    ]
    return [job_id for job_id in await asyncio.gather(*claims) if job_id is not None]


async def running_per_user(factory: SessionFactory) -> Counter[uuid.UUID]:
    async with factory() as session:
        rows = (await session.exec(select(BuildJob.user_id).where(col(BuildJob.state).in_(RUNNING_VALUES)))).all()
    return Counter(rows)


async def test_racing_processes_start_one_build_of_a_founder_whose_limit_is_one(
    dispatchers: list[SessionFactory],
) -> None:
    first = dispatchers[0]
    users = await arrange(first, {'solo': 'bootstrapper'})  # one build at a time
    queued = [await queue_build(first, users['solo'], age_s=60 - i) for i in range(6)]  # six projects
    winners = await claim_all_at_once(dispatchers)
    assert winners == [queued[0].id]  # the oldest, once
    assert await running_per_user(first) == {users['solo'].id: 1}


async def test_racing_processes_give_every_founder_a_slot_and_no_more(dispatchers: list[SessionFactory]) -> None:
    first = dispatchers[0]
    users = await arrange(first, {f'f{i}': 'bootstrapper' for i in range(3)})
    for user in users.values():
        for age in (30, 20, 10):
            await queue_build(first, user, age_s=age)
    winners = await claim_all_at_once(dispatchers)
    assert len(winners) == len(set(winners)) == 3
    assert await running_per_user(first) == {user.id: 1 for user in users.values()}
