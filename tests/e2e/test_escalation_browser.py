"""When things go wrong (AG-7, AG-8) in a real Chromium against `python main.py`: the offline model meets a
download the workspace cannot make (OFFLINE_SCENARIO=escalate), the page shows the auto-fix, then asks the
founder; the dashboard shows the pending decision, and the founder's click finishes the build."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from core.builds.escalations import SKIP, STOP
from core.services import build_services
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, plan_selected_project, sign_up

pytestmark = pytest.mark.browser
PROBLEM = 'A step needs something downloaded from the internet, and the workspace has no internet access.'
FIRST_PHASE = 'Plan the app'
LONG = {'timeout': 120_000}


async def saw_auto_fixing(page: Page, attempt: int) -> bool:
    """Whether the stage bar showed the attempt; checked every frame, since it lasts one build step."""
    text = f'Auto-fixing (attempt {attempt} of 3)'
    try:
        await page.wait_for_function(f'() => document.body.innerText.includes({text!r})', polling='raf',
                                     timeout=60_000)  # fmt: skip
    except PlaywrightTimeout:
        return False
    return True


async def test_the_founder_sees_the_auto_fix_answers_the_question_and_the_build_finishes(
    browser: Browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Paced, so that each step stays on screen a moment (as a founder would watch it).
    app = start_app(tmp_path / 'data', free_port(), {'OFFLINE_SCENARIO': 'escalate', 'OFFLINE_PACE_SECONDS': '0.4'})
    try:
        page = await browser.new_page(viewport={'width': 1280, 'height': 900})
        await sign_up(page, app, 'ada@example.com')
        services = build_services(app_settings(app))
        try:
            project_id = await plan_selected_project(services, 'ada@example.com')
        finally:
            await services.close()

        await page.goto(f'{app.url}/projects/{project_id}/build')
        await page.get_by_role('button', name='Start build').click()
        await page.wait_for_url('**/builds/**')

        # Self-healing: the stage bar (while it lasts) and the feed, in plain words.
        bar_showed = await saw_auto_fixing(page, 2)
        if bar_showed:
            await page.screenshot(path=str(tmp_path / 'auto-fixing.png'))
        feed = page.locator('.cf-feed')
        healing = f"Something went wrong: {PROBLEM} I'm trying a different approach (attempt 2 of 3)."
        await expect(feed.get_by_text(healing)).to_be_visible(**LONG)
        assert bar_showed or await feed.get_by_text(healing).count() == 1

        # The question: the card with its options as buttons, the phase Blocked on the Kanban.
        card = page.locator('.q-card', has=page.get_by_text('Needs your input', exact=True))
        await expect(card.get_by_text(f'I recommend: {SKIP}')).to_be_visible(**LONG)
        await expect(card.get_by_text(f'While working on “{FIRST_PHASE}”')).to_be_visible()
        await expect(card.get_by_text('Attempt 3: ')).to_be_visible()
        for option in (SKIP, 'Simplify this part', STOP):
            await expect(card.get_by_role('button', name=option)).to_be_enabled()
        await expect(card.get_by_role('textbox', name='Your answer')).to_be_editable()
        await expect(page.locator('.kanban-blocked').get_by_text(FIRST_PHASE)).to_be_visible()
        await expect(page.get_by_text('Auto-fixing (attempt')).to_be_hidden()  # waiting now, not fixing
        await expect(page.get_by_text('Waiting for your answer')).to_be_visible()
        await page.screenshot(path=str(tmp_path / 'needs-input.png'), full_page=True)
        box = await card.bounding_box()
        assert box is not None and box['width'] < 1280 / 3  # the card in its column beside the Kanban
        for option in (SKIP, STOP):  # every button fits inside the card, however long its words
            button = await card.get_by_role('button', name=option).bounding_box()
            assert (
                button is not None
                and box['x'] <= button['x']
                and button['x'] + button['width'] <= box['x'] + box['width']
            )

        # The dashboard, in another tab, shows the pending decision; it opens the build page afresh (a replay).
        signed_in = await page.context.storage_state()
        tab = await browser.new_context(storage_state=signed_in, viewport={'width': 1280, 'height': 900})
        dashboard = await tab.new_page()
        await dashboard.goto(app.url)
        decision = dashboard.get_by_role('link', name='The agent needs your decision')
        await expect(decision).to_be_visible()
        await dashboard.screenshot(path=str(tmp_path / 'dashboard-decision.png'), full_page=True)
        await decision.click()
        await dashboard.wait_for_url(f'**/projects/{project_id}/build')
        replayed = dashboard.locator('.q-card', has=dashboard.get_by_text('Needs your input', exact=True))
        await expect(replayed.get_by_role('button', name=SKIP)).to_be_enabled()

        # The founder's click there: the build resumes and both pages follow it to the end.
        await replayed.get_by_role('button', name=SKIP).click()
        await expect(dashboard.get_by_text('Thanks — back to work with your decision.')).to_be_visible()  # pushed
        for tab in (dashboard, page):
            await expect(tab.get_by_text('Your app is ready — v0.1')).to_be_visible(**LONG)
        await expect(page.get_by_text('Thanks — continuing with your decision')).to_have_count(1)
        assert 'Traceback' not in app.log.read_text(), app.log.read_text()  # e.g. a notify that lost its slot
    finally:
        stop_app(app)
