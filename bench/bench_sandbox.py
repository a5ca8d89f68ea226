"""Per-command overhead of the local sandbox: `true` sandboxed vs a bare subprocess (same run).

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

from core.adapters.sandbox_local import LocalSandboxProvider
from core.config import Settings


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
        settings = Settings(_env_file=None, ENV='test', DATA_DIR=Path(tmp) / 'data')
        rows: list[tuple[str, list[float]]] = [('bare create_subprocess_exec(true)', await timed(runs, bare_true))]
        for use_bwrap in (True, False):
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

    base50, base99 = pct(rows[0][1], 0.5), pct(rows[0][1], 0.99)
    print(f'runs per row: {runs}')
    print(f'{"":<92} {"p50 ms":>8} {"p99 ms":>8} {"mean":>8}  overhead p50 / p99')
    for name, samples in rows:
        p50, p99 = pct(samples, 0.5), pct(samples, 0.99)
        extra = f'  +{p50 - base50:.2f} / +{p99 - base99:.2f} ms' if samples is not rows[0][1] else '  (baseline)'
        print(f'{name:<92} {p50:8.2f} {p99:8.2f} {statistics.fmean(samples):8.2f}{extra}')
    print('target: sandbox overhead p50 < 30 ms')


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
