"""Acceptance checks and screenshots of the generated app on a warm browser.

Run: .venv/bin/python -m bench.bench_checks [--rounds 5]

The app is what the offline model writes for a 5-feature brief (its script replayed into a folder, no
sandbox), served by `python3 app.py`. Printed: the time to run all its checks (target under 3 s), a
warm screenshot of that app against a warm screenshot of a static page measured in the same run
(the baseline; target under 0.8 s), and the checks' share of an offline build (the demo's build time,
measured here too). Never part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from core.acceptance.spec import AcceptanceCheck, parse_check
from core.adapters.llm_offline.builder import build_script, make_plan
from core.adapters.screenshot_playwright import PlaywrightScreenshotter

BRIEF = {
    'title': 'Camp Share',
    'problem': 'Camping gear sits unused in garages while others buy it for one weekend.',
    'target_users': 'Weekend campers in one town',
    'value_proposition': 'Rent a tent from a neighbour for a weekend.',
    'core_features': [
        {'name': 'Listings with photos', 'description': 'Owners list gear with photos.'},
        {'name': 'Availability calendar', 'description': 'Pick the dates a tent is free.'},
        {'name': 'Deposit payment', 'description': 'A deposit per rental, in euros.'},
        {'name': 'Reviews', 'description': 'Renters rate the gear from 1 to 5.'},
        {'name': 'Damage reports', 'description': 'Report damage with a photo.'},
    ],
}
STATIC = b'<!doctype html><html><body><h1>Camp Share</h1><p>Rent a tent from a neighbour.</p></body></html>'


def replay(folder: Path) -> list[AcceptanceCheck]:
    """The offline model's first build written into `folder`; returns the checks it wrote."""
    checks = []
    for step in build_script(make_plan({'brief': BRIEF}), {}):
        data = step.input
        if step.tool == 'write_file':
            path = folder / data['path']
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data['content'], encoding='utf-8')
        elif step.tool == 'edit_file':
            path = folder / data['path']
            path.write_text(path.read_text(encoding='utf-8').replace(data['old_text'], data['new_text'], 1))
        elif step.tool == 'acceptance_check':
            checks.append(parse_check(data))
    return checks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def serve_app(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, 'PORT': str(port)}
    proc = subprocess.Popen([sys.executable, 'app.py'], cwd=folder, env=env, stdout=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    for _ in range(100):
        try:
            urllib.request.urlopen(url + '/healthz', timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('the generated app did not start')


class Static(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(STATIC)))
        self.end_headers()
        self.wfile.write(STATIC)

    def log_message(self, *args: object) -> None:
        pass


async def timed_shots(shooter: PlaywrightScreenshotter, url: str, n: int) -> list[float]:
    await shooter.capture(url)  # warm
    times = []
    for _ in range(n):
        start = time.perf_counter()
        assert await shooter.capture(url) is not None, shooter.status()
        times.append(time.perf_counter() - start)
    return times


async def run(rounds: int, chromium: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix='bench-checks-'))
    checks = replay(folder)
    proc, url = serve_app(folder)
    static = ThreadingHTTPServer(('127.0.0.1', 0), Static)
    threading.Thread(target=static.serve_forever, daemon=True).start()
    shooter = PlaywrightScreenshotter(chromium)
    try:
        static_shots = await timed_shots(shooter, f'http://127.0.0.1:{static.server_address[1]}/', 10)
        app_shots = await timed_shots(shooter, url + '/', 10)
        totals, failures = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            for check in checks:
                failures += not (await shooter.run_check(url, check)).passed
            totals.append(time.perf_counter() - start)
    finally:
        await shooter.close()
        proc.kill()
        static.shutdown()
    build_s = await asyncio.to_thread(demo_build_seconds)
    checks_p50 = statistics.median(totals)
    print(f'acceptance checks of a {len(checks)}-feature generated app, warm browser, {rounds} rounds')
    print(f'  all checks, p50 / max:        {checks_p50 * 1000:7.0f} / {max(totals) * 1000:.0f} ms   (target < 3000)')
    print(f'  per check, p50:               {checks_p50 / max(1, len(checks)) * 1000:7.0f} ms')
    print(f'  failed checks (should be 0):  {failures}')
    print(f'  warm screenshot, static page: {statistics.median(static_shots) * 1000:7.0f} ms   (baseline)')
    print(f'  warm screenshot, the app:     {statistics.median(app_shots) * 1000:7.0f} ms   (target < 800)')
    ratio = statistics.median(app_shots) / statistics.median(static_shots)
    print(f'  app vs static:                {ratio:7.2f}x')
    print(f'  offline demo build:           {build_s * 1000:7.0f} ms; checks are {checks_p50 / build_s:.0%} of it')


def demo_build_seconds() -> float:
    """One offline demo build in a scratch data dir (the checks run inside it too)."""
    data = tempfile.mkdtemp(prefix='bench-checks-demo-')
    env = {**os.environ, 'DATA_DIR': data, 'OFFLINE_PACE_SECONDS': '0', 'LOG_JSON': 'false'}
    out = subprocess.run(
        [sys.executable, 'main.py', 'demo', '--idea', 'Rent camping gear to neighbours for a weekend', '--json'],
        env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return float(json.loads(out.stdout)['timings']['build'])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.chromium))


if __name__ == '__main__':
    main()
