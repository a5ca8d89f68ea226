"""Async engine and session factory (aiosqlite by default, asyncpg for Postgres)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import aiosqlite
from sqlalchemy import Insert, Table, event, exc
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ClauseElement
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


# ── a reservation and the rows it numbers, in one transaction ────────────────────────────────────────

RowsFor = Callable[[Any], Sequence[dict[str, Any]]]


async def reserve_then_insert(
    engine: AsyncEngine, reserve: UpdateBase, params: dict[str, Any], into: Insert, rows_for: RowsFor
) -> None:
    """In one transaction of its own: run `reserve` (a write returning one value, e.g. a counter's new value),
    then insert with `into` the rows `rows_for` makes of that value (None when `reserve` matched no row;
    `rows_for` may raise, which rolls everything back).

    No ORM session: this is for hot paths. Callers need not know the driver; on SQLite it is spoken to directly
    (see `_reserve_then_insert_on_sqlite`)."""
    if engine.dialect.name == 'sqlite':
        await _reserve_then_insert_on_sqlite(engine, reserve, params, into, rows_for)
        return
    async with engine.begin() as conn:
        rows = rows_for((await conn.execute(reserve, params)).scalar_one_or_none())
        if rows:
            await conn.execute(into, list(rows))


async def _reserve_then_insert_on_sqlite(
    engine: AsyncEngine, reserve: UpdateBase, params: dict[str, Any], into: Insert, rows_for: RowsFor
) -> None:
    """`reserve_then_insert` through the driver's connection: 3 trips to the connection's thread instead of 8.

    aiosqlite runs every call on the connection's own thread. Through SQLAlchemy each statement took a trip
    for its cursor, its execution, its rows and its closing, then one more for the commit; with 20 builds
    on two cores each trip could wait for a core, and the writer turn was held meanwhile. Here each
    statement is one trip (`execute_fetchall`, `executemany`), with the SQL SQLAlchemy compiles for it, the
    columns' own bind processors, and the same writer turn as every other SQLite writer of this process.
    """
    reserving = _compiled(reserve, engine.dialect)
    async with engine.connect() as conn:
        pooled = await conn.get_raw_connection()
        driver = cast(aiosqlite.Connection, pooled.driver_connection)
        async with writer_turn(engine, pooled.dbapi_connection):
            try:
                reserved = await driver.execute_fetchall(reserving.sql, reserving.params(params))
                rows = rows_for(next(iter(reserved))[0] if reserved else None)
                if rows:
                    inserting = _compiled(into, engine.dialect, tuple(rows[0]))
                    await driver.executemany(inserting.sql, [inserting.params(row) for row in rows])
                await driver.commit()
            except BaseException:
                try:
                    await driver.rollback()
                except Exception:  # noqa: BLE001 — a connection that cannot roll back is not reused
                    await conn.invalidate()
                raise


class _Compiled:
    """A statement compiled once for a dialect: its SQL, and its parameters in placeholder order, each put
    through its column's own bind processor (uuids as hex, JSON, timestamps)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: tuple[str, ...] | None) -> None:
        options: dict[str, Any] = {} if column_keys is None else {'column_keys': list(column_keys)}
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, **options))
        self.sql = compiled.string
        positions = compiled.positiontup or []
        self._binds = [(name, compiled.binds[name].type.bind_processor(compiled.dialect)) for name in positions]

    def params(self, values: dict[str, Any]) -> list[Any]:
        return [process(values[name]) if process else values[name] for name, process in self._binds]


@functools.cache
def _compiled(statement: ClauseElement, dialect: Dialect, column_keys: tuple[str, ...] | None = None) -> _Compiled:
    """Compiled once per statement object: callers keep their hot statements as module constants."""
    return _Compiled(statement, dialect, column_keys)


def upsert_insert(session: AsyncSession, table: Table) -> Any:
    """An INSERT that takes ON CONFLICT … DO UPDATE, in the session's dialect (SQLite or Postgres)."""
    return postgres_insert(table) if session.get_bind().dialect.name == 'postgresql' else sqlite_insert(table)
