"""What a founder spends (BU-2), where they look: the dashboard, the project page and the build page.

Usage is arranged through the metering code itself (`core.metering.record_usage`, what every model call
writes); the build page's live totals come from the `budget.updated` events the pipeline appends.

The founder's period started two days and an hour ago, so it has three days so far, today the third:
  PawBook   yesterday  30,000 in + 1,200 out (Sonnet: $0.108)
  PawBook   today       8,000 in + 2,000 out ($0.054)      → PawBook 41,200 tokens, $0.16
  CatCafe   today     500,000 in + 8,000 out ($1.62)       → CatCafe 508,000 tokens, $1.62
Period: 549,200 tokens ($1.78) of 60,000,000 ($30.00); today 518,000 of (60,000,000 − 31,200) // 28 days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core.events import BudgetUpdated
from core.metering import record_usage
from core.models import BuildJob, Project
from core.models import User as Account
from core.ports import Usage
from core.services import Services
from tests.ui.conftest import log_out, sign_up

MODEL = 'claude-sonnet-4-5'
DAILY_TOKENS = (60_000_000 - 31_200) // 28


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The build rows are written by the test: no worker of the app may pick them up.
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')


@dataclass
class Arranged:
    paw: Project
    cat: Project
    job: BuildJob


def services() -> Services:
    return app.state.services


async def spend(db, owner: Account, project: Project, job: BuildJob | None, at: datetime, used: Usage) -> None:  # type: ignore[no-untyped-def]
    async with db() as session:
        await record_usage(session, user_id=owner.id, project_id=project.id, job_id=job.id if job else None,
                           role='builder', model=MODEL, provider='anthropic', usage=used, at=at)  # fmt: skip
        await session.commit()


async def founder_who_spent(user: User, db, email: str = 'ada@example.com') -> Arranged:  # type: ignore[no-untyped-def]
    await sign_up(user, email)
    now = datetime.now(UTC)
    async with db() as session:
        owner = (await session.exec(select(Account).where(Account.email == email))).one()
        owner.period_started_at = now - timedelta(days=2, hours=1)
        paw = Project(owner_id=owner.id, title='PawBook', idea='Online booking for dog groomers')
        cat = Project(owner_id=owner.id, title='CatCafe', idea='Table reservations for a cat cafe')
        session.add_all([paw, cat])
        await session.flush()
        job = BuildJob(project_id=paw.id, user_id=owner.id, state='CODE', started_at=now, model=MODEL,
                       input_tokens=38_000, output_tokens=3_200, cost_microdollars=162_000)  # fmt: skip
        session.add(job)
        await session.commit()
        for row in (owner, paw, cat, job):
            await session.refresh(row)
    await spend(db, owner, paw, job, now - timedelta(days=1), Usage(30_000, 1_200))
    await spend(db, owner, paw, job, now, Usage(8_000, 2_000))
    await spend(db, owner, cat, None, now, Usage(500_000, 8_000))
    return Arranged(paw, cat, job)


async def test_dashboard_shows_the_period_and_today_for_all_projects(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await founder_who_spent(user, db)
    await user.open('/')
    with user.scope(marker='spending'):
        await user.should_see('Spending')
        await user.should_see('This period: 549,200 tokens ($1.78) of 60,000,000 tokens ($30.00)')
        await user.should_see(f'Today: 518,000 of {DAILY_TOKENS:,} tokens')
        await user.should_see('Renews ')
    chart = user.find(marker='spend-chart').elements.pop()
    bars = [el for el in chart.descendants() if el.props.get('role') == 'listitem']
    assert [bar.props['title'].split(': ', 1)[1] for bar in bars] == [
        '0 tokens, $0.00',
        '31,200 tokens, $0.11',
        '518,000 tokens, $1.67',
    ]
    today = user.find(marker='spend-bar-today').elements.pop()
    assert today is bars[-1] and 'bg-primary' in today.classes
    assert today.style['height'] == 'max(100%, 1px)' and bars[1].style['height'] == 'max(6%, 1px)'


async def test_project_page_counts_only_that_project(user: User, db) -> None:  # type: ignore[no-untyped-def]
    arranged = await founder_who_spent(user, db)
    await user.open(f'/projects/{arranged.paw.id}')
    with user.scope(marker='project-spending'):
        await user.should_see('Spent on this project this period')
        await user.should_see('This period: 41,200 tokens ($0.16) of 60,000,000 tokens')
        await user.should_see(f'Today, all your projects: 518,000 of {DAILY_TOKENS:,} tokens')
        await user.should_see('10,000 tokens, $0.05')  # PawBook's bar for today
        await user.should_not_see('549,200')
        await user.should_not_see('508,000')
    await user.open(f'/projects/{arranged.cat.id}')
    await user.should_see('This period: 508,000 tokens ($1.62)')


async def test_build_page_shows_the_build_so_far_and_follows_the_pipeline(user: User, db) -> None:  # type: ignore[no-untyped-def]
    arranged = await founder_who_spent(user, db)
    await user.open(f'/projects/{arranged.paw.id}/build')
    with user.scope(marker='budget-meter'):
        await user.should_see('This build so far: 41,200 tokens · $0.16')
        await user.should_see(f'Model: {MODEL}')
    # The pipeline's next model call: the event carries the build's running totals.
    await services().events.append(
        BudgetUpdated(job_id=arranged.job.id, input_tokens=40_000, output_tokens=5_000, cost_microdollars=195_000)
    )
    await user.should_see('This build so far: 45,000 tokens · $0.20')
    await user.should_not_see('41,200 tokens')


async def test_build_page_names_the_default_model_before_the_build_starts(user: User, db) -> None:  # type: ignore[no-untyped-def]
    arranged = await founder_who_spent(user, db)
    async with db() as session:
        queued = BuildJob(project_id=arranged.cat.id, user_id=arranged.cat.owner_id)
        session.add(queued)
        await session.commit()
    await user.open(f'/builds/{queued.id}')
    await user.should_see(marker='budget-meter')  # a queued build's page finishes after its queue position is read
    with user.scope(marker='budget-meter'):
        await user.should_see('This build so far: 0 tokens · $0.00')
        await user.should_see(f'Model: {services().model}')


async def test_another_founder_never_sees_these_numbers(user: User, db) -> None:  # type: ignore[no-untyped-def]
    arranged = await founder_who_spent(user, db)
    await log_out(user)
    await sign_up(user, 'mallory@example.com')
    with user.scope(marker='spending'):
        await user.should_see('This period: 0 tokens ($0.00)')
        await user.should_see('Today: 0 of')
    for path in (f'/projects/{arranged.paw.id}', f'/projects/{arranged.paw.id}/build', f'/builds/{arranged.job.id}'):
        await user.open(path)
        await user.should_see('not found')
        for figure in ('41,200', '549,200', '518,000', MODEL):
            await user.should_not_see(figure)
        await user.should_not_see(marker='budget-meter')
        await user.should_not_see(marker='spend-chart')
    await user.open(f'/builds/{uuid.uuid4()}')
    await user.should_not_see(marker='budget-meter')
