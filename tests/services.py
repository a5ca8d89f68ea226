"""Access to the real services and tools tests use (Postgres, Redis, Chromium, bubblewrap, npm).

On a developer machine a missing piece skips the tests that need it; under CI=true it fails
them, so a green CI run always means those tests ran. Every environment skip goes through
`missing` (tests/unit/test_suite_honesty.py holds the suite to that).
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid

import pytest

IN_CI = os.environ.get('CI', '').lower() in {'1', 'true', 'yes'}
POSTGRES_URL = os.environ.get('TEST_POSTGRES_URL', 'postgresql://postgres@127.0.0.1:5432/test')
# A Redis database per pytest-xdist worker (gw0 → 1, gw1 → 2, …; 0 without workers): tests of two workers
# would otherwise share the arq queue and the scheduler's leader key.
_WORKER = os.environ.get('PYTEST_XDIST_WORKER', '')
_REDIS_DB = int(_WORKER[2:]) + 1 if _WORKER.startswith('gw') and _WORKER[2:].isdigit() else 0
REDIS_URL = os.environ.get('TEST_REDIS_URL', f'redis://127.0.0.1:6379/{_REDIS_DB}')
CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')


def missing(what: str) -> None:
    """Skip locally, fail under CI."""
    if IN_CI:
        pytest.fail(f'{what} is required under CI=true but is not available', pytrace=False)
    pytest.skip(f'{what} not available')


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_postgres() -> str:
    if not port_open('127.0.0.1', 5432):
        missing('PostgreSQL on 127.0.0.1:5432')
    return POSTGRES_URL


def require_redis() -> str:
    if not port_open('127.0.0.1', 6379):
        missing('Redis on 127.0.0.1:6379')
    return REDIS_URL


def require_chromium() -> str:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        missing(f'Chromium at {CHROMIUM}')
    return CHROMIUM


def require_bubblewrap() -> None:
    from core.adapters.sandbox_local import bubblewrap_available

    if not bubblewrap_available():
        missing('bubblewrap (bwrap)')


def require_npm() -> str:
    npm = shutil.which('npm')
    if npm is None:
        missing('npm')
    return str(npm)


def fresh_postgres_database() -> str:
    """Create an empty database for one test; returns its URL. Dropped by drop_postgres_database."""
    import psycopg

    base = require_postgres()
    name = f'cf_test_{uuid.uuid4().hex[:12]}'
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE {name}')
    return base.rsplit('/', 1)[0] + f'/{name}'


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit('/', 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
