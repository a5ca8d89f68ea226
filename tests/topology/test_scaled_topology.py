"""The scaled topology with real processes (OPS-1): a fresh PostgreSQL database, Redis, a moto S3 server, two
`main.py serve` and two `main.py worker` (arq) processes on this machine.

A founder starts an offline build in a browser on web process A; a second browser watches the build page on
web process B, and API clients on A and B follow its events (the log the pages follow) to check them one by
one. The worker running the build is killed with SIGKILL mid-build; the other worker resumes it from its
checkpoint (arq redelivers the job once the dead worker's lease lapses). Both browsers see it ready, with the
app answering in B's preview; both event streams hold every event once and in order; its screenshot and
snapshot are in S3; the scheduler ran in one process (or, if the killed worker led, in exactly one other
after it). The resume time is printed.

The two workers share one data directory, as they would share a workspace volume: the resumed build finds
its workspace where the dead worker left it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx
import pytest
import redis
from playwright.async_api import Page, async_playwright, expect
from sqlmodel import select

from core import api_tokens
from core.models import User
from core.services import build_services
from jobs.demo import founder_flow
from migrations import upgrade
from tests.builds.conftest import IDEA, MUST_HAVE, make_settings
from tests.live_app import CHROMIUM_ARGS, ISOLATED_FROM
from tests.services import (
    drop_postgres_database,
    fresh_postgres_database,
    require_chromium,
    require_postgres,
    require_redis,
)

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 11  # a database of its own on the shared Redis: the leader key and the arq queue are this run's
BUCKET = 'cofounder-topology'
PASSWORD = 'correct horse battery'
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.browser]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    def text(self) -> str:
        return self.log.read_text(errors='replace')


@dataclass
class Topology:
    env: dict[str, str]
    s3: object
    procs: dict[str, Proc] = field(default_factory=dict)

    def start(self, name: str, command: str, data_dir: Path, port: int | None = None) -> Proc:
        data_dir.mkdir(parents=True, exist_ok=True)
        log = data_dir.parent / f'{name}.log'
        env = {**self.env, 'DATA_DIR': str(data_dir), **({'PORT': str(port)} if port else {})}
        popen = subprocess.Popen([sys.executable, 'main.py', command], cwd=ROOT, env=env,
                                 stdout=log.open('wb'), stderr=subprocess.STDOUT)  # fmt: skip
        self.procs[name] = Proc(name, popen, log, port)
        return self.procs[name]

    def logs(self) -> str:
        return '\n'.join(f'--- {p.name}\n{p.text()[-3000:]}' for p in self.procs.values())


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    require_chromium()
    require_postgres()
    redis_url = require_redis().rsplit('/', 1)[0] + f'/{REDIS_DB}'
    redis.Redis.from_url(redis_url).flushdb()  # this run's database only
    pg_url = fresh_postgres_database()
    s3_port = free_port()
    moto = subprocess.Popen([sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p', str(s3_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f'http://127.0.0.1:{s3_port}'
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(('NICEGUI_', 'PYTEST')) and k not in ISOLATED_FROM},
        'HOST': '127.0.0.1',
        'ENV': 'test',
        'LOG_JSON': 'false',
        'LOG_LEVEL': 'INFO',
        'STORAGE_SECRET': 'topology-secret-0123456789',
        'DATABASE_URL': pg_url,
        'REDIS_URL': redis_url,
        'WORKERS': 'external',
        'WORKER_CONCURRENCY': '2',
        'SCHEDULER_LEADER_TTL_SECONDS': '3',
        'OFFLINE_PACE_SECONDS': '0.15',  # long enough to kill the worker mid-build
        'S3_BUCKET': BUCKET,
        'S3_ENDPOINT_URL': endpoint,
        'AWS_ACCESS_KEY_ID': 'testing',
        'AWS_SECRET_ACCESS_KEY': 'testing',
    }
    s3 = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='testing',
                      aws_secret_access_key='testing')  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            s3.create_bucket(Bucket=BUCKET)
            break
        except Exception:  # noqa: BLE001 - moto still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    upgrade(pg_url.replace('postgresql://', 'postgresql+psycopg://'))
    made = Topology(env, s3)
    try:
        yield made
    finally:
        for proc in made.procs.values():
            if proc.popen.poll() is None:
                proc.popen.terminate()
        for proc in made.procs.values():
            try:
                proc.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
        moto.terminate()
        moto.wait(timeout=10)
        drop_postgres_database(pg_url)


async def wait_for(check, what: str, topology: Topology, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f'timed out waiting for {what}\n{topology.logs()}')
        await asyncio.sleep(0.2)


async def follow(client: httpx.AsyncClient, url: str, token: str, seen: list[dict]) -> None:  # type: ignore[type-arg]
    """Read a build's SSE stream to its end, appending each event (seq, type, data)."""
    headers = {'Authorization': f'Bearer {token}'}
    async with client.stream('GET', url, headers=headers, timeout=None) as response:
        response.raise_for_status()
        async with aclosing(response.aiter_lines()) as lines:
            event: dict = {}  # type: ignore[type-arg]
            async for line in lines:
                if line.startswith('id: '):
                    event['seq'] = int(line[4:])
                elif line.startswith('event: '):
                    event['type'] = line[7:]
                elif line.startswith('data: '):
                    event['data'] = json.loads(line[6:])
                elif not line and 'seq' in event:
                    seen.append(event)
                    event = {}


async def sign_up(page: Page, web: str, email: str) -> None:
    await page.goto(f'{web}/signup')
    await page.get_by_label('Email').fill(email)
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Create account').click()
    await expect(page.get_by_text('Your projects')).to_be_visible()


async def log_in(page: Page, web: str, email: str) -> None:
    await page.goto(f'{web}/login')
    await page.get_by_label('Email').fill(email)
    await page.get_by_label('Password').fill(PASSWORD)
    await page.get_by_role('button', name='Log in').click()
    await expect(page.get_by_text('Your projects')).to_be_visible()


async def test_a_build_survives_its_worker_across_two_web_and_two_worker_processes(
    topology: Topology, tmp_path: Path
) -> None:
    web_ports = [free_port(), free_port()]
    for name, port in zip(('web-a', 'web-b'), web_ports, strict=True):
        topology.start(name, 'serve', tmp_path / name / 'data', port)
    for name in ('worker-a', 'worker-b'):
        topology.start(name, 'worker', tmp_path / 'workers' / 'data')  # one shared workspace volume
    web_a, web_b = (f'http://127.0.0.1:{p}' for p in web_ports)
    email = f'founder-{os.getpid()}@example.com'
    async with httpx.AsyncClient(timeout=10) as client, async_playwright() as playwright:

        async def webs_up() -> bool:
            try:
                answers = [await client.get(f'{web}/healthz') for web in (web_a, web_b)]
            except httpx.HTTPError:
                return False
            return all(r.status_code == 200 for r in answers)

        await wait_for(webs_up, 'both web processes', topology, 60)
        await wait_for(lambda: _all_logged(topology, ('worker-a', 'worker-b'), 'worker ready'), 'workers', topology, 60)
        browser = await playwright.chromium.launch(executable_path=require_chromium(), headless=True,
                                                   args=CHROMIUM_ARGS)  # fmt: skip
        founder, watcher = await browser.new_page(), await browser.new_page()  # two browsers: own cookies each
        await sign_up(founder, web_a, email)

        settings = make_settings(tmp_path / 'test-data', DATABASE_URL=topology.env['DATABASE_URL'],
                                 REDIS_URL=topology.env['REDIS_URL'], WORKERS='external')  # fmt: skip
        services = build_services(settings)
        async with services.sessions() as session:
            user = (await session.exec(select(User).where(User.email == email))).one()
        user, project_id = await founder_flow(services, IDEA, MUST_HAVE, user=user)  # idea → selected plan
        async with services.sessions() as session:
            token = (await api_tokens.create_token(session, user=user, name='topology')).secret
        await services.close()

        await founder.goto(f'{web_a}/projects/{project_id}/build')  # the founder, on web process A
        await founder.get_by_role('button', name='Start build').click()
        await founder.wait_for_url('**/builds/**')
        build_id = founder.url.rstrip('/').rsplit('/', 1)[1]
        await log_in(watcher, web_b, email)  # a second browser, on web process B
        await watcher.goto(f'{web_b}/builds/{build_id}')
        on_a: list[dict] = []  # type: ignore[type-arg]
        on_b: list[dict] = []  # type: ignore[type-arg]
        followers = [asyncio.create_task(follow(client, f'{web}/api/v1/builds/{build_id}/events', token, seen))
                     for web, seen in ((web_b, on_b), (web_a, on_a))]  # fmt: skip

        async def coding() -> bool:
            states = [e['data']['payload'].get('to_state') for e in on_b if e['type'] == 'build.stage.changed']
            return 'CODE' in states and len(on_b) >= len(states) + 8

        await wait_for(coding, 'the build to be well into CODE', topology, 60)
        running = [p for p in topology.procs.values() if p.name.startswith('worker') and build_id in p.text()]
        assert len(running) == 1, topology.logs()
        killed_at = time.monotonic()
        running[0].popen.send_signal(signal.SIGKILL)
        seen_before_kill = len(on_b)

        async def resumed() -> bool:
            later = on_b[seen_before_kill:]
            return 'STARTING' in [
                e['data']['payload'].get('to_state') for e in later if e['type'] == 'build.stage.changed'
            ]

        await wait_for(resumed, 'another worker to resume the build', topology, 40)
        resume_s = time.monotonic() - killed_at
        await asyncio.wait_for(asyncio.gather(*followers), 120)
        for page in (founder, watcher):  # both browsers show it ready, the app answering in the preview
            await expect(page.get_by_text('Your app is ready — v0.1')).to_be_visible(timeout=30_000)
        await expect(watcher.frame_locator('iframe').locator('body')).not_to_be_empty(timeout=30_000)
        await browser.close()

    print(f'\nresumed {resume_s:.1f} s after the worker was killed; {len(on_a)} events')
    assert on_a[-1]['type'] == 'build.done' and on_a[-1]['data']['payload']['state'] == 'READY', topology.logs()
    assert [e['seq'] for e in on_a] == list(range(1, len(on_a) + 1))  # every event once, in order
    assert on_b == on_a  # the follower on the other web process saw exactly the same
    survivor = next(p for p in topology.procs.values() if p.name.startswith('worker') and p is not running[0])
    assert build_id in survivor.text()
    keys = [o['Key'] for o in topology.s3.list_objects_v2(Bucket=BUCKET).get('Contents', [])]  # type: ignore[attr-defined]
    assert any('/snapshots/' in k for k in keys) and any('/screenshots/' in k for k in keys), keys
    leaders = [p.name for p in topology.procs.values() if 'scheduler: leading' in p.text()]
    if running[0].name in leaders:  # the killed worker led: exactly one other took over once its lock expired
        assert len(leaders) == 2, topology.logs()
    else:
        assert len(leaders) == 1, topology.logs()


async def _all_logged(topology: Topology, names: tuple[str, ...], text: str) -> bool:
    return all(text in topology.procs[name].text() for name in names)
