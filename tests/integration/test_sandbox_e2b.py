"""E2B beyond the shared contract (test_sandbox_contract.py): selection by E2B_API_KEY, failures at the edge
(creation refused, a sandbox killed mid-command, expiry), a paused sandbox resumed from another process, a lost
sandbox recreated from the newest snapshot, and previews that need the sandbox's token. The e2b SDK talks to
tests/fakes/e2b_api.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from core.adapters.blobs_fs import FileBlobStore
from core.adapters.sandbox_e2b import E2BSandboxProvider
from core.adapters.sandbox_local import LocalSandboxProvider
from core.builds.preview import resume_preview
from core.builds.snapshots import restore_latest, save_snapshot
from core.config import Settings
from core.errors import Conflict
from core.models import BuildJob, Project
from core.ports import SandboxError
from core.services import build_services
from tests.fakes.e2b_api import E2BFake
from tests.integration.test_queue import arrange
from tests.integration.test_sandbox_local import copy_sample_app


@pytest.fixture(scope='module')
def e2b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2BFake]:
    with E2BFake(tmp_path_factory.mktemp('e2b')) as fake:
        yield fake


def e2b_settings(fake: E2BFake, settings: Settings) -> Settings:
    return settings.model_copy(update={'E2B_API_KEY': SecretStr(fake.api_key), 'E2B_API_URL': fake.url,
                                       'E2B_SANDBOX_URL': fake.url, 'E2B_TEMPLATE': 'cofounder-node'})  # fmt: skip


def provider_for(fake: E2BFake) -> E2BSandboxProvider:
    return E2BSandboxProvider(api_key=fake.api_key, template='base', api_url=fake.url, sandbox_url=fake.url)


def test_e2b_is_chosen_by_its_api_key(e2b: E2BFake, settings: Settings) -> None:
    assert isinstance(build_services(settings).sandboxes, LocalSandboxProvider)
    chosen = build_services(e2b_settings(e2b, settings))
    assert isinstance(chosen.sandboxes, E2BSandboxProvider)
    assert chosen.sandboxes.template == 'cofounder-node' and 'E2B cloud sandbox' in chosen.sandboxes.isolation()


async def test_the_health_probe_checks_the_key_without_starting_a_sandbox(e2b: E2BFake) -> None:
    before = len(e2b.sandboxes)
    await provider_for(e2b).probe()
    assert len(e2b.sandboxes) == before
    bad_key = E2BSandboxProvider(api_key='e2b_wrong', template='base', api_url=e2b.url, sandbox_url=e2b.url)
    with pytest.raises(SandboxError, match='E2B does not answer'):
        await bad_key.probe()


async def test_a_refused_creation_is_a_sandbox_error(e2b: E2BFake) -> None:
    e2b.refuse_next_create(403, 'the team has reached its limit of running sandboxes')
    with pytest.raises(SandboxError, match='E2B could not create a sandbox'):
        await provider_for(e2b).create(key='refused')
    bad_key = E2BSandboxProvider(api_key='e2b_wrong', template='base', api_url=e2b.url, sandbox_url=e2b.url)
    with pytest.raises(SandboxError, match='E2B could not create a sandbox'):
        await bad_key.create(key='unauthorised')


async def test_a_sandbox_killed_mid_command_fails_the_command_clearly(e2b: E2BFake) -> None:
    box = await provider_for(e2b).create(key='killed')
    started = asyncio.Event()
    running = asyncio.create_task(box.run('echo working; sleep 60', on_stdout=lambda _: started.set(), timeout=90))
    await asyncio.wait_for(started.wait(), 10)
    e2b.kill(box.id)
    with pytest.raises(SandboxError, match='the sandbox stopped'):
        await asyncio.wait_for(running, 20)
    assert await provider_for(e2b).connect(box.id) is None  # gone for good


async def test_a_paused_sandbox_resumes_with_its_app_from_another_process(e2b: E2BFake) -> None:
    worker = provider_for(e2b)
    box = await worker.create(key='paused')
    await copy_sample_app(box)
    await box.start_app()
    await box.pause()
    assert await box.app_url() is None  # while paused E2B's edge does not reach it
    web = provider_for(e2b)  # another process: knows only the id
    again = await web.connect(box.id)  # connect resumes it
    assert again is not None
    url = await again.app_url()  # the app's process was paused with the VM and runs on: no restart needed
    assert url is not None
    async with httpx.AsyncClient() as client:
        assert (await client.get(url + '/static/style.css')).status_code == 200
    await worker.close()
    await web.close()
    await again.destroy()


async def test_the_preview_needs_the_token_only_the_proxy_adds(e2b: E2BFake, settings: Settings) -> None:
    services = build_services(e2b_settings(e2b, settings))
    box = await services.sandboxes.create(key='preview')
    await copy_sample_app(box)
    stored = await box.start_app()  # what the build records as preview_url: this process's door
    base, headers = await services.preview_upstream(box.id, stored)
    assert base == e2b.url and headers['e2b-traffic-access-token'] and headers['e2b-traffic-access-token'] not in stored
    async with httpx.AsyncClient() as client:
        assert (await client.get(base + '/', headers=headers)).status_code == 200
        without = {k: v for k, v in headers.items() if k != 'e2b-traffic-access-token'}
        assert (await client.get(base + '/', headers=without)).status_code == 403
    local = build_services(settings)
    assert await local.preview_upstream('any', 'http://127.0.0.1:1234') == ('http://127.0.0.1:1234', {})
    await box.destroy()
    await services.close()


async def test_an_expired_sandbox_shows_preview_expired(e2b: E2BFake, session_factory) -> None:  # type: ignore[no-untyped-def]
    provider = provider_for(e2b)
    box = await provider.create(key='expiring')
    async with session_factory() as session:
        user = (await arrange(session_factory, {uuid.uuid4().hex[:6]: 'bootstrapper'})).popitem()[1]
        project = Project(owner_id=user.id, title='p', idea='an idea long enough')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=user.id, state='READY', sandbox_id=box.id,
                       preview_state='paused', preview_url='http://127.0.0.1:9/')  # fmt: skip
        session.add(job)
        await session.commit()
    e2b.kill(box.id)  # E2B let it go
    async with session_factory() as session:
        with pytest.raises(Conflict, match='expired'):
            await resume_preview(session, user=user, job_id=job.id, sandboxes=provider)
    async with session_factory() as session:
        assert (await session.get(BuildJob, job.id)).preview_state == 'expired'  # type: ignore[union-attr]


async def test_a_lost_sandbox_is_recreated_from_the_newest_snapshot(  # type: ignore[no-untyped-def]
    e2b: E2BFake, session_factory, tmp_path: Path
) -> None:
    provider, blobs = provider_for(e2b), FileBlobStore(tmp_path / 'blobs')
    async with session_factory() as session:
        user = (await arrange(session_factory, {uuid.uuid4().hex[:6]: 'bootstrapper'})).popitem()[1]
        project = Project(owner_id=user.id, title='p', idea='an idea long enough')
        session.add(project)
        await session.commit()
    box = await provider.create(key='lost')
    await copy_sample_app(box)
    saved = await save_snapshot(sandbox=box, blobs=blobs, sessions=session_factory, project_id=project.id,
                                owner_id=user.id, job_id=None, reason='test')  # fmt: skip
    assert saved is not None
    e2b.kill(box.id)
    assert await provider.connect(box.id) is None
    fresh = await provider.create(key='lost')  # what SCAFFOLD does when connect finds nothing
    assert fresh.id != box.id
    restored = await restore_latest(sandbox=fresh, blobs=blobs, sessions=session_factory, project_id=project.id)
    assert restored is not None and restored.id == saved.id
    assert await fresh.list_files() == ['app.py', 'index.html', 'static/style.css']
    await fresh.destroy()
