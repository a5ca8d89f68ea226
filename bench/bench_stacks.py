"""Installs of the offline model's stack templates in fresh isolated sandboxes, through the egress proxy.

Prints seconds for `pip install` of the FastAPI template and `npm install` of the Vite + React template:
a first sandbox, a second fresh sandbox (today each workspace is HOME and keeps its own pip/npm cache, so it
is as cold as the first: shared read-only caches, issue 30 item 2, are not built yet), and a reinstall in the
same sandbox (its own cache warm). Run: `.venv/bin/python bench/bench_stacks.py`.
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


async def main() -> None:
    settings = make_settings(Path(tempfile.mkdtemp()) / 'data')
    await asyncio.to_thread(upgrade, settings.sync_database_url)
    services = build_services(settings)
    await services.start()
    try:
        for name, (files, command, clean) in CASES.items():
            seconds = []
            for n in range(2):
                sandbox = await services.sandboxes.create(key=f'bench-{name[:3]}-{n}')
                for path, text in files.items():
                    await sandbox.write_file(path, text)
                seconds.append(await timed(sandbox, command))
                if n == 1:
                    await sandbox.run(clean, timeout=60)
                    seconds.append(await timed(sandbox, command))
                await sandbox.destroy()
            print(f'{name}: first sandbox {seconds[0]:.1f}s, second fresh sandbox {seconds[1]:.1f}s, '
                  f'reinstall with its own cache {seconds[2]:.1f}s')  # fmt: skip
    finally:
        await services.close()


if __name__ == '__main__':
    asyncio.run(main())
