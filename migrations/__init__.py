"""Run Alembic programmatically: `upgrade(url)` at start-up and in tests, `drift(url)` in the schema test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

HERE = Path(__file__).resolve().parent


def alembic_config(sync_url: str) -> Config:
    config = Config()
    config.set_main_option('script_location', str(HERE))
    config.attributes['sync_url'] = sync_url
    return config


def upgrade(sync_url: str, revision: str = 'head') -> None:
    """Bring the database to `revision`; a no-op when it is already there."""
    command.upgrade(alembic_config(sync_url), revision)
    if sync_url.startswith('sqlite'):
        _write_ahead_log(sync_url)


def _write_ahead_log(sync_url: str) -> None:
    """WAL is a property of the file: set it here, before any server connects. Left to each connection's
    first pragma, the switch waits for every other reader and fails as 'database is locked' when the app's
    first connection races another process's (seen in CI)."""
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('PRAGMA journal_mode=WAL')
    finally:
        engine.dispose()


def drift(sync_url: str) -> list[Any]:
    """Differences between the models and a migrated database (empty when they agree)."""
    import core.models  # noqa: F401  (registers the tables)

    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={'compare_type': True, 'render_as_batch': True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
