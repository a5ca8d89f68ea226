"""Installs of the offline model's stack templates in fresh isolated sandboxes, through the egress proxy.

Prints seconds for `pip install` of the FastAPI template and `npm install` of the Vite + React template, each
in a fresh sandbox as a build's install step runs it (`warm_packages`, then the command with its environment):
without the shared caches (PACKAGE_CACHE=false: the registry through the proxy, the baseline), with an empty
shared cache (the host fills it, then the sandbox installs from it), and in a second sandbox once it is filled.
Run: `.venv/bin/python bench/bench_stacks.py`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.adapters.llm_offline import app_fastapi, app_vite  # noqa: E402
from core.services import build_services  # noqa: E402
from migrations import upgrade  # noqa: E402
from tests.builds.conftest import make_settings  # noqa: E402

PIP = 'python3 -m pip install --user --break-system-packages --no-input -q -r requirements.txt'
NPM = 'npm install --no-audit --no-fund --silent'
CASES = {
    'pip install fastapi uvicorn': ({'requirements.txt': app_fastapi.FASTAPI_REQUIREMENTS}, PIP,
                                    'rm -rf .local'),
    'npm install vite react': ({'package.json': app_vite.render_package_json('Bench')}, NPM, 'rm -rf node_modules'),
}  # fmt: skip


async def timed(sandbox, command: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = await sandbox.run(command, timeout=600)
    if not result.ok:
        raise SystemExit(f'{command} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}')
    return time.perf_counter() - started


async def install(services, name: str, files: dict[str, str], command: str) -> float:  # type: ignore[no-untyped-def]
    sandbox = await services.sandboxes.create(key=f'bench-{name[:3]}-{time.monotonic_ns()}')
    try:
        for path, text in files.items():
            await sandbox.write_file(path, text)
        started = time.perf_counter()
        warmed = await sandbox.warm_packages(files)
        env = ' '.join(f'{key}={value}' for key, value in warmed.env.items())
        await timed(sandbox, f'{env} {command}')
        return time.perf_counter() - started
    finally:
        await sandbox.destroy()


async def main() -> None:
    root = Path(tempfile.mkdtemp())
    figures: dict[str, list[float]] = {name: [] for name in CASES}
    for cached in (False, True):
        settings = make_settings(root / f'data-{cached}', PACKAGE_CACHE=cached)
        await asyncio.to_thread(upgrade, settings.sync_database_url)
        services = build_services(settings)
        await services.start()
        try:
            for name, (files, command, _) in CASES.items():
                for _ in range(2 if cached else 1):
                    figures[name].append(await install(services, name, files, command))
        finally:
            await services.close()
    for name, (plain, cold, warm) in figures.items():
        print(
            f'{name}: no shared cache {plain:.1f}s; shared cache empty (host fills it, then installs) '
            f'{cold:.1f}s; second sandbox, cache filled {warm:.1f}s ({plain / warm:.1f}x faster than no cache)'
        )


if __name__ == '__main__':
    asyncio.run(main())
