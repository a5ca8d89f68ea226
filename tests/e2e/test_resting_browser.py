"""UI-4 with BU-4/BU-5 in a real browser: a build that spends today's allowance shows the Resting card
counting down to its wake-up, and the page moves on by itself when the scheduler wakes it."""

from __future__ import annotations

from playwright.async_api import Browser, expect
from sqlmodel import select

from core.models import Tier, User, utcnow
from core.services import build_services
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, plan_selected_project, sign_up


async def test_the_resting_card_counts_down_and_the_build_wakes_on_its_own(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = start_app(tmp_path / 'data', free_port())
    try:
        page = await browser.new_page(viewport={'width': 1280, 'height': 900})
        await sign_up(page, app, 'rest@example.com')
        services = build_services(app_settings(app))
        try:
            project_id = await plan_selected_project(services, 'rest@example.com')
            # a tier whose days last 8 s, 300k tokens each (a build takes ~500k): one rest, then the wake
            async with services.sessions() as session:
                session.add(Tier(name='paced', label='Paced', token_allowance=3_000_000, daily_token_cap=300_000,
                                 day_seconds=8))  # fmt: skip
                user = (await session.exec(select(User).where(User.email == 'rest@example.com'))).one()
                user.tier, user.period_started_at = 'paced', utcnow()
                await session.commit()
        finally:
            await services.close()

        await page.goto(f'{app.url}/projects/{project_id}/build')
        await page.get_by_role('button', name='Start build').click()
        clock = page.get_by_text("Today's budget is spent. Back to work in")
        await expect(clock).to_be_visible(timeout=30_000)
        card = page.locator('.q-card', has=clock)
        await expect(card.get_by_text('Resting', exact=True)).to_be_visible()
        first = await clock.inner_text()
        await expect(clock).not_to_have_text(first, timeout=3_000)  # counted down in the browser
        await expect(card.get_by_text('Done so far')).to_be_visible()
        await page.screenshot(path=str(tmp_path / 'resting.png'), full_page=True)
        # No reload, no click: the scheduler wakes the build and the page follows it to the end.
        await expect(page.get_by_text('Your app is ready — v0.1')).to_be_visible(timeout=60_000)
    finally:
        stop_app(app)
