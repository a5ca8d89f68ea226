"""Which queued build runs next (B-2): tier priority, then age, within per-user and per-project limits.

Admission is atomic across processes: the decision (count what runs, pick the next build within its
limits) and the move to STARTING happen under one admission lock, so two dispatchers cannot each see a
founder under their limit and start one build each past it. The lock is a Postgres advisory lock, or on
SQLite an exclusive lock on a file beside the database (SQLite's own write lock cannot be held across the
transition's separate transaction without blocking it); within a process an asyncio lock comes first, so
a process's dispatchers queue on the loop instead of in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import uuid
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.states import RUNNING, BuildState, IllegalTransition, transition
from core.db import SessionFactory, engine_of
from core.event_log import EventLog
from core.models import BuildJob, Tier, User

RUNNING_VALUES = [s.value for s in RUNNING]
MAX_CLAIM_RACES = 100
ADMISSION_LOCK_KEY = 0x436F_6661_646D  # Postgres advisory lock id of build admission ("Cofadm")
_local_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


async def _running_counts(session: AsyncSession) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    rows = (
        await session.exec(select(BuildJob.user_id, BuildJob.project_id).where(col(BuildJob.state).in_(RUNNING_VALUES)))
    ).all()
    per_user: dict[uuid.UUID, int] = {}
    per_project: dict[uuid.UUID, int] = {}
    for user_id, project_id in rows:
        per_user[user_id] = per_user.get(user_id, 0) + 1
        per_project[project_id] = per_project.get(project_id, 0) + 1
    return per_user, per_project


async def next_runnable(session: AsyncSession, *, scan: int = 200) -> BuildJob | None:
    """The first queued build whose owner and project are under their tier's concurrency limits."""
    per_user, per_project = await _running_counts(session)
    query = (
        select(BuildJob, Tier)
        .join(User, col(User.id) == BuildJob.user_id)
        .join(Tier, col(Tier.name) == User.tier)
        .where(BuildJob.state == BuildState.QUEUED.value)
        .order_by(col(BuildJob.priority).desc(), col(BuildJob.queued_at))
        .limit(scan)
    )
    for job, tier in (await session.exec(query)).all():
        if (
            per_user.get(job.user_id, 0) < tier.max_concurrent_user
            and per_project.get(job.project_id, 0) < tier.max_concurrent_project
        ):
            return job
    return None


async def queued_builds(sessions: SessionFactory, *, limit: int = 200) -> list[uuid.UUID]:
    """Queued builds in the order they would be claimed (tier priority, then age): what a queue re-announces."""
    query = (
        select(BuildJob.id)
        .where(BuildJob.state == BuildState.QUEUED.value)
        .order_by(col(BuildJob.priority).desc(), col(BuildJob.queued_at))
        .limit(limit)
    )
    async with sessions() as session:
        return list((await session.exec(query)).all())


async def claim_next(sessions: SessionFactory, events: EventLog) -> uuid.UUID | None:
    """Move the next runnable build to STARTING and return its id; None when nothing may start now.

    Decision and transition run under the admission lock (module docstring). The transition still locks
    the row, so a build cancelled meanwhile is skipped and the next one is tried.
    """
    async with admission(engine_of(sessions)):
        for _ in range(MAX_CLAIM_RACES):
            async with sessions() as session:
                job = await next_runnable(session)
            if job is None:
                return None
            try:
                await transition(events, job.id, BuildState.STARTING, reason='A builder picked up your build')
                return job.id
            except IllegalTransition:
                continue  # cancelled meanwhile
    return None


@contextlib.asynccontextmanager
async def admission(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the admission lock of this database: one claim at a time across every process using it."""
    lock = _local_locks.setdefault(engine.sync_engine, asyncio.Lock())
    async with lock:
        if engine.dialect.name == 'postgresql':
            # a transaction-level lock: whatever ends the transaction (commit, error, a dropped connection) frees it
            async with engine.begin() as conn:
                await conn.execute(text('SELECT pg_advisory_xact_lock(:key)'), {'key': ADMISSION_LOCK_KEY})
                yield
            return
        database = engine.url.database
        if not database or database == ':memory:':
            yield  # a private database: this process is its only user
            return
        fd = await _locked(Path(f'{database}.admission.lock'))
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


async def _locked(path: Path) -> int:
    """The descriptor of `path`, exclusively locked; waits in a thread. Cancelled while waiting, the lock
    taken afterwards is let go at once instead of being held by a forgotten descriptor."""
    waiting = asyncio.get_running_loop().run_in_executor(None, _lock_file, path)
    try:
        return await asyncio.shield(waiting)
    except asyncio.CancelledError:
        waiting.add_done_callback(_release_when_taken)
        raise


def _release_when_taken(done: asyncio.Future[int]) -> None:
    if not done.cancelled() and done.exception() is None:
        os.close(done.result())


def _lock_file(path: Path) -> int:
    """Open and exclusively lock `path` (blocking: called in a thread)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd
