"""The API over real HTTP against `python main.py` (OPS-4, OPS-8): a token from `main.py token`, a build started
through the API and followed as Server-Sent Events with a reconnect in the middle of the live build (no gap, no
repeat, ends at `build.done`), its zip, the API-only schema, and /metrics moving while the build ran."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import accounts
from core.services import build_services
from jobs.demo import founder_flow
from tests.e2e.conftest import LiveApp, free_port, start_app, stop_app
from tests.e2e.test_build_live import IDEA, PASSWORD, app_settings
from tests.live_app import ISOLATED_FROM, ROOT
from tests.services import require_chromium

EMAIL = 'integrator@example.com'


def new_token(app: LiveApp) -> str:
    """`python main.py token` against the app's data dir: what an operator runs for a script."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('NICEGUI_', 'PYTEST')) and k not in ISOLATED_FROM}
    env.update({'DATA_DIR': str(app.data_dir), 'ENV': 'test', 'LOG_JSON': 'false'})
    done = subprocess.run([sys.executable, 'main.py', 'token', '--email', EMAIL, '--name', 'e2e'], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


async def planned_project(app: LiveApp) -> str:
    services = build_services(app_settings(app))
    try:
        async with services.sessions() as session:
            user = await accounts.sign_up(session, email=EMAIL, password=PASSWORD)
        _, project_id = await founder_flow(services, IDEA, user=user)
    finally:
        await services.close()
    return str(project_id)


async def read_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The events of an SSE response as they arrive (heartbeat comments and `retry:` skipped)."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == '':
            if 'data' in fields:
                yield {'id': int(fields['id']), 'event': fields['event'], **json.loads(fields['data'])}
            fields = {}
        elif not line.startswith(':'):
            name, _, text = line.partition(': ')
            fields[name] = text


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(v for (n, ls), v in scraped.items() if n == name and set(labels.items()) <= set(ls))


@pytest.fixture
def paced_app(tmp_path) -> Iterator[LiveApp]:  # type: ignore[no-untyped-def]
    require_chromium()
    # Paced so that the build is still running when the client drops its stream and comes back.
    app = start_app(tmp_path / 'data', free_port(), {'OFFLINE_PACE_SECONDS': '0.3'})
    yield app
    stop_app(app)


async def test_sse_resumes_across_a_reconnect_mid_build_and_metrics_move(paced_app: LiveApp) -> None:
    app = paced_app
    project_id = await planned_project(app)
    headers = {'Authorization': f'Bearer {new_token(app)}'}
    async with httpx.AsyncClient(base_url=app.url, headers=headers, timeout=30) as http:
        before = scrape((await http.get('/metrics')).text)
        schema = (await http.get('/openapi.json')).json()
        assert schema['paths'] and all(path.startswith('/api/v1/') for path in schema['paths'])

        started = await http.post(f'/api/v1/projects/{project_id}/builds')
        assert started.status_code == 201, started.text
        build_id = started.json()['id']
        url = f'/api/v1/builds/{build_id}/events'

        first: list[dict[str, Any]] = []
        async with http.stream('GET', url) as response:
            assert response.headers['content-type'].startswith('text/event-stream')
            async for event in read_events(response):
                first.append(event)
                if event['event'] == 'agent.narration' and len(first) >= 8:
                    break  # the client drops the connection in the middle of the build
        dropped_at = time.time()
        assert first[-1]['event'] != 'build.done'

        second: list[dict[str, Any]] = []
        resume = {'Last-Event-ID': str(first[-1]['id'])}
        async with asyncio.timeout(180), http.stream('GET', url, headers=resume) as response:
            async for event in read_events(response):
                second.append(event)
        ids = [e['id'] for e in first + second]
        assert ids == list(range(1, len(ids) + 1))  # no gap, no repeat across the reconnect
        assert second[-1]['event'] == 'build.done' and second[-1]['payload']['state'] == 'READY'
        made_later = [e for e in second if e['at'] and datetime.fromisoformat(e['at']).timestamp() > dropped_at]
        assert made_later, 'the second stream carried events made after the reconnect (the build was live)'

        status = (await http.get(f'/api/v1/builds/{build_id}')).json()
        assert status['state'] == 'READY' and status['version'] == 'v0.1'
        files = await http.get(f'/api/v1/builds/{build_id}/zip')
        assert files.status_code == 200 and zipfile.ZipFile(io.BytesIO(files.content)).namelist()

        after = scrape((await http.get('/metrics')).text)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved('cofounder_llm_calls_total') > 0 and moved('cofounder_llm_tokens_total') > 0
    assert moved('cofounder_stage_duration_seconds_count', stage='CODE') >= 1
    assert moved('cofounder_build_duration_seconds_count', state='READY') == 1
    assert moved('cofounder_sandbox_command_duration_seconds_count') > 0
    assert moved('cofounder_push_latency_seconds_count', channel='sse') > 0
    assert total(after, 'cofounder_builds', state='READY') == 1
    assert moved('cofounder_http_requests_total', route='/api/v1/builds/{build_id}/events', status='200') == 2
