"""Read-modify-write of one row without lost updates (issue 29).

A founder's data that is read, changed in Python and written back (the interview's answers dict, a setting's
JSON value, a counter) loses one of two concurrent writes unless the second writer reads after the first one
committed. `lock_for_update` makes the caller's transaction hold the row from the moment it re-reads it until
it commits or rolls back:

- PostgreSQL: `SELECT … FOR UPDATE` (a second writer's re-read waits for the first to commit, then sees it);
- SQLite: a no-op `UPDATE` of the row first, which takes this process's writer turn (`core/db.py`) and SQLite's
  write lock and opens the transaction, so the re-read that follows sees the latest committed row and no other
  writer can commit in between. (One process per SQLite database, as the app runs it; the busy timeout covers
  another process.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, inspect, select, update
from sqlmodel.ext.asyncio.session import AsyncSession


async def lock_for_update(session: AsyncSession, row: Any) -> None:
    """Lock `row` (persistent in `session`) for the rest of the transaction and refresh it from the database.

    Call it before changing the row: pending changes on it are discarded by the refresh."""
    state = inspect(row)
    if session.get_bind().dialect.name == 'sqlite':
        table: Table = state.mapper.local_table
        keys = state.mapper.primary_key
        same = update(table).values({key: key for key in keys})
        await session.execute(same.where(*(key == value for key, value in zip(keys, state.identity, strict=True))))
    await session.refresh(row, with_for_update=True)


async def lock_key(session: AsyncSession, model: Any, key: Any) -> None:
    """Lock the row of `model` whose primary key is `key` for the rest of the transaction, leaving any loaded
    object as it is (its pending changes stay): for a guard row, e.g. the project while its artifact versions,
    plan choice or next build are decided. Queries made after it see every write committed before it."""
    table: Table = model.__table__
    (pk,) = table.primary_key.columns
    if session.get_bind().dialect.name == 'sqlite':
        await session.execute(update(table).values({pk: pk}).where(pk == key))
    else:
        await session.execute(select(pk).where(pk == key).with_for_update())
