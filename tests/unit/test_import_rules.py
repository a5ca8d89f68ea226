"""DESIGN.md's dependency rules, enforced by walking every import in the code."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDKS = {
    'nicegui',
    'anthropic',
    'e2b',
    'boto3',
    'botocore',
    'redis',
    'playwright',
    'apscheduler',
    'arq',
    'httpx',
    'fastapi',
    'starlette',
    'alembic',
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob('*.py'))


def top(name: str) -> str:
    return name.split('.')[0]


def test_core_imports_no_sdk_outside_adapters_and_services() -> None:
    offenders = []
    for path in files('core'):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith('core/adapters/') or rel == 'core/services.py':
            continue
        offenders += [f'{rel}: {name}' for name in imports_of(path) if top(name) in SDKS | {'ui', 'jobs'}]
    assert offenders == []


def test_only_services_imports_adapters() -> None:
    offenders = []
    for package in ('core', 'ui', 'jobs'):
        for path in files(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith('core/adapters/') or rel == 'core/services.py':
                continue
            offenders += [f'{rel}: {n}' for n in imports_of(path) if n.startswith('core.adapters')]
    assert offenders == []


def test_adapters_import_no_app_layer() -> None:
    offenders = []
    for path in files('core/adapters'):
        rel = path.relative_to(ROOT).as_posix()
        offenders += [f'{rel}: {n}' for n in imports_of(path) if top(n) in {'ui', 'jobs'}]
    assert offenders == []


def test_ui_and_jobs_never_import_each_other() -> None:
    offenders = [f'{p}: {n}' for p in files('ui') for n in imports_of(p) if top(n) == 'jobs']
    offenders += [f'{p}: {n}' for p in files('jobs') for n in imports_of(p) if top(n) == 'ui']
    assert offenders == []
