"""A founder signs up, logs out (the browser's other tab follows) and back in, in a real Chromium; the session
survives a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import LiveApp, free_port, start_app, stop_app

pytestmark = pytest.mark.browser
PASSWORD = 'correct horse battery'


async def test_sign_up_see_dashboard_log_out_and_back_in(live_app: LiveApp, browser: Browser, tmp_path: Path) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f'{live_app.url}/')  # a fresh install: nobody to log in as, so the door is sign-up
    await expect(page.get_by_role('heading', name='Create your account')).to_be_visible()
    await page.get_by_label('Email').fill('ada@example.com')
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Create account').click()
    await expect(page.get_by_text('No projects yet')).to_be_visible()
    await page.screenshot(path=str(tmp_path / 'dashboard.png'))

    other_tab = await context.new_page()  # the same browser: one session
    await other_tab.goto(f'{live_app.url}/projects/new')
    await expect(other_tab.get_by_text('What do you want to build?')).to_be_visible()
    await page.get_by_role('button').filter(has_text='account_circle').click()
    await page.get_by_text('Log out').click()
    await expect(page.get_by_role('button', name='Log in')).to_be_visible()
    # the other tab follows by itself: nothing of the founder's stays on screen after a logout
    await expect(other_tab.get_by_role('button', name='Log in')).to_be_visible()
    await other_tab.close()
    # a fresh login page: the logout's own announce can reload this tab's page while the test types into it
    await page.goto(f'{live_app.url}/login')
    await page.get_by_label('Email').fill('ada@example.com')
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_label('Password').press('Enter')
    await expect(page.get_by_text('Your projects')).to_be_visible()


async def test_session_and_data_survive_a_restart(browser: Browser, tmp_path: Path) -> None:
    data = tmp_path / 'data'
    app = start_app(data, free_port())
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f'{app.url}/signup')
        await page.get_by_label('Email').fill('grace@example.com')
        await page.get_by_label('Password').fill(PASSWORD)
        await page.get_by_role('button', name='Create account').click()
        await expect(page.get_by_text('No projects yet')).to_be_visible()
    finally:
        stop_app(app)
    app = start_app(data, free_port())
    try:
        page = await context.new_page()  # same cookies: the session must still be valid
        await page.goto(app.url.rsplit(':', 1)[0] + ':' + app.url.rsplit(':', 1)[1] + '/')
        await expect(page.get_by_text('Your projects')).to_be_visible()
    finally:
        stop_app(app)
