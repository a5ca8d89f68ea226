"""Per-command overhead of the local sandbox: `true` sandboxed vs a bare subprocess (same run), with
bubblewrap's own network namespace (SANDBOX_NETWORK=isolated, --unshare-net) and with the shared host
network; then a GET to the sample app through the isolated bridge vs directly (shared network).

Run: .venv/bin/python -m bench.bench_sandbox [runs]
Target: sandbox overhead (p50 difference) under 30 ms.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

import httpx

from core.adapters.sandbox_local import LocalSandboxProvider
from core.config import Settings

SAMPLE_APP = Path(__file__).resolve().parents[1] / 'tests' / 'fixtures' / 'sample_app'


async def timed(runs: int, fn: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(5):  # warm up (page cache, thread pool)
        await fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bare_true() -> None:
    proc = await asyncio.create_subprocess_exec('true')
    await proc.wait()


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[tuple[str, list[float]]] = [('bare create_subprocess_exec(true)', await timed(runs, bare_true))]
        modes: list[tuple[bool, Literal['isolated', 'shared']]] = [(True, 'isolated'), (True, 'shared'),
                                                                   (False, 'shared')]  # fmt: skip
        for use_bwrap, network in modes:
            settings = Settings(_env_file=None, ENV='test', DATA_DIR=Path(tmp) / network, SANDBOX_NETWORK=network)
            try:
                provider = LocalSandboxProvider(settings, use_bwrap=use_bwrap)
            except Exception as exc:  # no bwrap on this machine
                print(f'skipping use_bwrap={use_bwrap}: {exc}')
                continue
            box = await provider.create(key=f'bench-{use_bwrap}')
            result = await box.run('true')
            assert result.ok, result.stderr
            rows.append(
                (f'sandbox.run("true") [{provider.isolation()}]', await timed(runs, functools.partial(box.run, 'true')))
            )
            await box.destroy()
        report(runs, rows, 'target: sandbox overhead p50 < 30 ms')
        print()
        await bench_app_requests(Path(tmp), runs)


def report(runs: int, rows: list[tuple[str, list[float]]], footer: str) -> None:
    base50, base99 = pct(rows[0][1], 0.5), pct(rows[0][1], 0.99)
    print(f'runs per row: {runs}')
    width = max(len(name) for name, _ in rows)
    print(f'{"":<{width}} {"p50 ms":>8} {"p99 ms":>8} {"mean":>8}  overhead p50 / p99')
    for name, samples in rows:
        p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
        extra = f'  +{p50 - base50:.2f} / +{p99 - base99:.2f} ms' if samples is not rows[0][1] else '  (baseline)'
        print(f'{name:<{width}} {p50:8.2f} {p99:8.2f} {statistics.fmean(samples):8.2f}{extra}')
    print(footer)


async def bench_app_requests(tmp: Path, runs: int) -> None:
    """GET /static/style.css on the sample app: direct (shared network) is the baseline for the bridge."""
    rows: list[tuple[str, list[float]]] = []
    for network in ('shared', 'isolated'):
        settings = Settings(_env_file=None, ENV='test', DATA_DIR=tmp / f'app-{network}', SANDBOX_NETWORK=network)
        try:
            provider = LocalSandboxProvider(settings, use_bwrap=True)
        except Exception as exc:
            print(f'skipping the app request rows: {exc}')
            return
        box = await provider.create(key=f'app-{network}')
        for path in sorted(SAMPLE_APP.rglob('*')):
            if path.is_file() and '__pycache__' not in path.parts:
                await box.write_file(path.relative_to(SAMPLE_APP).as_posix(), path.read_bytes())
        url = await box.start_app()
        async with httpx.AsyncClient() as client:  # the sample app closes each connection (HTTP/1.0)

            async def get(client: httpx.AsyncClient = client, url: str = url) -> None:
                response = await client.get(url + '/static/style.css')
                assert response.status_code == 200

            how = 'direct to the app' if network == 'shared' else 'host listener → Unix socket → bridge → app'
            rows.append((f'GET /static/style.css [{network}: {how}]', await timed(runs, get)))
        await box.destroy()
    report(runs, rows, "the isolated row's overhead is the extra latency the bridge adds per request")


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
