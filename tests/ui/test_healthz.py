"""/readyz checks each integration for real and answers 503 when a required one fails; /healthz stays cheap (the
process and its database) for load balancers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from nicegui.testing import User

from tests.services import require_bubblewrap, require_chromium


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]  # nothing listens once the socket closes


async def test_embedded_defaults_are_all_healthy(user: User, app_env: Path) -> None:
    require_bubblewrap()
    require_chromium()
    response = await user.http_client.get('/readyz')
    body = response.json()
    assert response.status_code == 200 and body['status'] == 'ok'
    assert {name: body[name]['ok'] for name in ('database', 'events', 'storage', 'sandbox', 'llm', 'browser')} == {
        'database': True, 'events': True, 'storage': True, 'sandbox': True, 'llm': True, 'browser': True,
    }  # fmt: skip
    assert body['database']['detail'] == 'sqlite' and body['events']['detail'] == 'in-process'
    assert body['sandbox']['detail'].startswith('bubblewrap') and body['browser']['detail'] == 'ready'
    assert body['llm']['offline'] is True and body['browser']['required'] is False
    assert not list((app_env / 'blobs').rglob('health/*'))  # the probe blob is gone
    assert not [p for p in (app_env / 'workspaces').iterdir() if p.name.startswith('health-')]


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('REDIS_URL', f'redis://127.0.0.1:{closed_port()}/0')


@pytest.mark.usefixtures('redis_down')
async def test_a_configured_redis_that_does_not_answer_fails_the_check(user: User) -> None:
    response = await user.http_client.get('/readyz')
    body = response.json()
    assert response.status_code == 503 and body['status'] == 'failing'
    assert body['events']['ok'] is False and body['events']['required'] is True
    assert 'ConnectionError' in body['events']['detail']
    assert body['database']['ok'] is True


@pytest.mark.usefixtures('redis_down')
async def test_healthz_only_asks_the_database(user: User, app_env: Path) -> None:
    """A load balancer's probe keeps a process that serves (its database answers) in rotation, even while an
    integration is down (that is /readyz's answer), and costs no probe blob, sandbox or model call."""
    response = await user.http_client.get('/healthz')
    assert response.status_code == 200 and response.json() == {'status': 'ok', 'database': True}
    assert not list((app_env / 'blobs').rglob('health/*'))
    assert not (app_env / 'workspaces').exists() or not list((app_env / 'workspaces').iterdir())
