"""Running the app (or any HTTP helper with a /healthz) as a real process: for e2e tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run', '--disable-quic']  # fmt: skip
ISOLATED_FROM = ('DATABASE_URL', 'REDIS_URL', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL')  # the caller opts in explicitly


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclass
class LiveProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_process(argv: list[str], port: int, env_extra: dict[str, str], log: Path) -> LiveProcess:
    """`python <argv>` on 127.0.0.1:port, returned once its /healthz answers 200 (or raises with the log tail)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('NICEGUI_', 'PYTEST')) and k not in ISOLATED_FROM}
    env.update({'PORT': str(port), 'HOST': '127.0.0.1', **env_extra})
    process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, stdout=log.open('ab'),
                               stderr=subprocess.STDOUT)  # fmt: skip
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'{argv} exited: {log.read_text()[-2000:]}')
        try:
            with urllib.request.urlopen(f'{url}/healthz', timeout=1) as response:  # noqa: S310 - our own process
                if response.status == 200:
                    return LiveProcess(url, process, log)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f'{argv} did not start: {log.read_text()[-2000:]}')


def stop_process(proc: LiveProcess) -> None:
    proc.process.terminate()
    try:
        proc.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.process.kill()
