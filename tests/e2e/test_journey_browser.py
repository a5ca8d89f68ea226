"""The whole founder journey in a real Chromium against `python main.py`: sign up, idea, onboarding,
interview (with a reload in the middle that loses nothing), brief, Gate 1, plan, Build, and the
offline build running to the ready app.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser
PASSWORD = 'correct horse battery'
IDEA = 'A booking tool for independent dog groomers so clients can pick a slot and pay a deposit.'
ANSWERS = [
    'Solo dog groomers working from a van — “toiletteurs” in Lyon too 🐶',
    'They lose hours a week on phone tag and no-shows',
    'online booking calendar, deposit payment, client pet profiles',
    'Must work on a phone, cheap to run',
    'Fewer than 5% no-shows after a month',
]
MODEL = {'timeout': 60_000}  # the model and the database may be slow on a busy machine
BUILD = {'timeout': 300_000}  # a whole offline build: generous, the test waits for what it shows


async def progress(page: Page) -> tuple[int, int]:
    label = page.get_by_text(re.compile(r'^Question \d+ of \d+$'))
    await expect(label).to_be_visible(**MODEL)
    number, total = re.findall(r'\d+', await label.inner_text())
    return int(number), int(total)


async def answer(page: Page, number: int, total: int, text: str) -> None:
    """Type the answer of the question on screen and press Enter for the next one."""
    await expect(page.get_by_text(f'Question {number} of {total}', exact=True)).to_be_visible(**MODEL)
    box = page.locator('textarea')
    await expect(box).to_be_focused()  # autofocus: the founder just types
    await box.fill(text)
    await box.press('Enter')


async def test_founder_goes_from_idea_to_a_ready_build(live_app: LiveApp, browser: Browser, tmp_path: Path) -> None:
    page = await browser.new_page(viewport={'width': 1280, 'height': 900})
    await page.goto(f'{live_app.url}/signup')
    await page.get_by_label('Email').fill('ada@example.com')
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Create account').click()
    await expect(page.get_by_text('No projects yet')).to_be_visible(**MODEL)

    await page.get_by_role('button', name='Start your first project').click()
    idea = page.locator('textarea')
    await expect(idea).to_be_focused(**MODEL)
    await idea.fill(IDEA)
    await expect(page.get_by_text(f'{len(IDEA)} / 2000')).to_be_visible()
    await idea.press('Enter')

    # one conversation: onboarding asks who, the problem and the must-haves, the interview only the rest
    number, total = await progress(page)
    assert (number, total) == (1, 7)
    project_url = page.url.removesuffix('/interview')
    await answer(page, 1, 7, ANSWERS[0])
    await answer(page, 2, 7, ANSWERS[1])
    await expect(page.get_by_text('Question 3 of 7', exact=True)).to_be_visible(**MODEL)
    await page.locator('textarea').press_sequentially('online booking calendar, deposit')
    await expect(page.get_by_text('Saved', exact=True)).to_be_visible(**MODEL)

    await page.reload()  # nothing typed is lost, and the founder is back on the same question
    await expect(page.get_by_text('Question 3 of 7', exact=True)).to_be_visible(**MODEL)
    await expect(page.locator('textarea')).to_have_value('online booking calendar, deposit')
    await page.screenshot(path=str(tmp_path / 'interview.png'))
    await page.get_by_role('button', name='Back').click()
    await expect(page.locator('textarea')).to_have_value(ANSWERS[1], **MODEL)
    await page.get_by_role('button', name='Next').click()
    await answer(page, 3, 7, ANSWERS[2])
    await answer(page, 4, 7, 'A deposit of 10 EUR per booking')
    await answer(page, 5, 7, 'Up to two weeks ahead')
    await answer(page, 6, 7, ANSWERS[3])
    await answer(page, 7, 7, ANSWERS[4])

    await page.wait_for_url('**/brief', **MODEL)
    await expect(page.get_by_text('Idea Brief v1', exact=True)).to_be_visible(**MODEL)
    for name in ('Online Booking Calendar', 'Deposit Payment'):
        await expect(page.get_by_text(name, exact=True).first).to_be_visible()
    await page.screenshot(path=str(tmp_path / 'brief.png'), full_page=True)
    await page.get_by_role('button', name='Proceed').click()

    await page.wait_for_url('**/plan', **MODEL)
    await expect(page.get_by_text('Choose how to build it')).to_be_visible(**MODEL)
    await page.get_by_role('button', name='Choose this plan').first.click()
    await page.get_by_role('button', name='Build', exact=True).click()
    await page.wait_for_url(f'{project_url}/build', **MODEL)

    ready = page.get_by_text(re.compile('is ready')).or_(page.locator('iframe'))
    await expect(ready.first).to_be_visible(**BUILD)
    await page.screenshot(path=str(tmp_path / 'build.png'), full_page=True)

    await page.goto(project_url)  # the project page tells the story in order
    await expect(page.get_by_text('Idea captured')).to_be_visible(**MODEL)
    await expect(page.get_by_text('Build started')).to_be_visible()
    await page.screenshot(path=str(tmp_path / 'project.png'), full_page=True)
    await page.goto(live_app.url)
    await expect(page.get_by_text('v0.1')).to_be_visible(**MODEL)  # the dashboard shows the product version
    await page.screenshot(path=str(tmp_path / 'dashboard.png'), full_page=True)
