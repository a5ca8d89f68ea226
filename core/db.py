"""Async engine and session factory (aiosqlite by default, asyncpg for Postgres)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]


def make_engine(url: str, *, writer_turns: bool = True) -> AsyncEngine:
    """One engine per process. SQLite gets WAL + a busy timeout so readers never block writers, and
    its writers take turns (`writer_turns=False` only for the benchmark's comparison)."""
    if url.startswith('sqlite'):
        # Each aiosqlite connection owns a thread, started on the event loop when the connection opens: keep
        # enough of them pooled that busy builds reuse connections instead of starting threads.
        engine = create_async_engine(
            url, connect_args={'timeout': 30}, pool_size=30, max_overflow=30, pool_reset_on_return=None
        )
        event.listen(engine.sync_engine, 'connect', _sqlite_pragmas)
        event.listen(engine.sync_engine, 'reset', _rollback_if_open)
        if writer_turns:
            _turns[engine.sync_engine] = SQLiteWriterTurns().attach(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.execute('PRAGMA busy_timeout=30000')
    cursor.close()


def _rollback_if_open(dbapi_connection, _record, state) -> None:  # type: ignore[no-untyped-def]
    """The pool's reset, for SQLite: roll back only a transaction still open. After a commit there is none,
    and the rollback the pool sent anyway was one more trip to the connection's thread on every write (an
    event append: 9 → 8 trips)."""
    if state.terminate_only or not state.asyncio_safe:
        return  # the connection is being discarded, not reused
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


class SQLiteWriterTurns:
    """Writers of one process take turns on an asyncio lock instead of in SQLite's busy handler.

    SQLite lets one connection write at a time; another writer gets SQLITE_BUSY and its busy handler
    sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries, so under many writers the unlucky ones sleep long
    (bench/bench_sqlite_writers.py). Here a connection waits for its turn before its first write
    statement and hands it on, in order, when its transaction ends. (Handing it on later, at checkin,
    doubled the median append under 20 builds: the turn then also covers the commit.) SQLAlchemy
    runs these event hooks in a greenlet on the event loop, so the wait is awaited (`await_only`),
    never blocking the loop. A turn not given within SQLite's own timeout is not waited
    for any longer: SQLite then decides, as it would without this. Readers never wait (WAL).
    """

    WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE')
    TIMEOUT = 30.0

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: Any = None  # the DBAPI connection whose transaction has the turn

    def attach(self, engine: AsyncEngine) -> SQLiteWriterTurns:
        sync = engine.sync_engine
        event.listen(sync, 'before_cursor_execute', self._before_execute)
        for name in ('commit', 'rollback'):
            event.listen(sync, name, self._transaction_end)
        event.listen(sync.pool, 'checkin', self._checked_in)  # a connection returned mid-transaction
        return self

    @asynccontextmanager
    async def turn(self, dbapi: Any) -> AsyncIterator[None]:
        """The turn for a transaction written on the driver's connection directly (no SQLAlchemy events)."""
        await self._take(dbapi)
        try:
            yield
        finally:
            self._release(dbapi)

    def _before_execute(self, conn, _cursor, statement: str, *_args: Any) -> None:  # type: ignore[no-untyped-def]
        dbapi = conn.connection.dbapi_connection
        if self._holder is dbapi or not in_greenlet() or not statement.lstrip()[:7].upper().startswith(self.WRITES):
            return
        await_only(self._take(dbapi))

    async def _take(self, dbapi: Any) -> None:
        with contextlib.suppress(TimeoutError, RuntimeError):  # RuntimeError: the lock is another loop's
            await asyncio.wait_for(self._lock.acquire(), self.TIMEOUT)
            self._holder = dbapi

    def _transaction_end(self, conn) -> None:  # type: ignore[no-untyped-def]
        try:
            dbapi = conn.connection.dbapi_connection
        except exc.SQLAlchemyError:  # a broken transaction: the turn is handed on at checkin
            return
        self._release(dbapi)

    def _checked_in(self, dbapi, _record) -> None:  # type: ignore[no-untyped-def]
        self._release(dbapi)

    def _release(self, dbapi: Any) -> None:
        if dbapi is not None and self._holder is dbapi:
            self._holder = None
            self._lock.release()


_turns: weakref.WeakKeyDictionary[Any, SQLiteWriterTurns] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def writer_turn(engine: AsyncEngine, dbapi: Any) -> AsyncIterator[None]:
    """Hold the engine's SQLite writer turn (when it has them) around a write made on `dbapi` directly."""
    turns = _turns.get(engine.sync_engine)
    if turns is None:
        yield
        return
    async with turns.turn(dbapi):
        yield


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def engine_of(sessions: SessionFactory) -> AsyncEngine:
    """The engine a session factory binds to (for hot reads that need no ORM session)."""
    engine = sessions.kw['bind']
    assert isinstance(engine, AsyncEngine)
    return engine


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
