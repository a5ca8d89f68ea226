"""IT-1, IT-2, IT-3, IT-5 in a real browser against `python main.py`: from the READY preview of v0.1, Gate 2's
"ask for a change", the change request confirmed, v0.2 running in the preview, its changelog (diffs to expand,
both versions' screenshots side by side) and the zip download, whose files are those of v0.2's workspace."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from core.models import BuildJob
from core.models import User as Account
from core.services import build_services
from jobs.demo import founder_flow
from tests.builds.conftest import IDEA, MUST_HAVE
from tests.builds.test_iteration_build import CHANGE
from tests.builds.test_versions_build import workspace_files
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, sign_up

pytestmark = pytest.mark.browser
LONG = {'timeout': 120_000}


async def test_from_the_ready_preview_to_v0_2_its_changelog_and_zip(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = start_app(tmp_path / 'data', free_port())
    services = build_services(app_settings(app))
    try:
        page = await browser.new_page(viewport={'width': 1280, 'height': 900}, accept_downloads=True)
        await sign_up(page, app, 'iris@example.com')
        async with services.sessions() as session:
            account = (await session.exec(select(Account).where(Account.email == 'iris@example.com'))).one()
        _, project_id = await founder_flow(services, IDEA, MUST_HAVE, user=account)

        await page.goto(f'{app.url}/projects/{project_id}/build')
        await page.get_by_role('button', name='Start build').click()
        await expect(page.get_by_text('Your app is ready — v0.1')).to_be_visible(**LONG)
        await expect(page.frame_locator('iframe').locator('body')).not_to_be_empty(timeout=30_000)

        # Gate 2 under the preview: iterate, by asking for a change.
        card = page.locator('.q-card', has=page.get_by_text('You have seen v0.1 running. What next?'))
        await expect(card).to_be_visible(timeout=30_000)
        await expect(card.get_by_role('button', name='Ship this version')).to_be_visible()
        await card.get_by_role('button', name='Ask for a change').click()
        await page.wait_for_url(f'**/projects/{project_id}/change')
        await page.get_by_label('What would you like to change?').fill(CHANGE)
        await page.get_by_role('button', name='Continue').click()
        draft = page.locator('.q-card', has=page.get_by_text('Change request for v0.1'))
        await expect(draft).to_be_visible(timeout=30_000)
        await expect(draft.get_by_text('Iteration 1 of 3')).to_be_visible()
        await expect(draft.get_by_text(CHANGE)).to_be_visible()
        await expect(draft.get_by_text('/100')).to_be_visible()  # the alignment badge, in words and a score
        await page.screenshot(path=str(tmp_path / 'change-request.png'), full_page=True)
        await draft.get_by_role('button', name='Confirm and build').click()

        await page.wait_for_url('**/builds/**')
        await expect(page.get_by_text('Your app is ready — v0.2')).to_be_visible(**LONG)
        preview = page.frame_locator('iframe')
        await expect(preview.get_by_text('waiting list', exact=False).first).to_be_visible(timeout=30_000)

        # The project page lists both versions; v0.2's changelog shows what changed.
        await page.goto(f'{app.url}/projects/{project_id}')
        row = page.locator('.q-card', has=page.get_by_text('Versions', exact=True))
        await expect(row.get_by_text('v0.2', exact=True)).to_be_visible()
        await expect(row.get_by_text('v0.1', exact=True)).to_be_visible()
        await page.screenshot(path=str(tmp_path / 'project-versions.png'), full_page=True)
        await row.get_by_role('button', name='Changelog').click()
        await page.wait_for_url('**/changelog')
        await expect(page.get_by_text('What changed in v0.2')).to_be_visible()
        await expect(page.get_by_text('You asked')).to_be_visible()
        before, after = page.locator('img[alt="Screenshot of v0.1"]'), page.locator('img[alt="Screenshot of v0.2"]')
        await expect(before).to_be_visible()
        await expect(after).to_be_visible()
        left, right = await before.bounding_box(), await after.bounding_box()
        assert left and right and left['x'] < right['x'] and abs(left['y'] - right['y']) < 5  # side by side
        await page.get_by_text('app.py', exact=True).click()  # expand the file's diff
        diff = page.locator('.nicegui-code', has_text='+++ b/app.py')
        await expect(diff).to_be_visible()
        await expect(diff).to_contain_text('aiting list')
        await page.screenshot(path=str(tmp_path / 'changelog.png'), full_page=True)

        async with page.expect_download() as waiting:
            await page.get_by_role('button', name='Download zip').click()
        download = await waiting.value
        assert download.suggested_filename.endswith('-v0.2.zip')
        path = tmp_path / 'v0.2.zip'
        await download.save_as(path)
        archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        async with services.sessions() as session:
            v2 = (await session.exec(select(BuildJob).where(BuildJob.version_label == 'v0.2'))).one()
        in_zip = {name: archive.read(name) for name in archive.namelist()}
        assert in_zip == await workspace_files(services, v2) and 'app.py' in in_zip

        # The current version's code, read-only, highlighted.
        await page.goto(f'{app.url}/builds/{v2.id}/files?path=app.py')
        await expect(page.get_by_text('Files of v0.2')).to_be_visible()
        await expect(page.locator('.nicegui-code .codehilite')).to_contain_text('waiting list')
        await page.screenshot(path=str(tmp_path / 'files.png'), full_page=True)
    finally:
        await services.close()
        stop_app(app)
