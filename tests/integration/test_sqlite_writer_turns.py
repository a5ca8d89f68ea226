"""SQLite writers of one process take turns (core.db.SQLiteWriterTurns): none fails, none blocks the loop."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from core.models import Tier


def tier(name: str) -> Tier:
    return Tier(name=name, label=name, token_allowance=1)


async def add_tier(sessions, name: str, done: list[str]) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        session.add(tier(name))
        await session.commit()
    done.append(name)


async def test_writers_wait_for_an_open_write_transaction_without_blocking_the_loop(sqlite_session_factory) -> None:  # type: ignore[no-untyped-def]
    sessions = sqlite_session_factory
    done: list[str] = []
    async with sessions() as holder:
        holder.add(tier('first'))
        await holder.flush()  # the holder now has the write turn, until it commits
        waiting = [asyncio.create_task(add_tier(sessions, f'w{n}', done)) for n in range(5)]
        await asyncio.sleep(0.05)  # the writers reach their turn and wait there
        # While they wait, the loop still serves others: a reader on its own connection gets an answer.
        async with sessions() as reader:
            seen = (await asyncio.wait_for(reader.execute(text('select count(*) from tiers')), 2)).scalar_one()
        assert seen == 0  # the holder's row is not committed, and nobody wrote past the open transaction
        assert done == [] and not any(task.done() for task in waiting)
        await holder.commit()
    await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert sorted(done) == [f'w{n}' for n in range(5)]
    async with sessions() as session:
        assert (await session.execute(text('select count(*) from tiers'))).scalar_one() == 6


async def test_a_failed_write_hands_the_turn_on(sqlite_session_factory) -> None:  # type: ignore[no-untyped-def]
    sessions = sqlite_session_factory
    done: list[str] = []
    await add_tier(sessions, 'taken', done)
    try:
        await add_tier(sessions, 'taken', done)  # the name is taken: the insert fails
    except Exception:  # noqa: BLE001 — the failure itself is not what is tested
        pass
    await asyncio.wait_for(add_tier(sessions, 'next', done), 5)
    assert done == ['taken', 'next']


async def test_many_concurrent_writers_all_succeed(sqlite_session_factory) -> None:  # type: ignore[no-untyped-def]
    done: list[str] = []
    await asyncio.gather(*(add_tier(sqlite_session_factory, f'u{n}', done) for n in range(40)))
    assert len(done) == 40


async def test_a_write_left_open_on_a_returned_connection_is_rolled_back(sqlite_session_factory) -> None:  # type: ignore[no-untyped-def]
    # The pool skips its rollback when nothing is open; what is open must still go, or the next user of the
    # connection would commit it with its own work.
    engine = sqlite_session_factory.kw['bind']
    async with engine.begin() as conn:
        await conn.execute(text('create table notes (body text)'))
    async with engine.connect() as conn:  # a write the connection's user never ended
        await conn.run_sync(
            lambda sync: sync.connection.dbapi_connection.cursor().execute("insert into notes values ('stray')")
        )
    async with engine.begin() as conn:  # the same pooled connection, next user
        await conn.execute(text("insert into notes values ('mine')"))
    async with engine.connect() as conn:
        assert (await conn.execute(text('select body from notes'))).scalars().all() == ['mine']
