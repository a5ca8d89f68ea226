"""UI tests run main.py in NiceGUI's simulated browser, against a fresh data dir per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from nicegui.testing import User

from core.config import Settings
from core.db import make_engine, make_session_factory

PASSWORD = 'correct horse battery'
SIGN_UP_WAIT = 80  # retries of 0.1 s on a busy machine (a wait, not a timing assertion)


@pytest.fixture(autouse=True)
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / 'app-data'
    for key, value in {
        'DATA_DIR': str(data),
        'ENV': 'test',
        'OFFLINE_PACE_SECONDS': '0',
        'STORAGE_SECRET': 'ui-test-secret-0123456789',
        'LOG_JSON': 'false',
    }.items():
        monkeypatch.setenv(key, value)
    for key in ('DATABASE_URL', 'REDIS_URL', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', 'ADMIN_EMAIL'):
        monkeypatch.delenv(key, raising=False)
    return data


@pytest.fixture
async def db(app_env: Path):  # type: ignore[no-untyped-def]
    """A session factory on the app's own database (for arranging and checking state)."""
    engine = make_engine(Settings().database_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def sign_up(user: User, email: str, password: str = PASSWORD) -> None:
    await user.open('/signup')
    user.find('Email').type(email)
    user.find('Password').type(password)
    user.find(marker='signup-button').click()
    # sign-up hashes a password and loads the dashboard; the first of a session also warms up argon2 and the app
    await user.should_see('Your projects', retries=SIGN_UP_WAIT)


async def log_in(user: User, email: str, password: str = PASSWORD) -> None:
    await user.open('/login')
    user.find('Email').type(email)
    user.find('Password').type(password)
    user.find(marker='login-button').click()


async def log_out(user: User) -> None:
    user.find(marker='logout').click()
    await user.should_see(marker='login-button', retries=50)
