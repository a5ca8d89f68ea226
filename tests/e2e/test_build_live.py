"""The live build page in a real Chromium against `python main.py` (UI-1 … UI-8, B-6).

1. A recorded build (written to the app's database before the page opens, so the page replays it):
   three panels side by side at 1280 px, stacked with the docs folded away at phone width, and the
   docs' Markdown sanitised in the browser.
2. A real build with the offline model, started from the page: narration, a screenshot, docs, the
   Kanban moving, and finally the running app inside the preview iframe — all pushed by the server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.notify_redis import RedisNotifier
from core.config import Settings
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import Narration, SnapshotUpdated, StageChanged, ToolCalled, ToolResult
from core.models import BuildJob, Project, User
from core.services import Services, build_services
from tests.e2e.conftest import LiveApp, free_port, start_app, stop_app
from tests.fixtures import recorded_build as rec
from tests.services import require_redis
from ui.components.feed_log import BLOCK, DRAWN

pytestmark = pytest.mark.browser
PASSWORD = 'correct horse battery'
# The recorded blob URLs do not exist in this app's store: the newest screenshot is an inline image instead.
SHOT = (
    'data:image/svg+xml;utf8,<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="800">'
    '<rect width="1280" height="800" fill="%234f46e5"/></svg>'
)
IDEA = 'A booking tool for dog groomers so owners can book a grooming slot online'


def app_settings(app: LiveApp) -> Settings:
    return Settings(
        DATA_DIR=app.data_dir,
        DATABASE_URL=None,
        REDIS_URL=None,
        ANTHROPIC_API_KEY=None,
        OPENAI_BASE_URL=None,
        ENV='test',
        OFFLINE_PACE_SECONDS=0,
    )


async def sign_up(page: Page, app: LiveApp, email: str) -> None:
    await page.goto(f'{app.url}/signup')
    await page.get_by_label('Email').fill(email)
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Create account').click()
    await expect(page.get_by_text('Your projects')).to_be_visible()


@asynccontextmanager
async def app_database(app: LiveApp) -> AsyncIterator:  # type: ignore[type-arg]
    engine = make_engine(app_settings(app).database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def new_build(app: LiveApp, email: str) -> uuid.UUID:
    """A project of `email` with a build in CHECKS, written straight into the app's database."""
    async with app_database(app) as sessions, sessions() as session:
        owner = (await session.exec(select(User).where(User.email == email))).one()
        project = Project(owner_id=owner.id, title='PawBook', idea=IDEA, stage='building')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=owner.id, state='CHECKS', started_at=datetime.now(UTC))
        session.add(job)
        await session.commit()
        return job.id


async def recorded_build(app: LiveApp, email: str) -> uuid.UUID:
    """`new_build` with its recorded events."""
    job_id = await new_build(app, email)
    async with app_database(app) as sessions:
        # The app is another process: these events are read by its replay, not announced to it.
        shot = SnapshotUpdated(job_id=job_id, url=SHOT, key='screenshots/inline.svg', phase='Groomer dashboard')
        await EventLog(sessions, MemoryNotifier()).append_many([*rec.opening(job_id), *rec.middle(job_id), shot])
    return job_id


async def test_three_panels_on_desktop_stacked_on_phone_and_docs_sanitised(
    live_app: LiveApp, browser: Browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={'width': 1280, 'height': 900})
    dialogs: list[str] = []
    page.on('dialog', lambda d: (dialogs.append(d.message), d.dismiss()))
    await sign_up(page, live_app, 'ada@example.com')
    job_id = await recorded_build(live_app, 'ada@example.com')

    await page.goto(f'{live_app.url}/builds/{job_id}')
    await expect(page.get_by_text("I'm setting up the skeleton of PawBook.")).to_be_visible()
    await expect(page.locator('.live-snapshot-image img')).to_have_attribute('src', SHOT)
    await expect(page.locator('.kanban-done').get_by_text('Groomer dashboard')).to_be_visible()
    await expect(page.locator('.docs-body').filter(has_text='Can I cancel?')).to_be_visible()
    feed, shot, docs = [
        await page.locator(c).first.bounding_box() for c in ('.activity-feed', '.live-snapshot', '.docs-panel')
    ]
    assert feed['x'] < shot['x'] < docs['x'], (feed, shot, docs)  # left, centre, right
    assert abs(feed['y'] - shot['y']) < 40 and abs(shot['y'] - docs['y']) < 80
    # Beside the other panels the entries scroll in a box of fixed height: a new one moves nothing else.
    entries = await page.locator('.cf-feed-box').bounding_box()
    assert entries['height'] == 512, entries
    contain = 'b => getComputedStyle(b).contain'  # the box is where a new entry's layout starts and ends
    assert await page.locator('.cf-feed-box').evaluate(contain) == 'strict'
    await page.screenshot(path=str(tmp_path / 'build-desktop.png'), full_page=True)

    # The clocks count in the browser, with no message from the server.
    elapsed = page.get_by_text(re.compile(r'^Elapsed \d'))
    first = await elapsed.inner_text()
    await expect(elapsed).not_to_have_text(first, timeout=5_000)

    # The feature list's raw HTML was sanitised: no script ran, no handler attribute survived.
    assert await page.locator('.docs-body img[onerror]').count() == 0
    assert await page.locator('.docs-body script').count() == 0
    assert dialogs == []

    await page.set_viewport_size({'width': 600, 'height': 900})
    await page.reload()
    await expect(page.get_by_text("I'm setting up the skeleton of PawBook.")).to_be_visible()
    await expect(page.locator('.docs-panel')).to_be_hidden()  # folded away on a phone
    shot = await page.locator('.live-snapshot').bounding_box()
    feed = await page.locator('.activity-feed').bounding_box()
    toggle = await page.get_by_role('button', name='Documentation').bounding_box()
    assert shot['y'] < feed['y'] < toggle['y'], (shot, feed, toggle)  # snapshot, then activity, then docs
    assert await page.locator('.cf-feed-box').evaluate(contain) == 'content'  # grows with its entries here
    await page.get_by_role('button', name='Documentation').click()
    await expect(page.locator('.docs-panel')).to_be_visible()
    await page.screenshot(path=str(tmp_path / 'build-phone.png'), full_page=True)


@pytest.fixture
async def redis_app(tmp_path) -> AsyncIterator[tuple[LiveApp, EventLog]]:  # type: ignore[no-untyped-def]
    """An app that hears of the events this test appends (through Redis), and the log to append them with."""
    app = start_app(tmp_path / 'data', free_port(), {'REDIS_URL': require_redis()})
    notifier = RedisNotifier(require_redis(), client_name='e2e-live')
    try:
        async with app_database(app) as sessions:
            yield app, EventLog(sessions, notifier)
    finally:
        await notifier.close()
        stop_app(app)


async def test_feed_follows_the_newest_entry_until_the_founder_scrolls_back(browser: Browser, redis_app) -> None:  # type: ignore[no-untyped-def]
    app, log = redis_app
    page = await browser.new_page(viewport={'width': 1280, 'height': 1400})  # the whole box in view
    await sign_up(page, app, 'ada@example.com')
    job_id = await recorded_build(app, 'ada@example.com')
    await log.append_many([Narration(job_id=job_id, text=f'Step {n} done') for n in range(1, 41)])
    await page.goto(f'{app.url}/builds/{job_id}')
    box = page.locator('.cf-feed-box')
    await expect(box.get_by_text('Step 40 done')).to_be_in_viewport()  # replayed, scrolled to the end
    assert await box.evaluate('b => b.scrollHeight > b.clientHeight')  # it does scroll
    # Older blocks are skipped while out of view; the newest (40 entries, more than the box shows) never are.
    visibility = 'b => [...b.firstElementChild.children].map(e => getComputedStyle(e).contentVisibility)'
    blocks = await box.evaluate(visibility)
    assert len(blocks) > DRAWN and set(blocks[:-DRAWN]) == {'auto'} and set(blocks[-DRAWN:]) == {'visible'}
    # A sentence shows its time only when a new minute begins; the rest have no time box at all.
    after = "b => [...b.querySelectorAll('div[data-at]')].map(e => getComputedStyle(e, '::after').content)"
    times = await box.evaluate(after)
    minutes = [time for time in times if time != 'none']
    assert times[0] != 'none' and len(minutes) == len(set(minutes)) < len(times) - 30, times
    await log.append(Narration(job_id=job_id, text='Step 41 done'))
    await expect(box.get_by_text('Step 41 done')).to_be_in_viewport()  # live, still followed
    for n in range(1, BLOCK + 1):  # live entries open one new block: the one it pushes out of the newest goes
        await log.append(Narration(job_id=job_id, text=f'Live step {n} done'))
    await expect(box.get_by_text(f'Live step {BLOCK} done')).to_be_in_viewport()
    grown = await box.evaluate(visibility)
    assert len(grown) == len(blocks) + 1
    assert set(grown[:-DRAWN]) == {'auto'} and set(grown[-DRAWN:]) == {'visible'}

    # Scrolling written so that it reads the same whichever end the box counts its scroll position from.
    to_start, to_end = 'b => { b.scrollTop = -b.scrollHeight; }', 'b => { b.scrollTop = b.scrollHeight; }'
    first = box.get_by_text("I'm setting up the skeleton of PawBook.")
    await box.evaluate(to_start)  # a look back, then down to the end again
    await expect(first).to_be_in_viewport()
    await box.evaluate(to_end)
    await log.append(Narration(job_id=job_id, text='Step 42 done'))
    await expect(box.get_by_text('Step 42 done')).to_be_in_viewport()  # followed again

    await box.evaluate(to_start)  # the founder scrolls back to read
    await expect(first).to_be_in_viewport()
    read_at = (await first.bounding_box())['y']  # type: ignore[index]
    await log.append(Narration(job_id=job_id, text='Step 43 done'))
    await expect(box.get_by_text('Step 43 done')).to_have_count(1)
    await page.wait_for_timeout(200)  # a frame or two: a follow would have scrolled by now
    await expect(box.get_by_text('Step 43 done')).not_to_be_in_viewport()  # left where they were reading
    assert (await first.bounding_box())['y'] == read_at  # type: ignore[index]


async def test_feed_entries_skip_tailwinds_page_walk_and_new_classes_still_get_styles(
    browser: Browser, redis_app
) -> None:  # type: ignore[no-untyped-def]
    app, log = redis_app
    page = await browser.new_page(viewport={'width': 1280, 'height': 900})
    await sign_up(page, app, 'ada@example.com')
    job_id = await new_build(app, 'ada@example.com')
    await page.goto(f'{app.url}/builds/{job_id}')
    await expect(page.get_by_text('Updates appear here as I work.')).to_be_visible()
    # An observer with the signature of Tailwind's: class attributes, the whole document.
    await page.evaluate("""() => { window.scans = 0; new MutationObserver(() => { window.scans++; })
        .observe(document.documentElement, {attributes: true, attributeFilter: ['class'],
                                            childList: true, subtree: true}); }""")
    await log.append(Narration(job_id=job_id, text='Step 1 done'))
    await log.append(Narration(job_id=job_id, text='Step 2 done'))
    await expect(page.get_by_text('Step 2 done')).to_be_visible()
    scans = await page.evaluate('window.scans')
    await log.append(Narration(job_id=job_id, text='Step 3 done'))
    await log.append(ToolCalled(job_id=job_id, call_id='c9', tool='write_file', label='Wrote app.py',
                                input={'path': 'app.py'}))  # fmt: skip
    await expect(page.get_by_text('Step 3 done')).to_be_visible()
    await expect(page.get_by_text('Wrote app.py')).to_be_attached()
    assert await page.evaluate('window.scans') == scans  # classless entries: no walk of the page
    await page.get_by_text('Verbose').click()
    await page.get_by_text('Wrote app.py').click()
    body = page.locator('details [data-call-body]').first
    await expect(body).to_be_visible()
    await expect(body).to_have_css('padding-left', '28px')  # styled by the feed's sheet, without a class
    scans = await page.evaluate('window.scans')  # the switch's own classes changed

    # An element that brings a utility the page had not used yet (pl-11) still reaches Tailwind: it is generated.
    await page.evaluate('document.body.insertAdjacentHTML("beforeend", \'<div id="probe" class="pl-11">x</div>\')')
    await expect(page.locator('#probe')).to_have_css('padding-left', '44px')
    assert await page.evaluate('window.scans') > scans


async def test_a_tool_calls_output_shows_in_its_details_and_the_feed_survives_the_move_into_history(
    browser: Browser, redis_app
) -> None:  # type: ignore[no-untyped-def]
    """Entries come as messages to feed_log.js, which draws them; a change to an older one (the call's output)
    must show, and when the build ends and the panels move under "Build history", the component drawn
    afresh there must show every entry, those that came live included."""
    app, log = redis_app
    page = await browser.new_page(viewport={'width': 1280, 'height': 1400})
    await sign_up(page, app, 'ada@example.com')
    job_id = await new_build(app, 'ada@example.com')
    call = ToolCalled(job_id=job_id, call_id='c1', tool='run', label='Ran the tests', input={'cmd': 'pytest'})
    await page.goto(f'{app.url}/builds/{job_id}')
    await expect(page.get_by_text('Updates appear here as I work.')).to_be_visible()
    markup = '<img src=x onerror="window.pwned = true"> & <b>bold</b>'  # text to the feed, never markup
    await log.append_many([call, *(Narration(job_id=job_id, text=f'Step {n} done') for n in range(1, 13))])
    await log.append(Narration(job_id=job_id, text=markup))
    await expect(page.get_by_text('Step 12 done')).to_be_visible()
    await expect(page.locator('.cf-feed').get_by_text(markup)).to_be_visible()
    assert await page.evaluate('window.pwned === undefined && !document.querySelector(".cf-feed img, .cf-feed b")')
    await expect(page.get_by_text('Ran the tests')).to_be_hidden()  # verbose entries wait for the toggle
    await page.get_by_text('Verbose').click()
    await page.get_by_text('Ran the tests').click()  # opened before its output came
    await expect(page.get_by_text('"cmd": "pytest"')).to_be_visible()
    await log.append(ToolResult(job_id=job_id, call_id='c1', tool='run', ok=True, output='3 passed'))
    await expect(page.get_by_text('3 passed')).to_be_visible()  # shown, and the details stayed open
    await page.get_by_text('Verbose').click()
    await expect(page.get_by_text('Ran the tests')).to_be_hidden()

    await log.append(StageChanged(job_id=job_id, from_state='CODE', to_state='FAILED', reason='tests failed'))
    history = page.locator('.q-expansion-item').filter(has_text='Build history')
    await expect(history).to_be_visible()
    if 'q-expansion-item--expanded' not in (await history.get_attribute('class') or ''):  # a failed build's is open
        await page.get_by_text('Build history').click()
    await expect(history).to_have_class(re.compile('q-expansion-item--expanded'))
    feed = page.locator('.cf-feed-box')
    for text in ('Step 1 done', 'Step 12 done', 'The build stopped: tests failed'):
        await expect(feed.get_by_text(text)).to_have_count(1)
    await expect(feed.get_by_text('Ran the tests')).to_be_hidden()  # still not verbose
    await page.get_by_text('Verbose').click()
    await expect(feed.get_by_text('Ran the tests')).to_be_visible()


async def test_the_browser_keeps_what_the_server_keeps_past_the_cap(browser: Browser, redis_app) -> None:  # type: ignore[no-untyped-def]
    app, log = redis_app
    page = await browser.new_page(viewport={'width': 1280, 'height': 900})
    await sign_up(page, app, 'ada@example.com')
    job_id = await new_build(app, 'ada@example.com')
    steps = [Narration(job_id=job_id, text=f'Step {n:04d}') for n in range(1, 451)]
    await log.append_many(steps[:440])
    await page.goto(f'{app.url}/builds/{job_id}')
    await expect(page.get_by_text('Step 0440')).to_be_visible()  # replayed
    for step in steps[440:]:
        await log.append(step)  # live
    await expect(page.get_by_text('Step 0450')).to_be_visible()
    shown = await page.locator('.cf-feed [data-at]').all_text_contents()  # skipped blocks have no innerText
    # At the 401st a quarter of the cap went (300 left), then 49 more came.
    assert shown == [f'Step {n:04d}' for n in range(102, 451)]
    assert await page.locator('.cf-feed [data-at]').first.get_attribute('data-at') != ''  # its minute shows


async def test_a_lost_connection_catches_up_without_losing_or_repeating_an_entry(browser: Browser, redis_app) -> None:  # type: ignore[no-untyped-def]
    """A short drop: the same page gets what it missed (NiceGUI resends its messages; keys keep an entry from
    showing twice). A long one (past the server's 3 s wait): the page reloads and replays the build."""
    app, log = redis_app
    page = await browser.new_page(viewport={'width': 1280, 'height': 1400})
    await sign_up(page, app, 'ada@example.com')
    job_id = await new_build(app, 'ada@example.com')
    await page.goto(f'{app.url}/builds/{job_id}')
    feed = page.locator('.cf-feed')
    await log.append(Narration(job_id=job_id, text='Before the drop'))
    await expect(feed.get_by_text('Before the drop')).to_be_visible()

    await page.evaluate('window.socket.disconnect(); window.samePage = true')
    await log.append_many([Narration(job_id=job_id, text=f'While away {n}') for n in (1, 2, 3)])
    await page.wait_for_timeout(1000)
    await page.evaluate('window.socket.connect()')
    for text in ('Before the drop', 'While away 1', 'While away 3'):
        await expect(feed.get_by_text(text)).to_have_count(1)
    assert await page.evaluate('window.samePage === true')  # caught up without a reload
    await log.append(Narration(job_id=job_id, text='Back live'))
    await expect(feed.get_by_text('Back live')).to_be_visible()

    await page.evaluate('window.socket.disconnect()')
    await log.append(Narration(job_id=job_id, text='While away long'))
    await page.wait_for_timeout(4500)
    await page.evaluate('window.socket.connect()')  # the server gave this page up: it reloads
    await expect(feed.get_by_text('While away long')).to_have_count(1, timeout=15000)
    assert await page.evaluate('window.samePage === undefined')  # a fresh page
    texts = await feed.locator('[data-at]').all_text_contents()
    assert texts.count('Before the drop') == texts.count('While away 2') == texts.count('Back live') == 1


async def plan_selected_project(services: Services, email: str) -> uuid.UUID:
    """Take a new idea of `email` through the journey (offline model) up to a selected plan."""
    from core.journey import flow, gates, interview, onboarding, plans, projects
    from jobs.demo import default_answers

    llm = services.llm
    async with services.sessions() as session:
        user = (await session.exec(select(User).where(User.email == email))).one()
        project = await projects.create_project(session, user=user, idea=IDEA)
        first = await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=llm)
        for question in first.questions:
            await interview.save_answer(
                session,
                user=user,
                project_id=project.id,
                kind='onboarding',
                key=question['key'],
                text='Yes, keep it simple.',
            )
        await onboarding.complete_onboarding(session, user=user, project_id=project.id)
        for key, text in default_answers(IDEA).items():
            await interview.save_answer(
                session, user=user, project_id=project.id, kind='understanding', key=key, text=text
            )
        await interview.complete_interview(session, user=user, project_id=project.id)
        await flow.generate_brief(session, user=user, project_id=project.id, llm=llm)
        gate = await gates.get_pending(session, user=user, project_id=project.id, gate_type='direction')
        await flow.decide_gate(session, user=user, gate_id=gate.id, decision='proceed', reason='Go', llm=llm)
        options = await plans.list_plans(session, user=user, project_id=project.id)
        await plans.select_plan(session, user=user, project_id=project.id, plan_id=options[0].id)
    return project.id


async def test_founder_watches_a_real_offline_build_to_the_running_preview(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Paced so that a founder (and this test) can watch the steps happen before the panels fold away.
    app = start_app(tmp_path / 'data', free_port(), {'OFFLINE_PACE_SECONDS': '0.4'})
    try:
        await watch_a_real_build(app, browser, tmp_path)
    finally:
        stop_app(app)


async def watch_a_real_build(app: LiveApp, browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={'width': 1280, 'height': 900})
    await sign_up(page, app, 'grace@example.com')
    services = build_services(app_settings(app))
    try:
        project_id = await plan_selected_project(services, 'grace@example.com')
    finally:
        await services.close()

    await page.goto(f'{app.url}/projects/{project_id}/build')
    await expect(page.get_by_text('No build yet')).to_be_visible()
    await page.get_by_role('button', name='Start build').click()
    await page.wait_for_url('**/builds/**')
    job_id = page.url.rstrip('/').rsplit('/', 1)[1]

    long = {'timeout': 120_000}
    # While it builds: stage sentences and narration arrive, a phase card moves to "In progress".
    await expect(page.get_by_text('Started writing code')).to_be_visible(**long)
    await expect(page.locator('.kanban-in_progress .q-card').first).to_be_visible(**long)
    await page.screenshot(path=str(tmp_path / 'build-running.png'), full_page=True)

    # Ready: the summary and the running app in the sandboxed frame.
    await expect(page.get_by_text('Your app is ready — v0.1')).to_be_visible(**long)
    frame = page.locator('iframe')
    await expect(frame).to_have_attribute('src', f'/preview/{job_id}/')
    assert await frame.get_attribute('sandbox') == 'allow-scripts allow-forms allow-popups'
    body = page.frame_locator('iframe').locator('body')
    await expect(body).not_to_be_empty(timeout=30_000)  # the generated app answers inside the frame

    # The build's story is folded into "Build history": screenshot, docs, every phase done.
    await page.get_by_text('Build history').click()
    await expect(page.locator('.live-snapshot-image img')).to_have_attribute('src', re.compile(r'\S+'))
    await expect(page.locator('.docs-body').first).not_to_be_empty()
    await expect(page.locator('.kanban-done .q-card').first).to_be_visible()
    assert await page.locator('.kanban-in_progress .q-card').count() == 0
    await page.screenshot(path=str(tmp_path / 'build-ready.png'), full_page=True)
