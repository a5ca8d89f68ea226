"""The isolated sandbox's egress proxy: only allowlisted hosts pass, never to an address of the host or its
private networks, and every refusal is a plain line in the build log.

Real sockets and real bubblewrap. The proxy's network edge (name resolution and outgoing connections) is a
`MappedNetwork` in most tests: `origin.test` resolves to a public-looking address that the edge connects to
a TCP server of this test on 127.0.0.1, so an allowed host is really tunnelled without leaving the machine,
while 127.0.0.1 itself, asked for by name or number, stays refused. No request ever leaves for a private or
public address: every refusal happens before the edge is asked to connect (the edge records each connect).
The last tests reach the real registries (which these machines and CI reach) through the proxy.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core import accounts, audit
from core.adapters.egress_proxy import EgressProxy, SystemNetwork, public_address
from core.adapters.notify_memory import MemoryNotifier
from core.adapters.sandbox_local import LocalSandbox, LocalSandboxProvider
from core.admin_settings import EGRESS_DEFAULT_HOSTS, egress_allowlist, set_egress_allowlist
from core.budget import ensure_default_tiers
from core.builds.logs import LogBuffer
from core.config import Settings
from core.db import SessionFactory
from core.errors import InvalidInput
from core.event_log import EventLog
from core.events import LogLines
from tests.integration.test_event_log import make_job
from tests.services import require_bubblewrap, require_npm, require_postgres, require_redis

PUBLIC = '93.184.216.34'  # what the test edge says origin.test resolves to; never connected to
ALLOWED = ['origin.test', 'rebind.test', 'private.test', 'metadata.test']
NOT_ALLOWED_LINE = "I can't reach example.com from the workspace; only package registries are allowed."


class MappedNetwork:
    """The proxy's network edge for tests: names map to addresses, one public-looking address to a local server."""

    def __init__(self, origin_port: int) -> None:
        self.names = {'origin.test': [PUBLIC], 'rebind.test': ['127.0.0.1'], 'private.test': [PUBLIC, '10.1.2.3'],
                      'metadata.test': ['169.254.169.254']}  # fmt: skip
        self.origin_port = origin_port
        self.resolved: list[str] = []
        self.connects: list[tuple[str, int]] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append(host)
        if host not in self.names:
            raise OSError(f'no such name: {host}')
        return self.names[host]

    async def connect(self, address: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.connects.append((address, port))
        if address != PUBLIC:
            raise AssertionError(f'the proxy tried to connect to {address}:{port}')
        return await asyncio.open_connection('127.0.0.1', self.origin_port)


class Origin:
    """A tiny HTTP server on the host's 127.0.0.1 that answers every request and remembers its head."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> Origin:
        self.server = await asyncio.start_server(self._answer, '127.0.0.1', 0)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.heads.append(await reader.readuntil(b'\r\n\r\n'))
            body = b'hello from the origin\n'
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' % (len(body), body))
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def hosts_source(hosts: list[str]):  # type: ignore[no-untyped-def]
    async def read() -> list[str]:
        return list(hosts)

    return read


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = await Origin().start()
    yield server
    await server.stop()


@pytest.fixture
def network(origin: Origin) -> MappedNetwork:
    return MappedNetwork(origin.port)


@pytest.fixture
async def proxy_port(network: MappedNetwork) -> AsyncIterator[tuple[int, list[str]]]:
    said: list[str] = []
    proxy = EgressProxy(hosts_source([*EGRESS_DEFAULT_HOSTS, *ALLOWED]), network=network)
    listener, port = await proxy.listen_tcp(on_refusal=said.append)
    yield port, said
    await listener.close()


async def exchange(port: int, request: bytes, then: bytes = b'') -> tuple[bytes, bytes]:
    """Send a request to the proxy; returns its answer head, and (after a 200 tunnel) what `then` gets back."""
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 10)
        if then and head.startswith(b'HTTP/1.1 200 Connection established'):
            writer.write(then)
            await writer.drain()
        rest = await asyncio.wait_for(reader.read(), 10)
        return head, rest
    finally:
        writer.close()


# ── the proxy itself ─────────────────────────────────────────────────────────────────────────


async def test_an_allowed_host_is_tunnelled(proxy_port: tuple[int, list[str]], network: MappedNetwork,
                                            origin: Origin) -> None:  # fmt: skip
    port, said = proxy_port
    head, rest = await exchange(port, b'CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n',
                                then=b'GET /inside HTTP/1.1\r\nHost: origin.test\r\n\r\n')  # fmt: skip
    assert head.startswith(b'HTTP/1.1 200 Connection established')
    assert rest.endswith(b'hello from the origin\n')
    assert origin.heads[0].startswith(b'GET /inside HTTP/1.1')  # the bytes went through untouched
    assert network.connects == [(PUBLIC, 443)] and said == []


async def test_plain_http_is_forwarded_in_origin_form(proxy_port: tuple[int, list[str]], origin: Origin) -> None:
    port, _ = proxy_port
    head, rest = await exchange(port, b'GET http://origin.test/simple/six/?x=1 HTTP/1.1\r\nHost: origin.test\r\n'
                                      b'Proxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n')  # fmt: skip
    assert head.startswith(b'HTTP/1.1 200 OK') and rest == b'hello from the origin\n'
    sent = origin.heads[0].decode()
    assert sent.startswith('GET /simple/six/?x=1 HTTP/1.1\r\n')
    assert 'Accept: */*' in sent and 'Connection: close' in sent and 'Proxy-Connection' not in sent


@pytest.mark.parametrize(
    ('target', 'words'),
    [
        ('example.com:443', NOT_ALLOWED_LINE),
        ('127.0.0.1:5432', "I can't reach 127.0.0.1 from the workspace; only package registries are allowed."),
        ('10.0.0.5:443', "I can't reach 10.0.0.5 from the workspace; only package registries are allowed."),
        ('169.254.169.254:80', "I can't reach 169.254.169.254 from the workspace; only package registries are "
                               'allowed.'),
        ('origin.test:5432', "I can't reach origin.test from the workspace; only package registries are allowed."),
        ('rebind.test:443', "I can't reach rebind.test from the workspace; it points to a private or local address "
                            '(127.0.0.1).'),
        ('private.test:443', "I can't reach private.test from the workspace; it points to a private or local address "
                             '(10.1.2.3).'),
        ('metadata.test:80', "I can't reach metadata.test from the workspace; it points to a private or local address "
                             '(169.254.169.254).'),
    ],
)  # fmt: skip
async def test_everything_else_is_refused_before_any_connection(
    proxy_port: tuple[int, list[str]], network: MappedNetwork, target: str, words: str
) -> None:
    port, said = proxy_port
    head, body = await exchange(port, f'CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n'.encode())
    assert head.startswith(b'HTTP/1.1 403 Forbidden')
    assert body.decode().strip() == words
    assert said == [words]
    assert network.connects == []


async def test_plain_http_to_a_refused_host_and_https_without_connect_are_refused(
    proxy_port: tuple[int, list[str]], network: MappedNetwork
) -> None:
    port, said = proxy_port
    head, _ = await exchange(port, b'GET http://127.0.0.1:6379/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 403')
    head, _ = await exchange(port, b'GET https://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 400')  # no TLS is terminated here: https must be tunnelled
    assert network.connects == [] and len(said) == 1


async def test_private_addresses_are_refused_even_when_an_admin_lists_them(network: MappedNetwork) -> None:
    said: list[str] = []
    listed = ['127.0.0.1:5432', '10.0.0.5', '169.254.169.254', '[::1]:6379', 'localhost']
    network.names['localhost'] = ['127.0.0.1', '::1']
    listener, port = await EgressProxy(hosts_source(listed), network=network).listen_tcp(on_refusal=said.append)
    for target in ['127.0.0.1:5432', '10.0.0.5:443', '169.254.169.254:80', '[::1]:6379', 'localhost:443']:
        head, _ = await exchange(port, f'CONNECT {target} HTTP/1.1\r\n\r\n'.encode())
        assert head.startswith(b'HTTP/1.1 403'), target
    await listener.close()
    assert network.connects == []
    assert all('private or local address' in line for line in said) and len(said) == 5


async def test_a_refusal_is_said_once_per_host_while_it_repeats(proxy_port: tuple[int, list[str]]) -> None:
    port, said = proxy_port
    for _ in range(5):  # npm and pip retry: the founder reads one line, not five
        head, _ = await exchange(port, b'CONNECT example.com:443 HTTP/1.1\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 403')
    assert said == [NOT_ALLOWED_LINE]


def test_which_addresses_count_as_the_hosts_own() -> None:
    for address in ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0',
                    '100.64.0.1', '::1', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '64:ff9b::a00:1',
                    '2002:7f00:1::1', '224.0.0.1', 'not-an-address']:  # fmt: skip
        assert not public_address(address), address
    for address in ['93.184.216.34', '151.101.0.223', '2606:4700::1111', '::ffff:8.8.8.8', '203.0.113.80']:
        assert public_address(address), address


# ── the allowlist is an admin setting ────────────────────────────────────────────────────────


async def test_the_allowlist_is_an_audited_admin_setting(session_factory: SessionFactory) -> None:
    async with session_factory() as session:
        await ensure_default_tiers(session)
        admin = await accounts.sign_up(session, email='admin@example.com', password='correct horse battery')
        assert await egress_allowlist(session) == ['registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org']
        with pytest.raises(InvalidInput):
            await set_egress_allowlist(session, actor=admin, text='pypi.org, http://evil/')
        saved = await set_egress_allowlist(session, actor=admin, text='pypi.org files.pythonhosted.org\nPyPI.org')
        entries = await audit.recent(session, actor=admin, area='system')
    assert saved == ['pypi.org', 'files.pythonhosted.org']
    assert entries[0].action == 'setting.egress_allowlist'
    assert entries[0].after == {'hosts': saved} and entries[0].before == {'hosts': list(EGRESS_DEFAULT_HOSTS)}

    async def from_db() -> list[str]:
        async with session_factory() as session:
            return await egress_allowlist(session)

    said: list[str] = []
    listener, port = await EgressProxy(from_db, network=SystemNetwork()).listen_tcp(on_refusal=said.append)
    head, _ = await exchange(port, b'CONNECT registry.npmjs.org:443 HTTP/1.1\r\n\r\n')  # removed by the admin
    await listener.close()
    assert head.startswith(b'HTTP/1.1 403')
    assert said == ["I can't reach registry.npmjs.org from the workspace; only package registries are allowed."]


# ── from inside the isolated sandbox ─────────────────────────────────────────────────────────


@pytest.fixture
async def box(tmp_path: Path, network: MappedNetwork) -> AsyncIterator[LocalSandbox]:
    require_bubblewrap()
    settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', SANDBOX_NETWORK='isolated')
    proxy = EgressProxy(hosts_source([*EGRESS_DEFAULT_HOSTS, *ALLOWED]), network=network)
    provider = LocalSandboxProvider(settings, use_bwrap=True, egress=proxy)
    sandbox = await provider.create(key=f'egress-{uuid.uuid4().hex}')
    yield sandbox
    await sandbox.destroy()


async def test_curl_and_urllib_in_the_sandbox_reach_an_allowed_origin(box: LocalSandbox, origin: Origin) -> None:
    tunnelled = await box.run('curl -sS --proxytunnel http://origin.test:443/through-connect', timeout=60)
    assert tunnelled.ok, tunnelled.stderr
    assert tunnelled.stdout == 'hello from the origin\n'
    fetched = await box.run(
        'python3 -c "import urllib.request; print(urllib.request.urlopen(\'http://origin.test/via-get\').read())"',
        timeout=60,
    )
    assert fetched.ok, fetched.stderr
    assert "b'hello from the origin\\n'" in fetched.stdout
    assert [head.split(b'\r\n')[0] for head in origin.heads] == [b'GET /through-connect HTTP/1.1',
                                                                 b'GET /via-get HTTP/1.1']  # fmt: skip
    assert 'package registries through the egress proxy' in box.provider.isolation()


async def test_the_sandbox_still_cannot_reach_postgres_or_redis(box: LocalSandbox, network: MappedNetwork) -> None:
    require_postgres(), require_redis()  # they must really be listening, or this proves nothing
    probe = (
        'import socket\n'
        'for port in (5432, 6379):\n'
        '    try:\n'
        "        socket.create_connection(('127.0.0.1', port), 5)\n"
        "        print(port, 'connected')\n"
        '    except OSError as e:\n'
        '        print(port, type(e).__name__)\n'
    )
    await box.write_file('probe.py', probe)
    direct = await box.run('python3 probe.py', timeout=60)
    assert direct.stdout.splitlines() == ['5432 ConnectionRefusedError', '6379 ConnectionRefusedError']
    for target in ['127.0.0.1:5432', 'localhost:6379', 'rebind.test:443']:
        # NO_PROXY sends 127.0.0.1 and localhost direct (the app talks to itself): here, ask the proxy on purpose
        via = await box.run(f'curl -sS -o /dev/null --noproxy "" -x "$http_proxy" -p http://{target}/', timeout=60)
        assert not via.ok and 'CONNECT tunnel failed, response 403' in via.stderr, via.stderr
    assert network.connects == []


async def test_a_refusal_is_a_plain_line_in_the_build_log(box: LocalSandbox, session_factory: SessionFactory) -> None:
    events = EventLog(session_factory, MemoryNotifier())
    job_id = await make_job(session_factory)
    buffer = LogBuffer(events, job_id, phase='DEPS', flush_interval=3600)  # close() writes it all: no timer race

    async def to_log(chunk: str) -> None:
        await buffer.write(chunk, 'stderr')

    result = await box.run('curl -sS https://example.com/', on_stderr=to_log, timeout=60)
    await buffer.close()
    assert not result.ok
    lines = [line for e in await events.read(job_id) if isinstance(e, LogLines) for line in e.lines]
    assert NOT_ALLOWED_LINE in lines
    assert NOT_ALLOWED_LINE in result.stderr  # the agent reads it in the command's output too


# ── the real registries through the proxy ────────────────────────────────────────────────────


@pytest.fixture
async def registry_box(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    require_bubblewrap()
    settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp_path / 'data', SANDBOX_NETWORK='isolated')
    proxy = EgressProxy(hosts_source(list(EGRESS_DEFAULT_HOSTS)))
    sandbox = await LocalSandboxProvider(settings, use_bwrap=True, egress=proxy).create(key=f'reg-{uuid.uuid4().hex}')
    yield sandbox
    await sandbox.destroy()


async def test_pip_download_through_the_proxy(registry_box: LocalSandbox) -> None:
    result = await registry_box.run('python3 -m pip download --no-deps --no-cache-dir -d /tmp/wheels six==1.16.0 '
                                    '&& ls /tmp/wheels', timeout=300)  # fmt: skip
    assert result.ok, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'six-1.16.0-py2.py3-none-any.whl' in result.stdout


async def test_npm_view_through_the_proxy(registry_box: LocalSandbox) -> None:
    require_npm()
    result = await registry_box.run('npm view left-pad@1.3.0 version --cache /tmp/npm-cache', timeout=300)
    assert result.ok, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.strip() == '1.3.0'
