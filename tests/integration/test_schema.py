"""Migrations build the whole schema on SQLite and Postgres, and the models never drift from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import core.models  # noqa: F401
from migrations import drift, upgrade
from tests.services import drop_postgres_database, fresh_postgres_database


@pytest.fixture(params=['sqlite', pytest.param('postgres', marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == 'sqlite':
        yield f'sqlite:///{tmp_path / "fresh.db"}'
        return
    url = fresh_postgres_database()
    yield url.replace('postgresql://', 'postgresql+psycopg://')
    drop_postgres_database(url)


def test_upgrade_head_creates_every_table_on_an_empty_database(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert 'alembic_version' in tables


def test_models_and_migrations_do_not_drift(empty_database: str) -> None:
    upgrade(empty_database)
    assert drift(empty_database) == [], 'models changed without a migration: run alembic revision --autogenerate'


def test_upgrade_is_idempotent(empty_database: str) -> None:
    upgrade(empty_database)
    upgrade(empty_database)
    assert drift(empty_database) == []


def test_default_tiers_exist_right_after_migrating(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql('SELECT name, token_allowance, cost_allowance_microdollars FROM tiers').all()
    engine.dispose()
    assert {row[0] for row in rows} == {'bootstrapper', 'partner', 'cto_scale'}
    assert all(tokens > 0 and cost > 0 for _, tokens, cost in rows)  # each paced by tokens and dollars


async def test_a_migrated_sqlite_file_is_in_wal_before_the_app_connects_so_its_first_connection_never_waits(
    tmp_path: Path,
) -> None:
    """The app's first connection used to switch the file to WAL, which waits for every other reader: a reader
    (another process arranging data) made it fail as 'database is locked'."""
    import sqlite3

    from core.db import make_engine

    path = tmp_path / 'app.db'
    upgrade(f'sqlite:///{path}')
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        assert reader.execute('PRAGMA journal_mode').fetchone() == ('wal',)
        reader.execute('BEGIN')
        reader.execute('SELECT count(*) FROM alembic_version').fetchone()  # a read transaction held open
        engine = make_engine(f'sqlite+aiosqlite:///{path}')
        try:
            async with engine.connect() as conn:
                assert (await conn.exec_driver_sql('SELECT count(*) FROM alembic_version')).scalar() == 1
        finally:
            await engine.dispose()
    finally:
        reader.close()
