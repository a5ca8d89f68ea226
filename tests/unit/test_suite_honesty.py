"""The suite runs what it names, reads nothing outside the repository, and the settings are all used."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ('core', 'ui', 'jobs', 'tests')
# Places that exist on one machine and not another (a home, a checkout, the shared folder beside it).
MACHINE_PATH = re.compile(r"""['"](?:/(?:work|home|root|Users|mnt|srv|opt|shared)/|(?:\.\./)+shared\b)""")


def test_every_test_file_is_collected_by_the_default_run() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTEST_')}
    listing = subprocess.run(
        [sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stdout[-3000:] + listing.stderr[-3000:]
    collected = {line.split('::')[0].split(':')[0] for line in listing.stdout.splitlines() if line.startswith('tests/')}
    on_disk = {path.relative_to(ROOT).as_posix() for path in (ROOT / 'tests').rglob('test_*.py')}
    assert on_disk - collected == set()
    assert 'tests/builds/test_offline_build.py' in collected


def test_no_code_names_an_absolute_path_of_a_machine() -> None:
    offenders = []
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob('*')):
            if path.suffix not in {'.py', '.js', '.json', '.sh'} or path == Path(__file__):
                continue
            for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
                if MACHINE_PATH.search(line):
                    offenders.append(f'{path.relative_to(ROOT)}:{number}: {line.strip()}')
    assert offenders == []


def _names_used_outside_config() -> set[str]:
    used: set[str] = set()
    sources = [ROOT / 'main.py', *(p for d in ('core', 'ui', 'jobs') for p in (ROOT / d).rglob('*.py'))]
    for path in sources:
        if path == ROOT / 'core' / 'config.py':
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.add(node.value)  # getattr(settings, 'NAME')
    return used


def _fields_read_by_members() -> dict[str, set[str]]:
    """For each method or property of Settings: the fields it reads through self."""
    tree = ast.parse((ROOT / 'core' / 'config.py').read_text(encoding='utf-8'))
    settings = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == 'Settings')
    members: dict[str, set[str]] = {}
    for node in settings.body:
        if isinstance(node, ast.FunctionDef):
            members[node.name] = {
                a.attr for a in ast.walk(node) if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name)
            }
    return members


def test_every_setting_is_read_outside_the_settings_module() -> None:
    used = _names_used_outside_config()
    members = _fields_read_by_members()
    reached = set(used)
    for name, reads in members.items():
        validator = name.startswith('_')  # model validators run on every Settings() the app makes
        if validator or name in used:
            reached |= reads
    for name, reads in members.items():  # a member used by another used member (e.g. data_dir)
        if name in reached:
            reached |= reads
    unread = [field for field in Settings.model_fields if field not in reached]
    assert unread == []
