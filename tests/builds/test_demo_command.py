"""The demo command is the product's headless contract: `python main.py demo --idea … --json` runs the founder
flow and a build with the offline model and prints what happened with plain keys (run here as a founder's
shell would, in its own data dir)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.services import require_chromium

ROOT = Path(__file__).resolve().parents[2]
GROOMER = 'A booking tool for independent dog groomers so clients can pick a slot.'
HOSPITAL = '病院の待ち時間をスマホで確認できるアプリ。患者が自分の順番を見られる'


def demo(tmp_path: Path, *args: str) -> dict[str, Any]:
    require_chromium()  # the acceptance checks run in the host's browser
    env = {**os.environ, 'DATA_DIR': str(tmp_path / 'data'), 'ENV': 'test', 'LOG_JSON': 'false'}
    for key in ('DATABASE_URL', 'REDIS_URL', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', 'OFFLINE_SCENARIO'):
        env.pop(key, None)  # the embedded defaults and the offline model, whatever this shell has set
    run = subprocess.run([sys.executable, 'main.py', 'demo', *args, '--json'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return json.loads(run.stdout)


def test_an_idea_reaches_a_verified_first_version_then_a_change_makes_the_next(tmp_path: Path) -> None:
    summary = demo(tmp_path, '--idea', GROOMER, '--change', 'Add a page for client reviews')
    assert (summary['state'], summary['version'], summary['preview_ok']) == ('READY', 'v0.1', True)
    assert summary['sleeps'] == 0 and summary['wakes'] == 0 and summary['escalation'] is None
    assert summary['brief']['features'] and summary['checks']
    assert all(check['passed'] and check['ran'] for check in summary['checks']), summary['checks']
    assert {check['feature'] for check in summary['checks']} == set(summary['brief']['features'])
    assert (summary['iteration']['state'], summary['iteration']['version']) == ('READY', 'v0.2')
    assert summary['alignment']['band'] == 'scope_creep'  # a new page is outside the MVP's scope
    assert 'Add a page for client reviews' in summary['changelog']['summary']


def test_a_japanese_idea_is_briefed_in_japanese_throughout(tmp_path: Path) -> None:
    summary = demo(tmp_path, '--idea', HOSPITAL)
    assert summary['state'] == 'READY'
    brief = summary['brief']
    words = ' '.join([brief['title'], *brief['features'], *brief['risks']])
    assert not re.search(r'[A-Za-z]', words), words  # the demo's own answers are Japanese too
    assert len(brief['features']) >= 2  # the answers' 「、」-separated must-haves were split
