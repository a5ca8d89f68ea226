"""Shared fixtures: an isolated data dir and settings, a migrated database on SQLite or Postgres."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nicegui.testing import User
from nicegui.testing.general_fixtures import get_path_to_main_file
from nicegui.testing.user_simulation import user_simulation
from sqlmodel import SQLModel

from core import models  # noqa: F401  (registers tables)
from core.config import Settings
from core.db import make_engine, make_session_factory
from tests.services import drop_postgres_database, fresh_postgres_database

os.environ.setdefault('OFFLINE_PACE_SECONDS', '0')
PATIENT_RETRIES = 30  # × 0.1 s


@pytest.fixture(autouse=True)
def patient_simulated_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """NiceGUI's simulated user looks for a text for 0.3 s unless told otherwise; on a busy 2-core CI machine a
    page's answer (a database write, a password hash) can take longer. How long a test waits, not an assertion
    of speed: a test that passes returns as soon as the text is there."""
    look = User.should_see

    async def should_see(self: User, *args: object, retries: int = PATIENT_RETRIES, **kwargs: object) -> None:
        await look(self, *args, retries=retries, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(User, 'should_see', should_see)


@pytest.fixture
async def user(caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest) -> AsyncIterator[User]:
    """NiceGUI's simulated user, failing on ERROR logs only after the app has shut down: NiceGUI's own fixture
    fails inside the app's lifespan, which then never stops, and every later test in that worker errors with
    'NiceGUI has already been started' (one flaky page turned into 24 errors in a CI run)."""
    async with user_simulation(main_file=get_path_to_main_file(request)) as simulated:
        yield simulated
    if any(record.levelname == 'ERROR' for record in caplog.get_records('call')):
        pytest.fail('There were unexpected ERROR logs.', pytrace=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        ENV='test',
        DATA_DIR=tmp_path / 'data',
        OFFLINE_PACE_SECONDS=0,
        STORAGE_SECRET='test-secret-not-for-production',
    )


@pytest.fixture(params=['sqlite', pytest.param('postgres', marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL on each backend; tables created from the models."""
    if request.param == 'sqlite':
        yield f'sqlite+aiosqlite:///{tmp_path / "test.db"}'
        return
    url = fresh_postgres_database()
    yield url.replace('postgresql://', 'postgresql+asyncpg://')
    drop_postgres_database(url)


@pytest.fixture
async def session_factory(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def sqlite_session_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f'sqlite+aiosqlite:///{tmp_path / "one.db"}')
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()
