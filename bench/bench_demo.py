"""`python main.py demo` end to end, N runs on fresh data dirs: median and spread (target: median < 20 s).

Baseline measured in the same run: starting the interpreter and importing the app (`main.py --help`),
the fixed cost every demo pays before any work. Printed, never asserted.
Run: .venv/bin/python -m bench.bench_demo [runs]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDEA = 'A booking tool for dog groomers'


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, 'main.py', *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    return time.perf_counter() - started, done.stdout


def main(runs: int = 5) -> None:
    base_env = {**os.environ, 'LOG_LEVEL': 'WARNING', 'OFFLINE_PACE_SECONDS': '0'}
    baseline = [timed(['--help'], base_env)[0] for _ in range(3)]
    walls, builds, states = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as data:
            wall, out = timed(['demo', '--idea', IDEA, '--json'], {**base_env, 'DATA_DIR': data})
            summary = json.loads(out)
            walls.append(wall)
            builds.append(summary['timings']['build'])
            states.append(summary['state'])
    base = statistics.median(baseline)
    print(f'demo end to end, {runs} runs on fresh data dirs (states: {sorted(set(states))})')
    print(f'  wall:  median {statistics.median(walls):.2f} s  min {min(walls):.2f} s  max {max(walls):.2f} s')
    print(f'  build: median {statistics.median(builds):.2f} s  (QUEUED → READY inside the process)')
    print(f'  baseline (interpreter + imports, main.py --help): median {base:.2f} s')
    print(f'  ratio wall / baseline: {statistics.median(walls) / base:.1f}x   target: median wall < 20 s')


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
