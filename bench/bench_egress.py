"""The egress proxy's cost: a request to a local origin through the proxy (CONNECT tunnel, and plain-HTTP
forwarding) against the same request straight to the origin; a bulk download both ways; and what the
in-sandbox relay adds to every isolated command (`true` with and without the egress proxy).

The origin runs on 127.0.0.1; the proxy's network edge maps the allowed name to it (as in the tests), so
nothing leaves the machine. Run: .venv/bin/python -m bench.bench_egress [runs]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.adapters.egress_proxy import EgressProxy
from core.adapters.sandbox_local import LocalSandboxProvider
from core.config import Settings

BODY = b'x' * 1024
BULK = 8 << 20


class LocalEdge:
    """`origin.bench` resolves to a public-looking address that is connected to the local origin."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(self, host: str, port: int) -> list[str]:
        return ['93.184.216.34']

    async def connect(self, address: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection('127.0.0.1', self.port)


async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b'\r\n\r\n')
        body = BODY if b' /bulk ' not in head else b'y' * BULK
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' % len(body))
        writer.write(body)
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def fetch(port: int, *, path: str = '/', tunnel: bool = False, forward: bool = False) -> int:
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    try:
        if tunnel:
            writer.write(b'CONNECT origin.bench:443 HTTP/1.1\r\n\r\n')
            await reader.readuntil(b'\r\n\r\n')
        target = f'http://origin.bench{path}' if forward else path
        writer.write(f'GET {target} HTTP/1.1\r\nHost: origin.bench\r\n\r\n'.encode())
        await writer.drain()
        return len(await reader.read())
    finally:
        writer.close()


async def timed(runs: int, fn: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(min(5, runs)):
        await fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float], base: list[float] | None = None) -> None:
    ordered = sorted(samples)
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    extra = f'   +{p50 - statistics.median(base):6.2f} ms p50 over the baseline' if base else ''
    print(f'{name:48} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms{extra}')


async def requests(runs: int) -> None:
    server = await asyncio.start_server(origin, '127.0.0.1', 0)
    origin_port = int(server.sockets[0].getsockname()[1])

    async def allowed() -> list[str]:
        return ['origin.bench']

    listener, proxy_port = await EgressProxy(allowed, network=LocalEdge(origin_port)).listen_tcp(
        on_refusal=lambda _: None
    )
    direct = await timed(runs, lambda: fetch(origin_port))
    row('GET 1 KiB, direct (baseline)', direct)
    tunnelled = await timed(runs, lambda: fetch(proxy_port, tunnel=True))
    row('GET 1 KiB, CONNECT tunnel through the proxy', tunnelled, direct)
    row('GET 1 KiB, plain-HTTP forwarding', await timed(runs, lambda: fetch(proxy_port, forward=True)), direct)
    bulk_runs = max(3, runs // 20)
    bulk_direct = await timed(bulk_runs, lambda: fetch(origin_port, path='/bulk'))
    bulk_proxy = await timed(bulk_runs, lambda: fetch(proxy_port, path='/bulk', tunnel=True))
    for name, samples in (('direct', bulk_direct), ('through the tunnel', bulk_proxy)):
        mb_s = (BULK / (1 << 20)) / (statistics.median(samples) / 1000)
        print(f'GET 8 MiB, {name:38} p50 {statistics.median(samples):7.2f} ms   {mb_s:7.0f} MiB/s')
    await listener.close()
    server.close()
    await server.wait_closed()


async def per_command(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, ENV='test', DATA_DIR=Path(tmp), SANDBOX_NETWORK='isolated')

        async def nothing() -> list[str]:
            return []

        try:
            plain = LocalSandboxProvider(settings, use_bwrap=True)
            relayed = LocalSandboxProvider(settings, use_bwrap=True, egress=EgressProxy(nothing))
        except Exception as exc:  # noqa: BLE001 - no bubblewrap here: say so and skip this part
            print(f'skipping the per-command figures: {exc}')
            return
        without = await plain.create(key='bench-plain')
        with_relay = await relayed.create(key='bench-relay')
        base = await timed(max(10, runs // 5), lambda: without.run('true'))
        row('isolated `true`, no egress (baseline)', base)
        row('isolated `true`, with the egress relay', await timed(max(10, runs // 5), lambda: with_relay.run('true')),
            base)  # fmt: skip
        await without.destroy()
        await with_relay.destroy()


async def main(runs: int) -> None:
    await requests(runs)
    await per_command(runs)


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
