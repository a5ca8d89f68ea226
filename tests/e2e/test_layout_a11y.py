"""Every journey page in a real Chromium against `python main.py`, at 390 px and 1280 px light, 1280 px dark (issue 25,
items 6, 8 and 10): nothing scrolls sideways, no text is cut, axe-core finds no serious or critical violation;
the header folds its links into a menu on a phone; a finished build keeps its docs in view; the Narrow hint does
not cover its own error; and the second half of the journey works from the keyboard alone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page, expect
from playwright.async_api import Error as PlaywrightError
from sqlmodel import select

from core.journey import flow, interview, onboarding, projects
from core.models import User
from core.services import Services, build_services
from jobs.demo import default_answers, founder_flow
from tests.e2e.a11y import DESKTOP, PHONE, axe_violations, describe, layout_problems
from tests.e2e.conftest import LiveApp, free_port, start_app, stop_app
from tests.e2e.test_build_live import IDEA, app_settings, sign_up

pytestmark = pytest.mark.browser
EMAIL = 'layout@example.com'
LONG = {'timeout': 120_000}  # a whole offline build on a busy machine
# A long title is what got cut to "Rental …" on the dashboard.
LONG_IDEA = 'Rental marketplace for camping gear where outdoor families lend tents, stoves and kayaks to neighbours'


@dataclass
class Seeded:
    app: LiveApp
    services: Services
    fresh: uuid.UUID  # just created: the interview
    briefed: uuid.UUID  # brief written, Gate 1 pending
    planned: uuid.UUID  # plan chosen: the plan page, then a finished build


async def _owner(services: Services) -> User:
    async with services.sessions() as session:
        return (await session.exec(select(User).where(User.email == EMAIL))).one()


async def _briefed(services: Services, user: User, idea: str) -> uuid.UUID:
    """A project whose brief is written and whose direction gate waits for the founder (the steps of the demo)."""
    async with services.sessions() as session:
        project = await projects.create_project(session, user=user, idea=idea)
        llm = services.llm_for(user.id, project.id)
        first = await onboarding.start_onboarding(session, user=user, project_id=project.id, llm=llm)
        for question in first.questions:
            await interview.save_answer(
                session, user=user, project_id=project.id, kind='onboarding', key=question['key'], text='Yes'
            )
        await onboarding.complete_onboarding(session, user=user, project_id=project.id)
        for key, text in default_answers(idea).items():
            await interview.save_answer(
                session, user=user, project_id=project.id, kind='understanding', key=key, text=text
            )
        await interview.complete_interview(session, user=user, project_id=project.id)
        await flow.generate_brief(session, user=user, project_id=project.id, llm=llm)
        return project.id


@pytest.fixture
async def seeded(browser: Browser, tmp_path) -> AsyncIterator[Seeded]:  # type: ignore[no-untyped-def]
    app = start_app(tmp_path / 'data', free_port())
    services = build_services(app_settings(app))
    try:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_up(page, app, EMAIL)
        await page.close()
        user = await _owner(services)
        async with services.sessions() as session:
            fresh = (await projects.create_project(session, user=user, idea=IDEA)).id
        briefed = await _briefed(services, user, IDEA)
        _, planned = await founder_flow(services, LONG_IDEA, user=user)
        yield Seeded(app, services, fresh, briefed, planned)
    finally:
        await services.close()
        stop_app(app)


def journey_pages(s: Seeded) -> dict[str, tuple[str, str | re.Pattern[str]]]:
    """Page name → (path, a text that shows once it has drawn)."""
    return {
        'login': ('/login', 'Log in'),
        'signup': ('/signup', 'Create your account'),
        'dashboard': ('/', 'Your projects'),
        'new project': ('/projects/new', 'What do you want to build?'),
        'interview': (f'/projects/{s.fresh}/interview', re.compile(r'Question \d+ of \d+')),
        'brief': (f'/projects/{s.briefed}/brief', 'Decide the direction'),
        'plan': (f'/projects/{s.planned}/plan', 'Choose how to build it'),
        'build': (f'/projects/{s.planned}/build', re.compile('is ready')),
        'project': (f'/projects/{s.planned}', 'Timeline'),
    }


async def check_page(page: Page, url: str, ready: str | re.Pattern[str]) -> list[str]:
    try:
        await page.goto(url)
    except PlaywrightError as aborted:  # the previous page's own navigation (a socket reconnect) can abort it
        if 'ERR_ABORTED' not in str(aborted):
            raise
        await page.goto(url)
    await expect(page.get_by_text(ready).first).to_be_visible(**LONG)
    await page.wait_for_timeout(300)  # late-drawn parts (fonts, Tailwind's classes) settle
    return await layout_problems(page) + describe(await axe_violations(page))


async def finish_build(page: Page, s: Seeded) -> None:
    """The planned project's build, started from its plan page and run to the ready app."""
    await page.goto(f'{s.app.url}/projects/{s.planned}/plan')
    await page.get_by_role('button', name='Build', exact=True).click()
    await expect(page.get_by_text('is ready').first).to_be_visible(**LONG)


# One scheme per test, so the two halves run on different workers (this was the suite's longest test).
@pytest.mark.parametrize('dark', [False, True], ids=['light', 'dark'])
async def test_journey_pages_fit_phone_and_desktop_and_pass_axe(
    seeded: Seeded, browser: Browser, tmp_path, dark: bool
) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await sign_up_again(page, seeded)
    await finish_build(page, seeded)
    if dark:
        await page.goto(seeded.app.url)
        await page.get_by_role('button', name='Toggle dark mode').click()
        await expect(page.locator('body.body--dark')).to_have_count(1)
    found: dict[str, list[str]] = {}
    for name, (path, ready) in journey_pages(seeded).items():
        # the layout does not change with the scheme: dark is checked at one width, for its colours
        for viewport in (DESKTOP,) if dark else (PHONE, DESKTOP):
            await page.set_viewport_size(viewport)
            problems = await check_page(page, seeded.app.url + path, ready)
            shot = f'{name.replace(" ", "-")}-{viewport["width"]}-{"dark" if dark else "light"}.png'
            await page.screenshot(path=str(tmp_path / shot), full_page=True)
            if problems:
                found[shot] = problems
    assert not found, '\n'.join(f'{shot}: {p}' for shot, problems in found.items() for p in problems)
    await context.close()


async def sign_up_again(page: Page, s: Seeded) -> None:
    """Logs the seeded founder in on this context (the fixture signed up on its own page)."""
    await page.goto(f'{s.app.url}/login')
    await page.get_by_label('Email').fill(EMAIL)
    await page.get_by_label('Password').fill('correct horse battery')
    await page.get_by_label('Password').press('Enter')
    await expect(page.get_by_text('Your projects')).to_be_visible(**LONG)
