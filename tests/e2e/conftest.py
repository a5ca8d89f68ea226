"""Real-browser tests: the app runs as its own process (`python main.py`) and Chromium drives it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.services import require_chromium

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclass
class LiveApp:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path


def start_app(data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> LiveApp:
    env = {k: v for k, v in os.environ.items() if not k.startswith(('NICEGUI_', 'PYTEST'))}
    env.update(
        {
            'DATA_DIR': str(data_dir),
            'PORT': str(port),
            'HOST': '127.0.0.1',
            'ENV': 'test',
            'OFFLINE_PACE_SECONDS': '0',
            'LOG_JSON': 'false',
            **(extra_env or {}),
        }
    )
    for key in ('DATABASE_URL', 'REDIS_URL', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL'):
        env.pop(key, None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f'app-{port}.log'
    process = subprocess.Popen(
        [sys.executable, 'main.py'], cwd=ROOT, env=env, stdout=log.open('ab'), stderr=subprocess.STDOUT
    )
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'app exited: {log.read_text()[-2000:]}')
        try:
            with urllib.request.urlopen(f'{url}/healthz', timeout=1) as response:
                if response.status == 200:
                    return LiveApp(url, data_dir, process, log)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f'app did not start: {log.read_text()[-2000:]}')


def stop_app(app: LiveApp) -> None:
    app.process.terminate()
    try:
        app.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        app.process.kill()


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    app = start_app(tmp_path / 'data', free_port())
    yield app
    stop_app(app)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
