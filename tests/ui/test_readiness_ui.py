"""Deploy readiness as a founder sees it (IT-4): the light and the fixes on the project page, the light on
the dashboard card, the report as a Markdown download. The report comes from its producer,
`record_readiness`, reading a workspace with a planted secret, no .env.example and an unpinned package."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from sqlmodel import select

from core.builds.readiness import record_readiness
from core.models import BuildJob, Project
from core.models import User as Account
from tests.fakes.memory_sandbox import MemorySandbox
from tests.ui.conftest import sign_up

PLANTED = 'sk-live-4eC39HqLyjWDarjtT1zdp7dc'
WORKSPACE = {
    'README.md': b'# PawBook\n\nBookings and deposits for dog groomers.\n\n## Run it\n\n    PORT=8000 python3 app.py\n',
    'app.py': f'import os\nAPI_KEY = "{PLANTED}"\nPORT = int(os.environ["PORT"])\n'.encode(),
    'requirements.txt': b'fastapi\n',
}


@pytest.fixture(autouse=True)
def no_build_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The build row is written by the test: no worker of the app may pick it up.
    monkeypatch.setenv('WORKER_CONCURRENCY', '0')


async def founder_with_ready_build(user: User, db, *, report: bool) -> Project:  # type: ignore[no-untyped-def]
    await sign_up(user, 'ada@example.com')
    async with db() as session:
        owner = (await session.exec(select(Account).where(Account.email == 'ada@example.com'))).one()
        project = Project(owner_id=owner.id, title='PawBook', idea='Online booking for dog groomers', stage='mvp_built')
        session.add(project)
        await session.flush()
        session.add(BuildJob(project_id=project.id, user_id=owner.id, state='READY', version_number=1,
                             version_label='v0.1'))  # fmt: skip
        await session.commit()
        await session.refresh(project)
    if report:
        stored = await record_readiness(db, MemorySandbox(files=WORKSPACE), project_id=project.id, build_version='v0.1')
        assert stored is not None
    return project


async def test_project_page_shows_the_light_the_blockers_fixes_and_the_download(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project = await founder_with_ready_build(user, db, report=True)
    await user.open(f'/projects/{project.id}')
    await user.should_see(marker='readiness')
    await user.should_see('Red: Not ready: fix the blockers first')  # the light says it in words
    await user.should_see(marker='readiness-red')
    await user.should_see('v0.1', marker='readiness-version')
    await user.should_see('API_KEY = os.environ["API_KEY"]', marker='check-fix')  # the secret's fix, to copy
    await user.should_see('cat > .env.example', marker='check-fix')
    await user.should_see('pip freeze -r requirements.txt', marker='check-fix')
    await user.should_not_see(PLANTED)
    await user.should_see('A PaaS (Render, Railway or similar)')
    await user.should_see('A single container on a small VPS (Hetzner, DigitalOcean or similar)')

    user.find(marker='readiness-download').click()
    download = await user.download.next(timeout=5)
    text = download.content.decode()
    assert text.startswith('# Deploy readiness: PawBook (v0.1)') and PLANTED not in text

    await user.open('/')
    await user.should_see('Deploy: Red', marker='readiness-light')


async def test_no_report_no_card_and_no_light(user: User, db) -> None:  # type: ignore[no-untyped-def]
    project = await founder_with_ready_build(user, db, report=False)
    await user.open(f'/projects/{project.id}')
    await user.should_see(marker='project-timeline')
    await user.should_not_see(marker='readiness')
    await user.open('/')
    await user.should_see(marker='project-card')
    await user.should_not_see(marker='readiness-light')
