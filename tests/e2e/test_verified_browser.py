"""Verified progress in a real Chromium against `python main.py` (issue 24): the offline model writes a page that
looks right and does nothing (OFFLINE_SCENARIO=painted-door), its acceptance check fails, self-healing rewrites
it, and the founder sees every feature verified, with the evidence screenshot on hover and the count in the
summary, on the dashboard and on the project page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from core.services import build_services
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, plan_selected_project, sign_up

pytestmark = pytest.mark.browser
LONG = {'timeout': 120_000}


async def test_a_painted_door_is_caught_healed_and_the_kanban_shows_the_evidence(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = start_app(tmp_path / 'data', free_port(), {'OFFLINE_SCENARIO': 'painted-door'})
    try:
        page = await browser.new_page(viewport={'width': 1280, 'height': 900})
        await sign_up(page, app, 'lin@example.com')
        services = build_services(app_settings(app))
        try:
            project_id = await plan_selected_project(services, 'lin@example.com')
        finally:
            await services.close()

        await page.goto(f'{app.url}/projects/{project_id}/build')
        await page.get_by_role('button', name='Start build').click()
        await page.wait_for_url('**/builds/**')
        await expect(page.get_by_text('Your app is ready — v0.1')).to_be_visible(**LONG)

        sentence = re.compile(r'^(\d+) of \1 features verified in a browser$')
        await expect(page.get_by_text(sentence)).to_be_visible()
        # the failing check was worked on like any other failure, before READY
        await page.get_by_text('Build history').click()
        healing = page.get_by_text('A feature does not work yet when it is tried in a browser')
        await expect(healing.first).to_be_visible()

        cards = page.locator('.feature-check')
        await expect(cards.first).to_be_visible()
        count = await cards.count()
        assert count >= 2
        for i in range(count):
            await expect(cards.nth(i)).to_contain_text('Verified')
        await cards.first.hover()  # the evidence: the screenshot taken at the end of the check
        shot = page.locator('.feature-evidence img')
        await expect(shot).to_be_visible()
        assert (await shot.get_attribute('src') or '').startswith('/blobs/')

        await page.goto(f'{app.url}/')
        await expect(page.get_by_text(f'{count} of {count} features verified')).to_be_visible()
        await expect(page.get_by_text('100%')).to_be_visible()
        await page.goto(f'{app.url}/projects/{project_id}')
        await expect(page.get_by_text(f'MVP 100%: {count} of {count} features verified')).to_be_visible()
    finally:
        stop_app(app)
