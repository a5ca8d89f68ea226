"""The preview proxy and stored screenshots: the owner gets them, anyone else gets 404 (B-6, OPS-5)."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from nicegui import app
from nicegui.testing import User
from sqlmodel import select

from core.builds import jobs as builds
from core.events import SnapshotUpdated
from core.models import BuildJob
from core.models import User as Account
from jobs.demo import founder_flow
from tests.services import require_chromium
from tests.ui.conftest import log_out, sign_up

IDEA = 'Shared grocery lists for flatmates that split the bill automatically.'


async def built_project(email: str) -> tuple[BuildJob, str]:
    """The signed-up founder's idea taken to a READY build; returns the job and a screenshot key."""
    svc = app.state.services
    async with svc.sessions() as session:
        founder = (await session.exec(select(Account).where(Account.email == email))).one()
    founder, project_id = await founder_flow(svc, IDEA, 'shared list, receipt entry, split balances', user=founder)
    async with svc.sessions() as session:
        job = await builds.start_build(session, user=founder, project_id=project_id, queue=svc.queue, events=svc.events)
    key = ''
    async with asyncio.timeout(120), aclosing(svc.events.follow(job.id, until_done=True)) as stream:
        async for event in stream:
            if isinstance(event, SnapshotUpdated):
                key = event.key
    async with svc.sessions() as session:
        return await session.get(BuildJob, job.id), key  # type: ignore[return-value]


async def test_owner_sees_preview_and_screenshot_others_get_404(user: User) -> None:
    require_chromium()
    await sign_up(user, 'owner@example.com')
    job, shot_key = await built_project('owner@example.com')
    assert job.state == 'READY'

    page = await user.http_client.get(f'/preview/{job.id}/', follow_redirects=True)
    assert page.status_code == 200 and 'Shared List' in page.text
    assert page.headers['content-security-policy'].startswith('sandbox')  # runs in an opaque origin
    token_prefix = str(page.url).split(f'/preview/{job.id}/')[1].split('/')[1]
    css = await user.http_client.get(f'/preview/{job.id}/t/{token_prefix}/static/style.css')
    assert css.status_code == 200 and 'text/css' in css.headers['content-type']
    assert f'/preview/{job.id}/t/{token_prefix}/static/style.css' in page.text  # absolute links rewritten
    shot = await user.http_client.get(f'/blobs/{shot_key}')
    assert shot.status_code == 200 and shot.content.startswith(b'\x89PNG')
    assert 'immutable' in shot.headers['cache-control']

    await log_out(user)
    await sign_up(user, 'intruder@example.com')
    assert (await user.http_client.get(f'/preview/{job.id}/', follow_redirects=True)).status_code == 404
    assert (await user.http_client.get(f'/preview/{job.id}/t/1999999999.forged/')).status_code == 404
    assert (await user.http_client.get(f'/blobs/{shot_key}')).status_code == 404
    await user.open(f'/builds/{job.id}')
    await user.should_not_see('Shared List')
