"""The local sandbox's network (SANDBOX_NETWORK): isolated from host services, yet the app stays reachable.

Real bubblewrap, real sockets: a TCP service the test opens on the host's 127.0.0.1, the Postgres and
Redis running here, the sample app served through the bridge (app socket in the workspace → host port).
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import httpx
import pytest

from core.adapters.sandbox_local import LocalSandbox, LocalSandboxProvider
from core.config import Settings
from tests.integration.test_sandbox_local import copy_sample_app
from tests.services import require_bubblewrap, require_npm, require_postgres, require_redis


@pytest.fixture(autouse=True)
def _bubblewrap() -> None:
    require_bubblewrap()


Network = Literal['isolated', 'shared']
MARKER = b'host-only-service\n'
PROBE = """
import socket, sys
for i, port in enumerate(sys.argv[1:]):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(('127.0.0.1', int(port)))
    except OSError as e:
        print(port, 'unreachable', type(e).__name__)
        continue
    print(port, 'connected', s.recv(64).decode().strip() if i == 0 else '')
"""


def make_provider(tmp_path: Path, network: Network) -> LocalSandboxProvider:
    settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', SANDBOX_NETWORK=network)
    return LocalSandboxProvider(settings, use_bwrap=True)


@pytest.fixture
async def isolated(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    box = await make_provider(tmp_path, 'isolated').create(key=f'net-{uuid.uuid4().hex[:8]}')
    yield box
    await box.destroy()


@pytest.fixture
async def host_service() -> AsyncIterator[tuple[int, list[str]]]:
    """A TCP service on the host's 127.0.0.1 that greets every client (and counts them)."""
    clients: list[str] = []

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.append('tcp')
        writer.write(MARKER)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, '127.0.0.1', 0)
    yield int(server.sockets[0].getsockname()[1]), clients
    server.close()
    await server.wait_closed()


async def probe(box: LocalSandbox, *ports: int) -> dict[str, str]:
    await box.write_file('probe.py', PROBE)
    result = await box.run(f'python3 probe.py {" ".join(map(str, ports))}', timeout=60)
    assert result.ok and not result.timed_out, result.stderr
    return {line.split(' ', 1)[0]: line.split(' ', 1)[1] for line in result.stdout.splitlines()}


def port_listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) == 0


def port_of(url: str) -> int:
    return int(url.rsplit(':', 1)[1])


# ── what sandboxed code can reach ────────────────────────────────────────────────────────────


async def test_isolated_commands_cannot_reach_host_services(
    isolated: LocalSandbox, host_service: tuple[int, list[str]]
) -> None:
    port, clients = host_service
    require_postgres(), require_redis()  # they must really be listening, or this proves nothing
    seen = await probe(isolated, port, 5432, 6379)
    assert seen == {str(port): 'unreachable ConnectionRefusedError', '5432': 'unreachable ConnectionRefusedError',
                    '6379': 'unreachable ConnectionRefusedError'}  # fmt: skip
    assert clients == []
    assert 'own network namespace' in isolated.provider.isolation()


async def test_shared_network_reaches_host_services(tmp_path: Path, host_service: tuple[int, list[str]]) -> None:
    """The documented trade-off of SANDBOX_NETWORK=shared: downloads work, and so does 127.0.0.1."""
    port, clients = host_service
    require_redis()
    provider = make_provider(tmp_path, 'shared')
    assert 'shared host network' in provider.isolation()
    box = await provider.create(key='shared-net')
    seen = await probe(box, port, 6379)
    await box.destroy()
    assert seen[str(port)] == f'connected {MARKER.decode().strip()}'
    assert seen['6379'].startswith('connected')
    assert clients == ['tcp']


async def test_downloads_fail_fast_with_a_clear_note(isolated: LocalSandbox) -> None:
    fetch = await isolated.run(
        'python3 -c "import urllib.request; urllib.request.urlopen(\'https://pypi.org/simple/\', timeout=30)"',
        timeout=60,
    )
    assert not fetch.ok and not fetch.timed_out
    assert 'Temporary failure in name resolution' in fetch.stderr
    assert 'no network access (SANDBOX_NETWORK=isolated)' in fetch.stderr

    by_ip = await isolated.run('python3 -c "import socket; socket.create_connection((\'1.1.1.1\', 443), 30)"')
    assert not by_ip.ok and not by_ip.timed_out
    assert 'Network is unreachable' in by_ip.stderr

    other_failure = await isolated.run('exit 3')  # only network failures get the note
    assert other_failure.exit_code == 3 and other_failure.stderr == ''


async def test_npm_install_fails_instead_of_retrying_for_a_minute(isolated: LocalSandbox) -> None:
    require_npm()
    await isolated.write_file('package.json', '{"name": "x", "version": "1.0.0", "dependencies": {"left-pad": "1"}}')
    result = await isolated.run('npm install --no-audit --no-fund', timeout=60)
    assert not result.ok and not result.timed_out  # with npm's default retries this took ~70 s here
    assert 'EAI_AGAIN' in result.stderr
    assert 'no network access' in result.stderr


# ── the app stays reachable through the bridge ───────────────────────────────────────────────


@pytest.mark.parametrize('network', ['isolated', 'shared'])
async def test_sample_app_answers_through_the_returned_url(tmp_path: Path, network: Network) -> None:
    box = await make_provider(tmp_path, network).create(key='sample')
    await copy_sample_app(box)
    url = await box.start_app()
    assert url.startswith('http://127.0.0.1:')
    assert await box.app_url() == url
    async with httpx.AsyncClient(base_url=url) as client:
        page = await client.get('/')
        css = await client.get('/static/style.css')
        missing = await client.get('/nope')
    assert page.status_code == 200 and '<section id="features">' in page.text
    assert css.status_code == 200 and 'font-family' in css.text
    assert missing.status_code == 404

    # the bridge's socket directory is ours, not the app's: never listed or snapshotted
    assert await box.list_files() == ['app.py', 'index.html', 'static/style.css']
    assert '.cofounder/' not in await box.list_files('.', recursive=False)
    names = tarfile.open(fileobj=io.BytesIO(await box.archive())).getnames()
    assert not [n for n in names if n.startswith('.cofounder')]
    await box.destroy()
    assert not port_listening(port_of(url))


async def test_twenty_parallel_requests_all_succeed(isolated: LocalSandbox) -> None:
    await copy_sample_app(isolated)
    url = await isolated.start_app()
    expected = (Path(__file__).parents[1] / 'fixtures' / 'sample_app' / 'static' / 'style.css').read_text()

    async def fetch(i: int) -> tuple[int, str]:
        async with httpx.AsyncClient() as client:  # one connection each
            response = await client.get(f'{url}/static/style.css?n={i}')
            return response.status_code, response.text

    results = await asyncio.gather(*(fetch(i) for i in range(20)))
    assert results == [(200, expected)] * 20


async def test_pause_resume_and_stop_leave_no_listener(isolated: LocalSandbox) -> None:
    await copy_sample_app(isolated)
    url = await isolated.start_app()
    await isolated.pause()
    assert await isolated.app_url() is None
    assert not port_listening(port_of(url))

    await isolated.resume()
    resumed = await isolated.app_url()
    assert resumed is not None
    async with httpx.AsyncClient() as client:
        assert (await client.get(resumed + '/')).status_code == 200
    await isolated.stop_app()
    assert await isolated.app_url() is None
    assert not port_listening(port_of(resumed))

    again = await isolated.start_app()
    await isolated.kill_processes()
    assert await isolated.app_url() is None
    assert not port_listening(port_of(again))


async def test_app_url_is_none_once_the_app_exits_by_itself(isolated: LocalSandbox) -> None:
    await isolated.write_file(
        'app.py',
        'import os, http.server\n'
        'class H(http.server.BaseHTTPRequestHandler):\n'
        '    def do_GET(self):\n'
        '        self.send_response(200); self.end_headers(); self.wfile.write(b"once")\n'
        'server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)\n'
        'server.handle_request(); server.handle_request()  # the readiness check, then one visitor\n',
    )
    url = await isolated.start_app()
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).text == 'once'
    for _ in range(100):  # wait (bounded) for the exit to be noticed
        if await isolated.app_url() is None:
            break
        await asyncio.sleep(0.05)
    assert await isolated.app_url() is None
    assert not port_listening(port_of(url))


# ── the socket path is controlled by sandboxed code ──────────────────────────────────────────


@pytest.mark.parametrize('plant', ['socket', 'directory'])
async def test_a_planted_symlink_does_not_redirect_the_host(isolated: LocalSandbox, tmp_path: Path, plant: str) -> None:
    """An agent replacing the app socket (or its directory) with a symlink to a host socket gets nothing."""
    host_dir = tmp_path / 'host-run'
    host_dir.mkdir()
    connections: list[str] = []

    async def host_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append('unix')  # e.g. Postgres' or Docker's socket
        writer.write(b'HTTP/1.0 200 OK\r\n\r\nhost secret')
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(host_only, path=str(host_dir / 'app.sock'))
    await copy_sample_app(isolated)
    url = await isolated.start_app()
    if plant == 'socket':
        command = f'rm .cofounder/app.sock && ln -s {host_dir}/app.sock .cofounder/app.sock'
    else:
        command = f'mv .cofounder .old && ln -s {host_dir} .cofounder'
    made = await isolated.run(command)
    assert made.ok, made.stderr

    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.TransportError):
            await client.get(url)
    assert connections == []

    # the plant is real: a host that connected by path would have reached the host-only socket
    workspace = os.open(isolated.path, os.O_PATH)  # via /proc: the real path is too long for AF_UNIX
    try:
        reader, writer = await asyncio.open_unix_connection(f'/proc/self/fd/{workspace}/.cofounder/app.sock')
        assert (await reader.read()).endswith(b'host secret')
        writer.close()
    finally:
        os.close(workspace)
    server.close()
    await server.wait_closed()
    assert connections == ['unix']
