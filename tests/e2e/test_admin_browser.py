"""The admin console in a real Chromium against `python main.py`: a founder gets the 403 page on every admin
page; the admin issues a reset link (shown once), the founder sets a new password with it in their own browser
and logs in, and the link does not work twice; the change is in the Users page's audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser
PASSWORD = 'correct horse battery'
NEW_PASSWORD = 'a brand new secret 42'
ADMIN_PAGES = ('/admin', '/admin/models', '/admin/tiers', '/admin/flags', '/admin/system')


async def signed_up(browser: Browser, app: LiveApp, email: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={'width': 1280, 'height': 800})
    page = await context.new_page()
    await page.goto(f'{app.url}/signup')
    await page.get_by_label('Email').fill(email)
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Create account').click()
    await expect(page.get_by_text('Your projects')).to_be_visible()
    return context, page


async def test_founders_get_403_and_a_reset_link_works_once(
    live_app: LiveApp, browser: Browser, tmp_path: Path
) -> None:
    admin_context, admin = await signed_up(browser, live_app, 'admin@example.com')  # the first account: admin
    founder_context, founder = await signed_up(browser, live_app, 'ada@example.com')
    for path in ADMIN_PAGES:
        response = await founder.goto(f'{live_app.url}{path}')
        assert response is not None and response.status == 403, path
        await expect(founder.get_by_text('This page is for administrators.')).to_be_visible()

    await admin.goto(f'{live_app.url}/admin')
    await expect(admin.get_by_role('heading', name='Admin · Users')).to_be_visible()
    await expect(admin.get_by_text('You cannot suspend your own account.')).to_be_visible()
    await admin.get_by_role('button', name='Reset password link').nth(1).click()  # ada's card (the admin's first)
    link = (await admin.get_by_text('/reset/').inner_text()).strip()
    assert link.startswith(live_app.url + '/reset/')
    await admin.screenshot(path=str(tmp_path / 'admin-users.png'))
    await expect(
        admin.locator('.nicegui-card').filter(has_text='Audit log').get_by_text('user.reset_link')
    ).to_be_visible()

    await founder_context.clear_cookies()  # the founder is signed out; the link needs no session
    await founder.goto(link)
    await expect(founder.get_by_text('For ada@example.com')).to_be_visible()
    await founder.get_by_label('New password').fill(NEW_PASSWORD)
    await founder.get_by_label('The same password again').fill(NEW_PASSWORD)
    await founder.get_by_role('button', name='Set the new password').click()
    await expect(founder.get_by_text('Your new password is set.')).to_be_visible()
    await founder.goto(link)
    await expect(founder.get_by_text('This reset link is not valid any more')).to_be_visible()
    await founder.goto(f'{live_app.url}/login')
    await founder.get_by_label('Email').fill('ada@example.com')
    await founder.get_by_label('Password').fill(NEW_PASSWORD)
    await founder.get_by_role('button', name='Log in').click()
    await expect(founder.get_by_text('Your projects')).to_be_visible()
    await admin_context.close()
    await founder_context.close()


async def test_every_admin_page_fits_a_phone(live_app: LiveApp, browser: Browser) -> None:
    context, page = await signed_up(browser, live_app, 'admin@example.com')
    await page.set_viewport_size({'width': 390, 'height': 844})
    for path in ADMIN_PAGES:
        await page.goto(f'{live_app.url}{path}')
        await expect(page.get_by_role('heading', name='Admin · ')).to_be_visible()
        overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
        assert overflow <= 1, f'{path} scrolls sideways by {overflow} px at 390 px'
    await context.close()
