"""BU-3…BU-5: a build that spends today's allowance sleeps (snapshot, no worker slot), and the real
scheduler wakes it at the next daily refresh; it then reaches READY with no founder action."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import urllib.request
import uuid
from contextlib import aclosing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.builds import jobs as builds
from core.events import LogLines, Sleeping, StageChanged, Waking
from core.models import BuildJob, ProjectSnapshot, Tier, User, utcnow
from core.services import Services, build_services
from jobs import worker
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, events_until_done, make_settings
from tests.builds.test_resume_after_crash import start_worker, wait_for
from tests.services import require_chromium

DAILY_TOKENS = 60_000  # an offline build reports ~180k tokens: it needs three pacing days
TWO_DAYS_TOKENS = 120_000  # one sleep and one wake: enough where the test is about who wakes it
DAY_SECONDS = 3


async def paced_founder(
    svc: Services, day_seconds: int = DAY_SECONDS, daily_tokens: int = DAILY_TOKENS
) -> tuple[User, uuid.UUID]:
    """A founder whose pacing day lasts `day_seconds`, starting now, with `daily_tokens` a day."""
    async with svc.sessions() as session:
        tier = Tier(name='paced', label='Paced', token_allowance=daily_tokens * 30, daily_token_cap=daily_tokens,
                    day_seconds=day_seconds)  # fmt: skip
        session.add(tier)
        await session.commit()
    user, project_id = await founder_flow(svc, IDEA, MUST_HAVE)
    async with svc.sessions() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.tier, row.period_started_at = 'paced', utcnow()
        await session.commit()
        await session.refresh(row)
    return row, project_id


async def start(svc: Services, user: User, project_id: uuid.UUID) -> BuildJob:
    async with svc.sessions() as session:
        return await builds.start_build(session, user=user, project_id=project_id, queue=svc.queue, events=svc.events)


# SQLite here; the same sleep and wake on Postgres, across two worker processes, is test_scheduler_leader's
@pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)
async def test_a_build_sleeps_when_todays_budget_is_spent_and_wakes_on_its_own(services: Services) -> None:
    user, project_id = await paced_founder(services)
    await worker.start(services)
    job = await start(services, user, project_id)
    slots_while_asleep: list[int] = []
    events = []
    async with asyncio.timeout(60), aclosing(services.events.follow(job.id, until_done=True)) as stream:
        async for event in stream:
            events.append(event)
            if isinstance(event, Sleeping):  # the run that went to sleep gives its worker slot back
                await wait_for(lambda: _no_build_running(services), timeout=10)
                slots_while_asleep.append(services.queue.running)
                if len(slots_while_asleep) == 1:  # the sandbox is lost while asleep: the wake restores the files
                    shutil.rmtree(services.settings.data_dir / 'workspaces' / str(job.id))

    sleeps = [e for e in events if isinstance(e, Sleeping)]
    wakes = [e for e in events if isinstance(e, Waking)]
    assert len(sleeps) >= 1 and len(wakes) == len(sleeps) and set(slots_while_asleep) == {0}
    for slept, woke in zip(sleeps, wakes, strict=True):
        # woken by the scheduler at the refresh, not before (on a slow machine the day can end between the
        # decision to sleep and the event's timestamp, so the wake time need not follow the event's)
        assert slept.wake_at <= woke.at
        assert 'tokens' in slept.done_today and slept.reason
    states = [e.to_state for e in events if isinstance(e, StageChanged)]
    assert states[-1] == 'READY' and 'SLEEPING' in states
    assert states[states.index('SLEEPING') + 1] == 'QUEUED'  # woken back into the queue, then resumed
    async with services.sessions() as session:
        reasons = await session.exec(select(ProjectSnapshot.reason).where(ProjectSnapshot.project_id == project_id))
        assert 'sleep' in reasons.all()  # the files were saved before resting
        final = await session.get(BuildJob, job.id)
        spent = (await session.execute(text('select sum(input_tokens + output_tokens) from usage_records'))).scalar()
    assert final is not None and final.wake_at is None and final.model == 'offline-1'
    restored = [line for e in events if isinstance(e, LogLines) for line in e.lines if 'Restored the project' in line]
    assert len(restored) == 1 and '(sleep)' in restored[0]  # the lost workspace came back from the sleep snapshot
    home = await asyncio.to_thread(lambda: urllib.request.urlopen(final.preview_url, timeout=5).read().decode())
    assert 'Online Booking Calendar' in home
    assert spent >= DAILY_TOKENS  # more than one day's worth: the build really spanned days


async def _no_build_running(services: Services) -> bool:
    return services.queue.running == 0


async def test_a_wake_due_while_the_app_was_down_runs_once_at_the_next_start(tmp_path: Path) -> None:
    require_chromium()
    settings = make_settings(tmp_path / 'data')  # this process only queues and watches: its queue never starts
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    svc = build_services(settings)
    await svc.start()
    user, project_id = await paced_founder(svc, daily_tokens=TWO_DAYS_TOKENS)
    job = await start(svc, user, project_id)
    first = start_worker(settings.data_dir, pace=0)

    async def sleeping() -> BuildJob | None:
        async with svc.sessions() as session:
            row = await session.get(BuildJob, job.id, populate_existing=True)
            planned = (
                await session.execute(text("select count(*) from scheduler_jobs where id like 'wake:%'"))
            ).scalar()
        return row if row is not None and row.state == 'SLEEPING' and planned else None

    try:
        asleep = await wait_for(sleeping, timeout=60)  # the wake-up is in the job store on disk
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert asleep.wake_at is not None
    await asyncio.sleep(max((asleep.wake_at - utcnow()).total_seconds(), 0) + 0.5)  # the wake is missed

    second = start_worker(settings.data_dir, pace=0)
    try:
        events = await asyncio.wait_for(events_until_done(svc, job.id, timeout=90), 95)
    finally:
        second.terminate()
        second.wait(timeout=15)
    assert events[-1].type == 'build.done' and events[-1].state == 'READY'  # type: ignore[attr-defined]
    sleeps = [e for e in events if isinstance(e, Sleeping)]
    wakes = [e for e in events if isinstance(e, Waking)]
    assert len(wakes) == len(sleeps) >= 1  # every sleep woken exactly once, the missed one included
    await svc.close()
