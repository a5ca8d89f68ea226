"""Real-browser tests: the app runs as its own process (`python main.py`) and Chromium drives it."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.live_app import CHROMIUM_ARGS, LiveProcess, free_port, start_process, stop_process
from tests.services import require_chromium

__all__ = ['CHROMIUM_ARGS', 'LiveApp', 'free_port', 'start_app', 'stop_app']


@dataclass
class LiveApp:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path


def start_app(data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> LiveApp:
    """`python main.py` on its own data dir, offline model at full speed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {'DATA_DIR': str(data_dir), 'ENV': 'test', 'OFFLINE_PACE_SECONDS': '0', 'LOG_JSON': 'false',
           **(extra_env or {})}  # fmt: skip
    proc = start_process(['main.py'], port, env, data_dir.parent / f'app-{port}.log')
    return LiveApp(proc.url, data_dir, proc.process, proc.log)


def stop_app(app: LiveApp) -> None:
    stop_process(LiveProcess(app.url, app.process, app.log))


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
