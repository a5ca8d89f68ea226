"""B-2: tier priority, per-user and per-project concurrency limits, queue position."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.queue_inprocess import InProcessQueue
from core.budget import ensure_default_tiers
from core.builds.jobs import queue_position
from core.builds.scheduling import claim_next
from core.event_log import EventLog
from core.models import BuildJob, Project, User, utcnow


async def arrange(session_factory, tiers: dict[str, str]) -> dict[str, User]:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        await ensure_default_tiers(session)
        users = {name: User(email=f'{name}@example.com', password_hash='x', tier=tier) for name, tier in tiers.items()}
        session.add_all(users.values())
        await session.commit()
    return users


async def queue_build(
    session_factory,
    user: User,
    *,
    project: Project | None = None,
    age_s: int = 0,  # type: ignore[no-untyped-def]
    priority: int = 0,
) -> BuildJob:
    async with session_factory() as session:
        if project is None:
            project = Project(owner_id=user.id, title='p', idea='an idea long enough')
            session.add(project)
            await session.flush()
        job = BuildJob(
            project_id=project.id, user_id=user.id, priority=priority, queued_at=utcnow() - timedelta(seconds=age_s)
        )
        session.add(job)
        await session.commit()
        return job


async def test_higher_tier_first_then_oldest(session_factory) -> None:  # type: ignore[no-untyped-def]
    users = await arrange(session_factory, {'a': 'bootstrapper', 'b': 'bootstrapper', 'c': 'cto_scale'})
    old = await queue_build(session_factory, users['a'], age_s=60)
    new = await queue_build(session_factory, users['b'], age_s=10)
    vip = await queue_build(session_factory, users['c'], age_s=0, priority=20)
    async with session_factory() as session:
        assert [await queue_position(session, job=j) for j in (vip, old, new)] == [1, 2, 3]
    log = EventLog(session_factory, MemoryNotifier())
    assert [await claim_next(session_factory, log) for _ in range(3)] == [vip.id, old.id, new.id]
    async with session_factory() as session:
        assert await queue_position(session, job=await session.get(BuildJob, vip.id)) is None  # no longer queued


async def test_per_user_and_per_project_limits_hold_back_builds(session_factory) -> None:  # type: ignore[no-untyped-def]
    users = await arrange(session_factory, {'solo': 'bootstrapper', 'other': 'bootstrapper'})
    first = await queue_build(session_factory, users['solo'], age_s=30)
    second = await queue_build(session_factory, users['solo'], age_s=20)  # same user, another project
    stranger = await queue_build(session_factory, users['other'], age_s=10)
    log = EventLog(session_factory, MemoryNotifier())
    assert await claim_next(session_factory, log) == first.id
    assert await claim_next(session_factory, log) == stranger.id  # solo is at their limit of 1
    assert await claim_next(session_factory, log) is None
    async with session_factory() as session:
        assert await queue_position(session, job=await session.get(BuildJob, second.id)) == 1


async def test_racing_dispatchers_never_claim_one_build_twice(session_factory) -> None:  # type: ignore[no-untyped-def]
    users = await arrange(session_factory, {f'u{i}': 'cto_scale' for i in range(6)})
    for user in users.values():
        await queue_build(session_factory, user)
    log = EventLog(session_factory, MemoryNotifier())
    claimed = await asyncio.gather(*(claim_next(session_factory, log) for _ in range(10)))
    winners = [c for c in claimed if c is not None]
    assert len(winners) == len(set(winners)) == 6


async def test_queue_runs_builds_woken_by_enqueue(session_factory) -> None:  # type: ignore[no-untyped-def]
    users = await arrange(session_factory, {'a': 'partner'})
    job = await queue_build(session_factory, users['a'])
    log, ran = EventLog(session_factory, MemoryNotifier()), asyncio.Queue[uuid.UUID]()
    queue = InProcessQueue(concurrency=2)
    queue.bind(claim=lambda: claim_next(session_factory, log), run=ran.put)
    await queue.start()
    try:
        assert await asyncio.wait_for(ran.get(), 10) == job.id  # picked up what was queued before start
        later = await queue_build(session_factory, users['a'])
        await queue.enqueue(later.id)
        assert await asyncio.wait_for(ran.get(), 10) == later.id
    finally:
        await queue.stop()
