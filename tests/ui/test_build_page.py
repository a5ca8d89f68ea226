"""The live build page as a founder sees it, fed by a recorded build through the app's own EventLog.

Events appended before the page opens take the replay path; events appended while it is open
take the live path (the app's in-process notifier wakes the page's follow task).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nicegui import app, ui
from nicegui.testing import User
from sqlmodel import select

from core.events import Escalated, Healing, Narration, Sleeping, ToolCalled, ToolResult
from core.models import BuildJob, Project
from core.models import User as Account
from core.services import Services
from tests.fixtures import recorded_build as rec
from tests.ui.conftest import log_out, sign_up
from ui.components import clock
from ui.components.activity_feed import MAX_ENTRIES, ActivityFeed


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The recorded jobs are rows written by the test: no worker of the app may pick them up.
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')


def services() -> Services:
    return app.state.services


async def founder_with_build(user: User, db, *, email: str = 'ada@example.com', **job: Any) -> tuple[Project, BuildJob]:  # type: ignore[no-untyped-def]
    await sign_up(user, email)
    async with db() as session:
        owner = (await session.exec(select(Account).where(Account.email == email))).one()
        project = Project(owner_id=owner.id, title='PawBook', idea='Online booking for dog groomers')
        session.add(project)
        await session.flush()
        values = {'state': 'CODE', 'started_at': datetime.now(UTC) - timedelta(seconds=30), **job}
        build = BuildJob(project_id=project.id, user_id=owner.id, **values)
        session.add(build)
        await session.commit()
        await session.refresh(project)
        await session.refresh(build)
    return project, build


async def test_replayed_build_fills_every_panel(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.opening(job.id) + rec.middle(job.id))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see("I'm setting up the skeleton of PawBook.")  # narration
    await user.should_see('Started writing code')  # a stage change as a sentence
    await user.should_see(marker='snapshot-image')
    await user.should_not_see(marker='snapshot-skeleton')
    assert user.find(marker='snapshot-image').elements.pop().source == rec.SECOND_SNAPSHOT_URL
    for text in ('Overview', 'Features', 'Getting started', 'FAQ'):
        await user.should_see(text)
    with user.scope(marker='kanban-done'):
        for phase in rec.PHASES:
            await user.should_see(phase)
    await user.should_see('Checking')
    await user.should_not_see(marker='healing')  # the fix worked: later stages followed


async def test_live_events_move_the_page_without_reload(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db, state='QUEUED', started_at=None)
    await user.open(f'/builds/{job.id}')
    await user.should_see('Waiting in line')
    await user.should_see(marker='snapshot-skeleton')
    await user.should_see('Updates appear here as I work.')

    await services().events.append_many(rec.opening(job.id))
    await user.should_see('Now the booking page, where owners pick a time.')
    await user.should_see(marker='snapshot-image')
    with user.scope(marker='kanban-in_progress'):
        await user.should_see('Booking page')
    with user.scope(marker='kanban-planned'):
        await user.should_see('Groomer dashboard')

    await services().events.append_many(rec.middle(job.id))
    with user.scope(marker='kanban-done'):
        await user.should_see('Booking page')
        await user.should_see('Groomer dashboard')
    await user.should_see('FAQ')
    await user.should_see('Can I cancel?')


async def test_verbose_toggle_reveals_tool_calls_with_details(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.opening(job.id))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Now the booking page')
    await user.should_not_see('Wrote 47 lines to app/models.py')
    user.find(marker='verbose-toggle').click()
    await user.should_see('Wrote 47 lines to app/models.py')
    await user.should_see('wrote app/models.py (47 lines)')  # the tool's output, inside its expansion
    user.find(marker='verbose-toggle').click()
    await user.should_not_see('Wrote 47 lines to app/models.py')


async def test_auto_fixing_shows_the_attempt(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await user.open(f'/projects/{project.id}/build')
    await services().events.append_many([*rec.opening(job.id), Healing(job_id=job.id, signature='x', attempt=2)])
    await user.should_see('Auto-fixing (attempt 2 of 3)')
    await user.should_see('fixing it automatically (attempt 2 of 3)')


async def test_reassurance_after_two_minutes_of_building(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, _ = await founder_with_build(user, db, started_at=datetime.now(UTC) - timedelta(minutes=3))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Still working — bigger apps take a few minutes.')
    await user.should_not_see('Almost there')


async def test_resting_and_needs_input_cards(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await user.open(f'/projects/{project.id}/build')
    await services().events.append_many(rec.opening(job.id))
    wake = datetime.now(UTC) + timedelta(hours=2)
    await services().events.append(Sleeping(job_id=job.id, wake_at=wake, reason='daily budget'))
    await user.should_see('Resting')
    await user.should_see('Back to work in 1h 5')
    await services().events.append(
        Escalated(
            job_id=job.id,
            escalation_id=uuid.uuid4(),
            problem='The payment provider refuses test keys.',
            tried=['Sandbox keys', 'A mock provider'],
            recommendation='Skip payments for v0.1',
            options=['Skip payments', 'Use a mock'],
        )
    )
    await user.should_see('Needs your input')
    await user.should_see('The payment provider refuses test keys.')
    await user.should_see('Skip payments')
    with user.scope(marker='kanban-blocked'):
        await user.should_see('Booking page')


async def test_ready_build_shows_summary_and_preview_frame(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.opening(job.id) + rec.middle(job.id))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see(marker='cancel-build')
    async with db() as session:
        await rec.ready(services().events, session, job.id)
    await user.should_see('Your app is ready — v0.1')
    await user.should_see('Online booking')  # a feature
    await user.should_see('Flask')  # the stack
    await user.should_see('4m 12s')  # time taken
    await user.should_see('15,456')  # tokens
    frame = user.find(marker='preview-frame').elements.pop()
    assert frame.tag == 'iframe'
    assert frame.props['src'] == f'/preview/{job.id}/'
    assert frame.props['sandbox'] == 'allow-scripts allow-forms allow-popups'
    await user.should_see('Open in new tab')
    await user.should_see(marker='build-history')  # the panels stay, folded away
    await user.should_see(marker='docs-panel')  # except the docs, kept in view under the result
    await user.should_not_see(marker='cancel-build')
    await user.should_see("I'm setting up the skeleton of PawBook.")


async def test_paused_preview_offers_resume_and_explains_expiry(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    async with db() as session:
        await rec.ready(services().events, session, job.id, preview_state='paused')
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Preview paused')
    await user.should_not_see(marker='preview-frame')
    user.find(marker='resume-preview').click()  # no sandbox is left for this recorded build
    await user.should_see('This preview has expired')


async def test_failed_build_is_explained_kindly_with_retry(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.opening(job.id))
    await user.open(f'/builds/{job.id}')
    async with db() as session:
        await rec.failed(services().events, session, job.id)
    await user.should_see('This build did not finish')
    await user.should_see('The app would not start: a library it needs could not be installed.')
    await user.should_see(marker='failure-detail')  # the traceback sits behind this expander
    await user.should_see(marker='retry-build')
    await user.should_see('Error')  # the agent card


async def test_cancel_asks_first_then_cancels(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db, state='QUEUED', started_at=None)
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Waiting in line')  # the page finishes building after its queue position is read
    user.find(marker='cancel-build').click()
    await user.should_see('Cancel this build?')
    user.find(marker='keep-building').click()
    await user.should_see('Waiting in line')
    user.find(marker='cancel-build').click()
    user.find(marker='confirm-cancel').click()
    await user.should_see('This build was cancelled')
    await user.should_see(marker='retry-build')
    async with db() as session:
        assert (await session.get(BuildJob, job.id)).state == 'CANCELLED'


async def test_docs_download_as_markdown(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.opening(job.id) + rec.middle(job.id))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Can I cancel?')
    user.find(marker='download-docs').click()
    response = await user.download.next()
    text = response.text
    assert text.startswith('# PawBook: documentation')
    assert '## Overview' in text and '## FAQ' in text and 'book a grooming slot' in text


async def test_ten_thousand_log_lines_stay_capped(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.log_flood(job.id, 10_000))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('10,000 lines (showing the last 500)')
    log = user.find(marker='build-log').elements.pop()
    assert isinstance(log, ui.log)
    assert len(log.default_slot.children) == 500
    assert log.default_slot.children[-1].text == 'log line 9999'


async def test_feed_keeps_the_newest_entries_at_the_end_and_drops_the_oldest(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    call = ToolCalled(job_id=job.id, call_id='c-old', tool='run', label='Ran the tests', input={})
    steps = [Narration(job_id=job.id, text=f'Step {n:04d} of the build') for n in range(1, 451)]
    await services().events.append_many([call, *steps[:440]])
    await user.open(f'/projects/{project.id}/build')
    late = ToolResult(job_id=job.id, call_id='c-old', tool='run', ok=True, output='3 passed')
    await services().events.append_many([*steps[440:], late])  # live, on top of the replay
    await user.should_see('Step 0450 of the build')
    feed = user.find(marker='activity-feed').elements.pop()
    assert isinstance(feed, ActivityFeed)
    assert feed.calls == {}  # the call went with the oldest entries: its output has nowhere to go
    user.find(marker='verbose-toggle').click()
    await user.should_not_see('3 passed')
    shown = [entry['text'] for entry in feed.entries]
    assert shown[-3:] == ['Step 0448 of the build', 'Step 0449 of the build', 'Step 0450 of the build']
    # Past the cap a quarter of it went at once (~300 left then), not a block at a time (that kept ~400).
    assert MAX_ENTRIES * 3 // 4 < len(shown) < MAX_ENTRIES - 20
    assert shown == sorted(shown)
    await user.should_not_see('Step 0001 of the build')
    # The sentence now first shows its minute, though the one that showed it went with the oldest.
    oldest = feed.entries[0]
    assert oldest['at'] == oldest['title'][:5]


async def test_feed_shows_each_minute_once_and_every_time_in_a_tooltip(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    start = datetime(2026, 12, 1, 9, 41, 5, tzinfo=UTC)
    after = (0, 20, 50, 70, 24 * 3600 + 80)  # the last one a day later, in the same minute of the clock
    steps = [Narration(job_id=job.id, text=f'Step {n}', at=start + timedelta(seconds=s)) for n, s in enumerate(after)]
    await services().events.append_many(steps)
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Step 4')
    feed = user.find(marker='activity-feed').elements.pop()
    assert isinstance(feed, ActivityFeed)
    times = [(entry['at'], entry['title']) for entry in feed.entries]
    assert times == [
        ('09:41', '09:41:05'),
        ('', '09:41:25'),
        ('', '09:41:55'),
        ('09:42', '09:42:15'),
        ('09:42', '09:42:25'),  # a day later
    ]


async def test_clocks_show_the_time_building_and_left_to_rest(user: User, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    started = datetime.now(UTC) - timedelta(minutes=3, seconds=5)
    project, job = await founder_with_build(user, db, started_at=started)
    # The clock reads a fixed "now", so however long the setup took the page shows 3m 05s.
    monkeypatch.setattr(clock, 'now', lambda: started + timedelta(minutes=3, seconds=5))
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('Elapsed 3m 05s')  # counted on in the browser (ui/components/clock.js)
    await user.should_see('I am working on your app for 3m 05s')


async def test_reload_replays_everything_from_the_start(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await user.open(f'/projects/{project.id}/build')
    await services().events.append_many(rec.opening(job.id))
    await user.should_see('Now the booking page')
    await user.open(f'/projects/{project.id}/build')  # a new client: replays from seq 0
    await user.should_see("I'm setting up the skeleton of PawBook.")
    await user.should_see('Now the booking page')
    with user.scope(marker='kanban-done'):
        await user.should_see('Data model')


async def test_no_build_yet_links_back_to_the_project(user: User, db) -> None:  # type: ignore[no-untyped-def]
    await sign_up(user, 'ada@example.com')
    async with db() as session:
        owner = (await session.exec(select(Account).where(Account.email == 'ada@example.com'))).one()
        project = Project(owner_id=owner.id, title='PawBook', idea='Online booking for dog groomers')
        session.add(project)
        await session.commit()
        await session.refresh(project)
    await user.open(f'/projects/{project.id}/build')
    await user.should_see('No build yet', retries=50)
    user.find(marker='start-build').click()
    await user.should_see('Choose an execution plan first', retries=50)
    user.find(marker='back-to-project').click()
    await user.should_see('Online booking for dog groomers', retries=50)


async def test_another_founder_sees_not_found(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project, job = await founder_with_build(user, db)
    await services().events.append_many(rec.opening(job.id))
    await log_out(user)
    await sign_up(user, 'mallory@example.com')
    for path in (f'/projects/{project.id}/build', f'/builds/{job.id}', f'/builds/{uuid.uuid4()}', '/builds/nonsense'):
        await user.open(path)
        await user.should_see('not found')
        await user.should_not_see('PawBook')
        await user.should_not_see("I'm setting up")
