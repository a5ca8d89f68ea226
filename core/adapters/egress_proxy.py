"""Registry-only egress for the isolated local sandbox: an HTTP(S) forward proxy on the host.

An isolated sandbox has its own network namespace with only a loopback. Its one way out is this proxy:
each sandbox gets its own Unix socket (bind-mounted read-only into it; `sandbox_egress_inside.py` relays
127.0.0.1:<port> in there to that socket) and the standard proxy variables point at it. The proxy
- tunnels CONNECT (HTTPS, no TLS interception) and forwards plain-HTTP requests in absolute form;
- lets through only the configured hosts (an admin setting; `host` means ports 80 and 443, `host:port`
  that one port), refusing everything else, literal addresses included;
- resolves the name once, refuses it when any address is loopback, private, link-local, metadata or
  otherwise not public, and connects to exactly the checked address, so a DNS answer that changes
  between check and connect (rebinding) cannot reach the host's services;
- says every refusal in plain words to the sandbox that asked (its build log and feed), once per host
  every few seconds, and answers the client 403 with the same words.

Hand-written on asyncio streams rather than proxy.py: proxy.py can pin the checked address (its
`resolve_dns` plugin hook returns the IP to connect to), but that hook is synchronous inside proxy.py's own
worker processes, and it serves one listener, so neither the database-held allowlist nor the refusal line
for the one sandbox that asked can reach our event loop without IPC; a per-sandbox socket here does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from core.stream_pipe import pipe

log = logging.getLogger(__name__)

DEFAULT_PORTS = frozenset({80, 443})
HEAD_LIMIT = 16 * 1024  # a request line and headers; longer is refused (431)
HEAD_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 15.0
MAX_CONNECTIONS = 64  # per sandbox: a runaway loop cannot exhaust the host's sockets
REPEAT_QUIET_S = 10.0  # the same refusal is said again to the same sandbox only after this long
ALLOWLIST_TTL_S = 5.0  # the admin's edits apply within this long without a database read per request
# Instance metadata endpoints are link-local or unique-local already; named so the intent is explicit.
METADATA = frozenset({ipaddress.ip_address('169.254.169.254'), ipaddress.ip_address('fd00:ec2::254')})
# Private and shared networks, "this network" (0.0.0.0/8 reaches the host itself), the limited broadcast.
_BLOCKED = '0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 172.16.0.0/12 192.168.0.0/16 255.255.255.255/32 fc00::/7 fec0::/10'
BLOCKED = tuple(ipaddress.ip_network(net) for net in _BLOCKED.split())
NAT64 = ipaddress.ip_network('64:ff9b::/96')
HOP_HEADERS = (b'proxy-connection', b'proxy-authorization', b'connection', b'keep-alive')

OnRefusal = Callable[[str], Awaitable[None] | None]
HostsSource = Callable[[], Awaitable[Iterable[str]]]


class Network(Protocol):
    """The proxy's edge: name resolution and outgoing connections (a test maps names to local servers)."""

    async def resolve(self, host: str, port: int) -> list[str]: ...

    async def connect(self, address: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]: ...


class SystemNetwork:
    """The host's resolver and sockets."""

    async def resolve(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def connect(self, address: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(address, port)


class Refused(Exception):
    """A destination the workspace may not reach; the message is what the founder reads."""


def public_address(text: str) -> bool:
    """Whether an address is outside the ranges that reach this host or its private networks.

    An explicit list rather than `is_global`: where the registries sit behind a gateway on a documentation
    range (this workplace answers 203.0.113.x for them), `is_global` would refuse them though nothing of the
    host is there.
    """
    try:
        address = ipaddress.ip_address(text.split('%', 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return public_address(str(embedded))
    return not (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or address in METADATA
        or any(address in net for net in BLOCKED if net.version == address.version)
    )


def parse_allowlist(entries: Iterable[str]) -> dict[str, frozenset[int]]:
    """`host` → ports 80 and 443; `host:port` → that port too. Names are compared lower-case, without a final dot."""
    rules: dict[str, set[int]] = {}
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        host, port = _split_host_port(entry, default=0)
        ports = rules.setdefault(host.rstrip('.'), set())
        ports.update([port] if port else DEFAULT_PORTS)
    return {host: frozenset(ports) for host, ports in rules.items()}


def refusal_text(host: str, why: str = '') -> str:
    reason = why or 'only package registries are allowed'
    return f"I can't reach {host} from the workspace; {reason}."


class EgressProxy:
    """The policy and the request handling; `listen` opens one sandbox's socket."""

    def __init__(self, hosts: HostsSource, *, network: Network | None = None, ttl_s: float = ALLOWLIST_TTL_S) -> None:
        self._hosts = hosts
        self.network: Network = network or SystemNetwork()
        self._ttl = ttl_s
        self._rules: dict[str, frozenset[int]] = {}
        self._rules_at = -1.0

    async def rules(self) -> dict[str, frozenset[int]]:
        now = time.monotonic()
        if self._rules_at < 0 or now - self._rules_at > self._ttl:
            try:
                self._rules = parse_allowlist(await self._hosts())
            except Exception:  # the database is away: keep the last list (empty at first: nothing passes)
                log.warning('egress: could not read the allowlist; keeping the last one', exc_info=True)
            self._rules_at = now
        return self._rules

    async def check(self, host: str, port: int) -> str:
        """The one address to connect to for host:port, or Refused."""
        name = host.strip().lower().rstrip('.')
        ports = (await self.rules()).get(name)
        if not ports or port not in ports:
            raise Refused(refusal_text(name))
        try:
            ipaddress.ip_address(name.split('%', 1)[0])
            addresses = [name]
        except ValueError:
            try:
                addresses = await asyncio.wait_for(self.network.resolve(name, port), CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError):
                addresses = []
        if not addresses:
            raise Refused(refusal_text(name, 'its name does not resolve'))
        private = [a for a in addresses if not public_address(a)]
        if private:
            raise Refused(refusal_text(name, f'it points to a private or local address ({private[0]})'))
        return addresses[0]

    async def listen(self, directory: Path, name: str, *, on_refusal: OnRefusal, owner: int | None) -> Listener:
        """A Unix socket `directory/name` for one sandbox (owned by its uid when given, mode 0600)."""
        listener = Listener(self, on_refusal)
        sock = await asyncio.to_thread(_bound_socket, directory, name, owner)
        listener.server = await asyncio.start_unix_server(listener.handle, sock=sock, limit=HEAD_LIMIT, backlog=128)
        listener.path = directory / name
        return listener

    async def listen_tcp(self, *, on_refusal: OnRefusal) -> tuple[Listener, int]:
        """The same proxy on a free port of 127.0.0.1 (tests and the benchmark)."""
        listener = Listener(self, on_refusal)
        listener.server = await asyncio.start_server(listener.handle, '127.0.0.1', 0, limit=HEAD_LIMIT)
        return listener, int(listener.server.sockets[0].getsockname()[1])


class Listener:
    """One sandbox's door: its connections, its refusal callback, its quiet period per refused host."""

    def __init__(self, proxy: EgressProxy, on_refusal: OnRefusal) -> None:
        self.proxy = proxy
        self.on_refusal = on_refusal
        self.server: asyncio.Server | None = None
        self.path: Path | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._said: dict[str, float] = {}
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        if self.path is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(_unlink_at, self.path)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if self._slots.locked():
                await _answer(writer, 503, 'Too many connections from this workspace at once.')
                return
            async with self._slots:
                await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass
        except asyncio.CancelledError:  # closed by `close`: end quietly (3.11's stream callback logs a cancel)
            pass
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), HEAD_TIMEOUT_S)
        except asyncio.LimitOverrunError:
            await _answer(writer, 431, 'Request headers too large.')
            return
        request = _Request.parse(head)
        if request is None:
            await _answer(writer, 400, 'This proxy takes CONNECT host:port or an absolute http:// URL.')
            return
        try:
            address = await self.proxy.check(request.host, request.port)
        except Refused as refused:
            await self._refuse(writer, request.host, str(refused))
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                self.proxy.network.connect(address, request.port), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError):
            await _answer(writer, 502, f'Could not connect to {request.host}.')
            return
        try:
            if request.tunnel:
                writer.write(b'HTTP/1.1 200 Connection established\r\n\r\n')
            else:
                up_writer.write(request.forwarded_head())
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.close()

    async def _refuse(self, writer: asyncio.StreamWriter, host: str, words: str) -> None:
        log.info('egress refused: %s', words)
        now = time.monotonic()
        if now - self._said.get(host, -REPEAT_QUIET_S) >= REPEAT_QUIET_S:
            self._said[host] = now
            try:
                result = self.on_refusal(words)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a failing listener must not break the proxy
                log.exception('egress: the refusal callback failed')
        await _answer(writer, 403, words)


class _Request:
    def __init__(self, method: str, host: str, port: int, target: str, head: bytes) -> None:
        self.method, self.host, self.port, self.target, self.head = method, host, port, target, head

    @property
    def tunnel(self) -> bool:
        return self.method == 'CONNECT'

    @classmethod
    def parse(cls, head: bytes) -> _Request | None:
        line, _, _ = head.partition(b'\r\n')
        parts = line.decode('latin-1').split(' ')
        if len(parts) != 3 or not parts[2].startswith('HTTP/1.'):
            return None
        method, target, _ = parts
        try:
            if method == 'CONNECT':
                host, port = _split_host_port(target, default=0)
                return cls(method, host, port, '', head) if host and port else None
            url = urlsplit(target)
            if url.scheme != 'http' or not url.hostname:
                return None  # https:// must come as CONNECT: no TLS is terminated here
            path = (url.path or '/') + (f'?{url.query}' if url.query else '')
            return cls(method, url.hostname, url.port or 80, path, head)
        except ValueError:
            return None

    def forwarded_head(self) -> bytes:
        """The request in origin form, without the proxy's own headers, one request per connection."""
        lines = self.head[:-4].split(b'\r\n')
        version = lines[0].rsplit(b' ', 1)[1]
        kept = [h for h in lines[1:] if h.split(b':', 1)[0].strip().lower() not in HOP_HEADERS]
        first = b' '.join([self.method.encode(), self.target.encode('latin-1'), version])
        return b'\r\n'.join([first, *kept, b'Connection: close', b'', b''])


def _split_host_port(text: str, *, default: int) -> tuple[str, int]:
    if text.startswith('['):  # [v6]:port
        host, _, rest = text[1:].partition(']')
        return host, int(rest[1:]) if rest.startswith(':') else default
    host, sep, port = text.rpartition(':')
    if not sep or ':' in host:  # no port, or a bare IPv6 address
        return text, default
    number = int(port)
    if not 0 < number < 65536:
        raise ValueError(f'bad port {port!r}')
    return host, number


async def _answer(writer: asyncio.StreamWriter, status: int, words: str) -> None:
    # 403's phrase names the cause: clients print it (urllib, pip, npm), so the agent and the log see why
    reason = {
        400: 'Bad Request',
        403: 'Forbidden by the workspace egress allowlist',
        431: 'Request Header Fields Too Large',
        502: 'Bad Gateway',
        503: 'Service Unavailable',
    }[status]
    body = (words + '\n').encode()
    writer.write(
        f'HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n'
        f'Content-Length: {len(body)}\r\nConnection: close\r\n\r\n'.encode()
        + body
    )
    with contextlib.suppress(OSError):
        await writer.drain()


def _bound_socket(directory: Path, name: str, owner: int | None) -> socket.socket:
    """A listening-ready Unix socket at directory/name (blocking: mkdir, bind, chown).

    Bound through /proc/self/fd/<dir>: DATA_DIR can be deeper than AF_UNIX's 108-byte path limit.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o711)  # the sandbox uid passes through to its own socket, and lists nothing
    fd = os.open(directory, os.O_PATH | os.O_DIRECTORY)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path = f'/proc/self/fd/{fd}/{name}'
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        old = os.umask(0o177)
        try:
            sock.bind(path)
        finally:
            os.umask(old)
        if owner is not None and owner != os.geteuid():
            os.chown(path, owner, owner, follow_symlinks=False)
        sock.setblocking(False)
        return sock
    except BaseException:
        sock.close()
        raise
    finally:
        os.close(fd)


def _unlink_at(path: Path) -> None:
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        os.unlink(f'/proc/self/fd/{fd}/{path.name}')
    finally:
        os.close(fd)
