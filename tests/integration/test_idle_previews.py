"""B-5: a preview nobody has viewed for a while is paused (its app stops); one viewed recently keeps running;
Resume brings a paused one back. Real local sandboxes running a real app, on SQLite and Postgres."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.sandbox_local import LocalSandboxProvider
from core.builds.preview import mark_preview_viewed, pause_idle_previews, resume_preview
from core.config import Settings
from core.db import SessionFactory
from core.event_log import EventLog
from core.models import User, utcnow
from tests.integration.housekeeping_support import TO_READY, Founder, founder, job_row, queued_build, walk

IDLE = timedelta(minutes=30)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return b'Dog walking' in response.read()
    except OSError:
        return False


@pytest.fixture
async def sandboxes(settings: Settings) -> AsyncIterator[LocalSandboxProvider]:
    provider = LocalSandboxProvider(settings, use_bwrap=False)
    yield provider
    await provider.close()


@pytest.fixture
def log(session_factory: SessionFactory) -> EventLog:
    return EventLog(session_factory, MemoryNotifier())


async def ready_with_preview(
    sessions: SessionFactory, log: EventLog, sandboxes: LocalSandboxProvider, who: Founder
) -> tuple[uuid.UUID, str]:
    """A READY build whose app runs in its workspace, as the pipeline leaves it."""
    job_id = await queued_build(sessions, who)
    sandbox = await sandboxes.create(key=str(job_id))
    await sandbox.write_file('index.html', '<h1>Dog walking</h1>')
    url = await sandbox.start_app()
    await walk(log, job_id, TO_READY[0], sandbox_id=sandbox.id)
    await walk(log, job_id, *TO_READY[1:], preview_url=url, preview_state='running')
    return job_id, url


async def test_an_unviewed_preview_is_paused_and_a_recently_viewed_one_keeps_running(
    session_factory: SessionFactory, log: EventLog, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    unviewed, unviewed_url = await ready_with_preview(session_factory, log, sandboxes, who)
    viewed, viewed_url = await ready_with_preview(session_factory, log, sandboxes, who)
    later = utcnow() + timedelta(minutes=31)
    assert await mark_preview_viewed(session_factory, viewed, now=later - timedelta(minutes=5))

    assert await pause_idle_previews(session_factory, sandboxes, idle_for=IDLE) == []  # ready just now
    paused = await pause_idle_previews(session_factory, sandboxes, idle_for=IDLE, now=later)

    assert paused == [unviewed]
    assert (await job_row(session_factory, unviewed)).preview_state == 'paused'
    assert (await job_row(session_factory, viewed)).preview_state == 'running'
    assert not await asyncio.to_thread(answers, unviewed_url)  # its app stopped
    assert await asyncio.to_thread(answers, viewed_url)
    assert await pause_idle_previews(session_factory, sandboxes, idle_for=IDLE, now=later) == []


async def test_resume_brings_a_paused_preview_back_and_counts_as_a_view(
    session_factory: SessionFactory, log: EventLog, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    job_id, _ = await ready_with_preview(session_factory, log, sandboxes, who)
    later = utcnow() + timedelta(minutes=31)
    assert await pause_idle_previews(session_factory, sandboxes, idle_for=IDLE, now=later) == [job_id]

    async with session_factory() as session:
        owner = await session.get(User, who.user_id)
        assert owner is not None
        resumed = await resume_preview(session, user=owner, job_id=job_id, sandboxes=sandboxes)

    assert resumed.preview_state == 'running' and resumed.preview_url
    assert await asyncio.to_thread(answers, resumed.preview_url)
    assert resumed.preview_viewed_at is not None
    # idle counts from the resume, not from when the build was ready
    assert await pause_idle_previews(session_factory, sandboxes, idle_for=IDLE, now=utcnow() + IDLE / 2) == []


async def test_a_view_is_written_at_most_once_a_minute(session_factory: SessionFactory, log: EventLog) -> None:
    who = await founder(session_factory)
    job_id = await queued_build(session_factory, who)
    await walk(log, job_id, *TO_READY, preview_state='running')
    now = utcnow()

    assert await mark_preview_viewed(session_factory, job_id, now=now)
    assert not await mark_preview_viewed(session_factory, job_id, now=now + timedelta(seconds=30))
    assert await mark_preview_viewed(session_factory, job_id, now=now + timedelta(seconds=61))
    assert (await job_row(session_factory, job_id)).preview_viewed_at == now + timedelta(seconds=61)


async def test_a_preview_whose_sandbox_is_gone_expires_instead(
    session_factory: SessionFactory, log: EventLog, sandboxes: LocalSandboxProvider
) -> None:
    who = await founder(session_factory)
    job_id, _ = await ready_with_preview(session_factory, log, sandboxes, who)
    sandbox = await sandboxes.connect(str(job_id))
    assert sandbox is not None
    await sandbox.destroy()

    assert await pause_idle_previews(session_factory, sandboxes, idle_for=IDLE, now=utcnow() + IDLE * 2) == [job_id]

    assert (await job_row(session_factory, job_id)).preview_state == 'expired'
