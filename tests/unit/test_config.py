"""Settings: offline defaults, generated storage secret, weak secrets refused, database URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.config import Settings


def test_defaults_run_offline_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, DATA_DIR=tmp_path)
    assert settings.database_url == f'sqlite+aiosqlite:///{tmp_path / "cofounder.db"}'
    assert settings.sync_database_url.startswith('sqlite:///')
    assert settings.REDIS_URL is None and settings.ANTHROPIC_API_KEY is None and settings.S3_BUCKET is None


def test_missing_storage_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(_env_file=None, DATA_DIR=tmp_path).storage_secret()
    again = Settings(_env_file=None, DATA_DIR=tmp_path).storage_secret()
    assert first == again and len(first) >= 32
    assert (tmp_path / '.storage_secret').stat().st_mode & 0o077 == 0  # readable by the owner only


@pytest.mark.parametrize('env', ['production', 'test'])
@pytest.mark.parametrize('weak', ['secret', 'changeme', 'short-one'])
def test_weak_storage_secret_is_refused_outside_development(tmp_path: Path, env: str, weak: str) -> None:
    with pytest.raises(ValidationError, match='too weak'):
        Settings(_env_file=None, DATA_DIR=tmp_path, ENV=env, STORAGE_SECRET=weak)
    assert Settings(_env_file=None, DATA_DIR=tmp_path, ENV='development', STORAGE_SECRET=weak).storage_secret() == weak


def test_postgres_urls_get_async_and_sync_drivers(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, DATA_DIR=tmp_path, DATABASE_URL='postgres://u@db:5432/app')
    assert settings.database_url == 'postgresql+asyncpg://u@db:5432/app'
    assert settings.sync_database_url == 'postgresql+psycopg://u@db:5432/app'


def test_secret_values_are_collected_for_redaction(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        DATA_DIR=tmp_path,
        ANTHROPIC_API_KEY='sk-ant-abcdef123456',
        STORAGE_SECRET='a-very-long-storage-secret',
    )
    assert {'sk-ant-abcdef123456', 'a-very-long-storage-secret'} <= set(settings.secret_values())
