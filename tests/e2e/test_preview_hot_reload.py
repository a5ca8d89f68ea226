"""A Vite + React app in the founder's build page, through the owner-only preview proxy (issue 30).

The app runs as `python main.py`; the build is the offline model's Vite + React app, its packages installed
through the sandbox's egress proxy (this needs the npm registry). In Chromium, the preview's modules load
under the preview's own path, React renders and routes there, and a save works (the preview's opaque origin
has no localStorage: the proxy's stand-in holds it). An edit in the workspace reaches the open preview over
Vite's hot-reload socket: a style change is applied in place (the page is not reloaded), a change to a
component reloads the page at the same route. The test never reloads the page itself.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Browser, Frame, Page, expect
from sqlmodel import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from core.adapters.llm_offline.app_text import app_text
from core.models import BuildJob, User
from core.services import build_services
from core.stacks import VITE_REACT
from jobs.demo import choose_stack, founder_flow
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, sign_up
from tests.services import require_npm

pytestmark = pytest.mark.browser
EMAIL = 'vite@example.com'
IDEA = 'A booking tool for independent dog groomers so clients can pick a slot.'
MUST_HAVE = 'online booking, client notes'
BUILD = {'timeout': 240_000}  # a whole build, with npm install, on a busy machine
HOT = {'timeout': 30_000}
FIRST_LOAD = {'timeout': 90_000}  # Vite bundles the dependencies on the first request, then reloads the page
HOT_COLOR = 'rgb(1, 2, 3)'


def preview_frame(page: Page) -> Frame:
    frame = next((f for f in page.frames if '/preview/' in f.url), None)
    assert frame is not None, [f.url for f in page.frames]
    return frame


async def test_an_edit_in_the_workspace_reaches_the_open_vite_preview(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    require_npm()
    app = start_app(tmp_path / 'data', free_port())
    services = build_services(app_settings(app))
    try:
        page = await browser.new_page(viewport={'width': 1280, 'height': 900})
        await sign_up(page, app, EMAIL)
        async with services.sessions() as session:
            user = (await session.exec(select(User).where(User.email == EMAIL))).one()
        _, project_id = await founder_flow(services, IDEA, MUST_HAVE, user=user)
        await choose_stack(services, project_id, VITE_REACT)
        await page.goto(f'{app.url}/projects/{project_id}/plan')
        await page.get_by_role('button', name='Build', exact=True).click()
        await expect(page.get_by_text('is ready').first).to_be_visible(**BUILD)

        frame = page.frame_locator('iframe[title="Preview of your app"]')
        # React drew the home page (index.html alone has only the navigation)
        await expect(frame.get_by_role('heading', name=app_text('en')['what_you_can_do'])).to_be_visible(**FIRST_LOAD)
        first = frame.locator('nav a').first
        feature = (await first.inner_text()).strip()
        await first.click()  # a route of the app, under the preview's own path
        heading = frame.get_by_role('heading', level=1)
        await expect(heading).to_have_text(feature, **HOT)
        assert re.search(r'/preview/[^/]+/t/[^/]+/', preview_frame(page).url)
        # A save works in the preview's opaque origin, where the browser refuses localStorage
        text = app_text('en')
        await frame.get_by_label(text['title'], exact=True).fill('Tuesday 10:00 with Rex')
        await frame.get_by_role('button', name=text['save']).click()
        await expect(frame.get_by_role('heading', name=text['saved_count'] % 1)).to_be_visible(**HOT)
        await expect(frame.get_by_text('Tuesday 10:00 with Rex')).to_be_visible()

        sandbox = await services.sandboxes.connect(await _sandbox_of(services, project_id))
        assert sandbox is not None
        await preview_frame(page).evaluate('window.__stayed = true')
        css = (await sandbox.read_file('src/style.css')).decode()
        await sandbox.write_file('src/style.css', css + f'\nh1 {{ color: {HOT_COLOR}; }}\n')
        await expect(heading).to_have_css('color', HOT_COLOR, **HOT)
        assert await preview_frame(page).evaluate('window.__stayed === true'), 'a style change reloaded the page'

        source = (await sandbox.read_file('src/App.jsx')).decode()
        edited = source.replace('<h1>{page.name}</h1>', '<h1>{page.name} (edited)</h1>')
        assert edited != source
        await sandbox.write_file('src/App.jsx', edited)
        await expect(heading).to_have_text(f'{feature} (edited)', **HOT)

        # The socket route admits only a valid link: the same path with a forged token is refused.
        job_path = re.search(r'/preview/[^/]+/t/', preview_frame(page).url)
        assert job_path is not None
        forged = app.url.replace('http', 'ws', 1) + job_path.group(0) + 'forged/'
        with pytest.raises(InvalidStatus):
            async with connect(forged, subprotocols=[Subprotocol('vite-hmr')], proxy=None):
                pass
    finally:
        await services.close()
        stop_app(app)


async def _sandbox_of(services, project_id: uuid.UUID) -> str:  # type: ignore[no-untyped-def]
    async with services.sessions() as session:
        job = (await session.exec(select(BuildJob).where(BuildJob.project_id == project_id))).one()
    assert job.state == 'READY' and job.sandbox_id
    return job.sandbox_id
