"""A NiceGUI app, one of the stacks a plan can name, in the founder's preview (issue 30).

The app is written into a real local sandbox and NiceGUI is installed through the sandbox's egress proxy
(this needs PyPI). Through the owner-only preview proxy of `python main.py`, in Chromium: the page and its
static files load under the preview's path (the proxy sends X-Forwarded-Prefix, which NiceGUI honours), its
first script survives the opaque origin's missing sessionStorage (the proxy's stand-in), and a click reaches
the app's server over its socket and comes back as new text.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import nicegui
import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from core.models import BuildJob, Project, User
from core.services import build_services
from tests.e2e.conftest import free_port, start_app, stop_app
from tests.e2e.test_build_live import app_settings, sign_up
from tests.services import require_bubblewrap

pytestmark = pytest.mark.browser
EMAIL = 'nicegui@example.com'
# The version the platform runs itself, so the host's wheel cache fill is a known-good set.
REQUIREMENTS = f'nicegui=={nicegui.__version__}\n'
PIP = 'python3 -m pip install --user --break-system-packages --no-input -q -r requirements.txt'
APP = """import os

from nicegui import ui


@ui.page('/')
def home():
    ui.label('Groomer slots')
    booked = ui.label('0 booked')
    count = {'n': 0}

    def book():
        count['n'] += 1
        booked.set_text(f"{count['n']} booked")

    ui.button('Book a slot', on_click=book)


ui.run(host='127.0.0.1', port=int(os.environ['PORT']), reload=False, show=False)
"""
SLOW = {'timeout': 60_000}


async def test_a_nicegui_app_works_in_the_founders_preview(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    require_bubblewrap()
    app = start_app(tmp_path / 'data', free_port())
    services = build_services(app_settings(app))
    box = await services.sandboxes.create(key=f'nicegui-{uuid.uuid4().hex}')
    try:
        await box.write_file('main.py', APP)
        await box.write_file('requirements.txt', REQUIREMENTS)
        warmed = await box.warm_packages({'requirements.txt': REQUIREMENTS})
        env = ' '.join(f'{key}={value}' for key, value in warmed.env.items())
        installed = await box.run(f'{env} {PIP}', timeout=300)
        assert installed.ok, installed.stdout[-2000:] + installed.stderr[-2000:]
        url = await box.start_app()

        page = await browser.new_page()
        await sign_up(page, app, EMAIL)
        job = await _running_preview(services, url)
        await page.goto(f'{app.url}/preview/{job.id}/')
        assert f'/preview/{job.id}/t/' in page.url
        await expect(page.get_by_text('Groomer slots')).to_be_visible(**SLOW)
        await page.get_by_role('button', name='Book a slot').click()
        await expect(page.get_by_text('1 booked')).to_be_visible(**SLOW)
    finally:
        await box.destroy()
        await services.close()
        stop_app(app)


async def _running_preview(services, url: str) -> BuildJob:  # type: ignore[no-untyped-def]
    """The founder's READY build whose preview is the sandbox's app (the proxy reads where from this row)."""
    async with services.sessions() as session:
        owner = (await session.exec(select(User).where(User.email == EMAIL))).one()
        project = Project(owner_id=owner.id, title='Groomer slots', idea='Online booking for dog groomers')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=owner.id, state='READY', version_number=1, preview_url=url,
                       preview_state='running', finished_at=datetime.now(UTC),
                       queued_at=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
        session.add(job)
        await session.commit()
        await session.refresh(job)
    return job
