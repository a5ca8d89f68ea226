"""UI-9 in a real browser against `python main.py`: on the build page of a ready v0.1 the founder opens the chat,
watches an answer being written, asks for a change and confirms it, lands on the change page with the request
filled in, and finds the conversation (and the open panel) again on the project's other pages."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from core.models import User as Account
from core.services import build_services
from jobs.demo import founder_flow
from tests.builds.conftest import IDEA, MUST_HAVE
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, sign_up

pytestmark = pytest.mark.browser
LONG = {'timeout': 120_000}
CHANGE = 'Add a waiting list page where clients leave their email'

# Every text the newest answer bubble shows, as the server pushes it (the stream, seen from the browser).
WATCH = """() => {
  window.answerTexts = [];
  const log = document.querySelector('.chat-log');
  new MutationObserver(() => {
    const answers = log.querySelectorAll('.chat-answer');
    const text = answers.length ? answers[answers.length - 1].textContent : '';
    if (window.answerTexts[window.answerTexts.length - 1] !== text) window.answerTexts.push(text);
  }).observe(log, {subtree: true, childList: true, characterData: true});
}"""


async def test_the_chat_answers_streams_acts_on_confirmation_and_follows_the_founder(
    browser: Browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app = start_app(tmp_path / 'data', free_port())
    services = build_services(app_settings(app))
    try:
        page = await browser.new_page(viewport={'width': 1280, 'height': 900})
        await sign_up(page, app, 'chat@example.com')
        async with services.sessions() as session:
            account = (await session.exec(select(Account).where(Account.email == 'chat@example.com'))).one()
        _, project_id = await founder_flow(services, IDEA, MUST_HAVE, user=account)
        await page.goto(f'{app.url}/projects/{project_id}/build')
        await page.get_by_role('button', name='Start build').click()
        await expect(page.get_by_text('Your app is ready — v0.1')).to_be_visible(**LONG)

        chat = page.get_by_role('button', name='Chat with your co-founder')
        await chat.click()
        ask = page.get_by_placeholder('Ask about your project…')
        await expect(ask).to_be_visible()
        await expect(page.get_by_text('Beta', exact=True)).to_be_visible()
        await page.evaluate(WATCH)
        await ask.fill("What's the status?")
        await ask.press('Enter')
        log = page.locator('.chat-log')
        await expect(log.get_by_text('Your current version is v0.1.', exact=False)).to_be_visible(timeout=45_000)
        seen = await page.evaluate('window.answerTexts')
        full = seen[-1]
        assert len(seen) >= 3 and all(full.startswith(t.rstrip('…')) for t in seen[1:])  # written piece by piece
        await page.screenshot(path=str(tmp_path / 'chat-status.png'))

        await ask.fill(CHANGE)
        await ask.press('Enter')
        await expect(log.get_by_text('Ask for this change to', exact=False)).to_be_visible(timeout=45_000)
        await log.get_by_role('button', name='Confirm').click()
        await page.wait_for_url(f'**/projects/{project_id}/change')
        await expect(page.get_by_label('What would you like to change?')).to_have_value(CHANGE, timeout=45_000)

        # The panel came back open on the new page, with the whole conversation.
        log = page.locator('.chat-log')
        await expect(log.get_by_text("What's the status?", exact=True)).to_be_visible(timeout=45_000)
        await expect(log.get_by_text('Your change request is open', exact=False)).to_be_visible()
        await page.screenshot(path=str(tmp_path / 'chat-change.png'))
        await page.goto(f'{app.url}/projects/{project_id}')
        await expect(page.locator('.chat-log').get_by_text(CHANGE, exact=True)).to_be_visible(timeout=45_000)
        await page.locator('.q-page-sticky').get_by_role('button', name='Close the chat').click()
        await expect(page.get_by_placeholder('Ask about your project…')).to_be_hidden()
        await page.goto(f'{app.url}/projects/{project_id}/build')
        await expect(chat).to_be_visible(timeout=45_000)
        await expect(page.get_by_placeholder('Ask about your project…')).to_be_hidden()  # closed stays closed
    finally:
        await services.close()
        stop_app(app)
