"""Typed build events: the contract between the agent, the UI and the API (B-3).

Each event is a small frozen model. `EventLog.append` assigns `seq`; readers parse rows with
`parse_event` and ignore types they don't know (they come back as `UnknownEvent`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast
from uuid import UUID

import aiosqlite
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from core.db import SessionFactory, engine_of, transaction, writer_turn
from core.models import BuildEventRow, BuildJob
from core.ports import Notifier


def _now() -> datetime:
    return datetime.now(UTC)


class BuildEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra='forbid')
    job_id: UUID
    seq: int = 0  # assigned by EventLog.append
    at: datetime = Field(default_factory=_now)
    type: str

    def payload(self) -> dict[str, Any]:
        """The event minus its envelope, as stored in the `payload` column."""
        return self.model_dump(mode='json', exclude={'job_id', 'seq', 'at', 'type'})


class StageChanged(BuildEvent):
    type: Literal['build.stage.changed'] = 'build.stage.changed'
    from_state: str
    to_state: str
    reason: str = ''


class Narration(BuildEvent):
    type: Literal['agent.narration'] = 'agent.narration'
    text: str


class Thinking(BuildEvent):
    type: Literal['agent.thinking'] = 'agent.thinking'
    text: str


class ToolCalled(BuildEvent):
    type: Literal['agent.tool.called'] = 'agent.tool.called'
    call_id: str
    tool: str
    label: str  # "Wrote 47 lines to app/login.py"
    input: dict[str, Any] = {}


class ToolResult(BuildEvent):
    type: Literal['agent.tool.result'] = 'agent.tool.result'
    call_id: str
    tool: str
    ok: bool
    output: str = ''  # already truncated and redacted


class LogLines(BuildEvent):
    type: Literal['log.lines'] = 'log.lines'
    phase: str = ''
    stream: str = 'stdout'
    lines: list[str]


class SnapshotUpdated(BuildEvent):
    type: Literal['snapshot.updated'] = 'snapshot.updated'
    url: str
    key: str
    phase: str = ''


class DocumentationUpdated(BuildEvent):
    type: Literal['documentation.updated'] = 'documentation.updated'
    section: Literal['overview', 'features', 'getting_started', 'faq']
    title: str
    content: str  # founder-safe Markdown


class PhaseStarted(BuildEvent):
    type: Literal['gsd.phase.started'] = 'gsd.phase.started'
    phase: str
    planned: list[str] = []  # the whole plan, so a late Kanban knows every card


class PhaseCompleted(BuildEvent):
    type: Literal['gsd.phase.completed'] = 'gsd.phase.completed'
    phase: str


class BudgetUpdated(BuildEvent):
    type: Literal['budget.updated'] = 'budget.updated'
    input_tokens: int
    output_tokens: int
    cost_microdollars: int
    daily_allowance_microdollars: int | None = None


class Sleeping(BuildEvent):
    type: Literal['agent.sleeping'] = 'agent.sleeping'
    wake_at: datetime
    reason: str = ''


class Waking(BuildEvent):
    type: Literal['agent.waking'] = 'agent.waking'


class Escalated(BuildEvent):
    type: Literal['agent.escalated'] = 'agent.escalated'
    escalation_id: UUID
    problem: str
    tried: list[str]
    recommendation: str
    options: list[str]


class Resumed(BuildEvent):
    type: Literal['agent.resumed'] = 'agent.resumed'
    decision: str = ''


class Healing(BuildEvent):
    type: Literal['agent.healing'] = 'agent.healing'
    signature: str
    attempt: int
    max_attempts: int = 3


class BuildDone(BuildEvent):
    type: Literal['build.done'] = 'build.done'
    state: str  # READY | FAILED | CANCELLED | BUDGET_EXCEEDED
    version: str | None = None
    summary: str = ''


class UnknownEvent(BuildEvent):
    """A type this code does not know (newer writer): kept so seq stays continuous."""

    model_config = ConfigDict(frozen=True, extra='allow')


KnownEvent = Annotated[
    StageChanged
    | Narration
    | Thinking
    | ToolCalled
    | ToolResult
    | LogLines
    | SnapshotUpdated
    | DocumentationUpdated
    | PhaseStarted
    | PhaseCompleted
    | BudgetUpdated
    | Sleeping
    | Waking
    | Escalated
    | Resumed
    | Healing
    | BuildDone,
    Field(discriminator='type'),
]
_known: TypeAdapter[Any] = TypeAdapter(KnownEvent)


def parse_event(*, job_id: UUID, seq: int, at: datetime, type: str, payload: dict[str, Any]) -> BuildEvent:
    """Rebuild a typed event from its stored parts; unknown or malformed types stay readable."""
    data = {**payload, 'job_id': job_id, 'seq': seq, 'at': at, 'type': type}
    try:
        return _known.validate_python(data)
    except ValidationError:
        return UnknownEvent(**data)


# ── the event log ─────────────────────────────────────────────────────────────────────────────
# Below the event types on purpose: the types above are the contract, the log is how they are kept.

logger = logging.getLogger(__name__)

# Core tables: the hot path skips ORM identity-map work.
_events = cast(Table, BuildEventRow.__table__)  # type: ignore[attr-defined]
_jobs = cast(Table, BuildJob.__table__)  # type: ignore[attr-defined]
_PENDING_KEY = 'cofounder.events.pending_publish'  # session.info slot: job_id → the events appended
# A wake-up carries the events it announces up to this size; bigger ones (long log batches) are read back.
MAX_NOTE_CHARS = 16_384
# Built once and read on a plain connection: every page watching a build reads once per wake-up, and
# building the query and an ORM session each time was a third of the app's CPU per pushed event.
_READ_EVENTS = (
    select(_events.c.seq, _events.c.at, _events.c.type, _events.c.payload)
    .where(_events.c.job_id == bindparam('job_id'), _events.c.seq > bindparam('after_seq'))
    .order_by(_events.c.seq)
    .limit(bindparam('limit'))
)
_NO_LIMIT = 2**62  # what both SQLite and Postgres take as "all" in a bound LIMIT
_LAST_SEQ = select(_jobs.c.last_seq).where(_jobs.c.id == bindparam('job_id'))


def build_topic(job_id: UUID) -> str:
    """The notifier topic of one build."""
    return f'build:{job_id}'


class EventLog:
    """The append-only, per-job ordered log of build events (B-3).

    The database is the one source of truth. The notifier wakes followers ("job X has events up to
    seq N") and hands them the new events when they are small; a follower takes those only when they
    continue exactly where it is, and otherwise reads the log, so replay and live can never disagree.
    """

    def __init__(
        self, sessions: SessionFactory, notifier: Notifier, *, resync_timeout: float = 15.0, page_size: int = 500
    ) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)
        self._notifier = notifier
        self._resync_timeout = resync_timeout  # safety net for a lost notification, not the mechanism
        self._page_size = page_size

    # ── writing ──

    async def append(self, event: BuildEvent) -> BuildEvent:
        """Persist one event; returns it with its seq assigned."""
        return (await self.append_many([event]))[0]

    async def append_many(self, events: Iterable[BuildEvent]) -> list[BuildEvent]:
        """Persist events of one job in one transaction with contiguous seqs, then notify."""
        batch = list(events)
        if not batch:
            return []
        if self._engine.dialect.name == 'sqlite':
            stored = await _append_on_sqlite(self._engine, batch)
        else:
            async with self._engine.begin() as conn:  # no ORM session: an append is the agent's hot path
                stored = await _insert_events(conn, batch)
        await self.publish(stored)
        return stored

    async def append_in(self, session: AsyncSession, events: Sequence[BuildEvent]) -> list[BuildEvent]:
        """Append inside the caller's transaction (no commit, no notification).

        Use it through `EventLog.transaction()`, which publishes after the commit; with a plain
        session call `publish_after_commit(session)` once committed.
        """
        if not events:
            return []
        stored = await _insert_events(session, events)
        pending: dict[UUID, list[BuildEvent]] = session.info.setdefault(_PENDING_KEY, {})
        pending.setdefault(stored[-1].job_id, []).extend(stored)
        return stored

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success, then announces what `append_in` added to it."""
        async with transaction(self._sessions) as session:
            yield session
        await self.publish_after_commit(session)

    async def publish_after_commit(self, session: AsyncSession) -> None:
        """Announce the events appended in `session` (call only after it committed)."""
        pending: dict[UUID, list[BuildEvent]] = session.info.pop(_PENDING_KEY, {})
        for stored in pending.values():
            await self.publish(stored)

    async def publish(self, stored: Sequence[BuildEvent]) -> None:
        """Wake the followers of the job of `stored` (committed events, oldest first), handing them the
        events too when they are small, so that each follower need not read them back."""
        await self.announce(build_topic(stored[-1].job_id), stored[-1].seq, note=_note(stored))

    async def announce(self, topic: str, seq: int = 1, *, note: str = '') -> None:
        """Publish on any topic (e.g. a control signal such as a cancel). A failure is logged, not raised:
        what matters is stored, and listeners re-read on their resync timeout."""
        try:
            await self._notifier.publish(topic, seq, note)
        except Exception:  # noqa: BLE001 — a wake-up must never fail a committed write
            logger.warning('could not announce %s up to seq %s', topic, seq, exc_info=True)

    # ── reading ──

    async def read(self, job_id: UUID, after_seq: int = 0, limit: int | None = None) -> list[BuildEvent]:
        """Events of a job with seq > after_seq, in order; unknown types come back as UnknownEvent."""
        params = {'job_id': job_id, 'after_seq': after_seq, 'limit': _NO_LIMIT if limit is None else limit}
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_READ_EVENTS, params)).all()
        return [parse_event(job_id=job_id, seq=r.seq, at=r.at, type=r.type, payload=r.payload or {}) for r in rows]

    async def last_seq(self, job_id: UUID) -> int:
        """The seq of the job's newest committed event (0 when none); LookupError for an unknown job."""
        async with self._engine.connect() as conn:
            value = (await conn.execute(_LAST_SEQ, {'job_id': job_id})).scalar_one_or_none()
        if value is None:
            raise LookupError(f'no build job {job_id}')
        return int(value)

    async def follow(
        self,
        job_id: UUID,
        after_seq: int = 0,
        *,
        until_done: bool = False,
        stop_when: Callable[[BuildEvent], bool] | None = None,
    ) -> AsyncIterator[BuildEvent]:
        """Replay the job's events after `after_seq`, then yield new ones live, each exactly once.

        The listener is opened before the first read, so nothing falls between replay and live.
        Ends when the consumer closes the iterator (use `contextlib.aclosing`), after a
        `build.done` event with `until_done=True`, or after an event for which `stop_when` is true.
        """
        listener = await self._notifier.listen(build_topic(job_id))
        try:
            last = after_seq
            batch = await self.read(job_id, after_seq=last, limit=self._page_size)
            while True:
                for event in batch:
                    if event.seq <= last:  # defensive: a seq is yielded once, in order
                        continue
                    last = event.seq
                    yield event
                    if (until_done and event.type == 'build.done') or (stop_when is not None and stop_when(event)):
                        return
                if len(batch) < self._page_size:
                    # The wake-up (or the resync timeout) leads to one cheap indexed re-read, unless it
                    # brought the events that come next.
                    announced = await listener.wait(self._resync_timeout)
                    carried = _carried(job_id, listener.notes(), last, announced)
                    if carried is not None:
                        batch = carried
                        continue
                batch = await self.read(job_id, after_seq=last, limit=self._page_size)
        finally:
            await asyncio.shield(listener.close())


def _note(stored: Sequence[BuildEvent]) -> str:
    """Committed events as a wake-up carries them: the parts of their rows, so a follower rebuilds them with
    `parse_event` just as from the log. Empty (a bare wake-up) when too big to be worth carrying."""
    note = json.dumps(
        [{'seq': e.seq, 'at': e.at.isoformat(), 'type': e.type, 'payload': e.payload()} for e in stored],
        ensure_ascii=False,
        separators=(',', ':'),
    )
    return note if len(note) <= MAX_NOTE_CHARS else ''


def _carried(job_id: UUID, notes: list[str], last: int, announced: int | None) -> list[BuildEvent] | None:
    """The events the wake-ups carried that follow `last` without a gap, through the seq `announced`.

    None when they do not: a timeout, a re-subscription (seq 0), an announcement of nothing new, a note
    dropped, too big or unreadable, or wake-ups from several writers that arrived out of order. The
    follower then reads the log, which is always right.
    """
    if announced is None or announced <= last or not notes:
        return None
    events: dict[int, BuildEvent] = {}
    try:
        for note in notes:
            for part in json.loads(note):
                if part['seq'] > last:
                    events[part['seq']] = parse_event(job_id=job_id, **part)
    except (ValueError, KeyError, TypeError):
        return None
    following = []
    while last + 1 in events:
        last += 1
        following.append(events[last])
    return following if last >= announced else None


async def _insert_events(db: AsyncSession | AsyncConnection, events: Sequence[BuildEvent]) -> list[BuildEvent]:
    """Give the events of one job the next seqs and insert them, in `db`'s transaction."""
    job_id = _one_job(events)
    stored, rows = _numbered(events, await _reserve_seqs(db, job_id, len(events)))
    await db.execute(insert(_events), rows)
    return stored


def _one_job(events: Sequence[BuildEvent]) -> UUID:
    job_id = events[0].job_id
    if any(e.job_id != job_id for e in events):
        raise ValueError('an append takes events of one job')
    return job_id


def _numbered(events: Sequence[BuildEvent], last: int) -> tuple[list[BuildEvent], list[dict[str, Any]]]:
    """The events with the seqs up to `last`, and their rows."""
    first = last - len(events) + 1
    stored = [e.model_copy(update={'seq': first + i}) for i, e in enumerate(events)]
    rows = [{'job_id': e.job_id, 'seq': e.seq, 'type': e.type, 'payload': e.payload(), 'at': e.at} for e in stored]
    return stored, rows


async def _append_on_sqlite(engine: AsyncEngine, events: Sequence[BuildEvent]) -> list[BuildEvent]:
    """`_insert_events` and its commit on SQLite, through the driver's connection: 3 trips to the connection's
    thread instead of 8.

    aiosqlite runs every call on the connection's own thread. Through SQLAlchemy each statement took a trip
    for its cursor, its execution, its rows and its closing, then one more for the commit; with 20 builds
    on two cores each trip could wait for a core, and the writer turn was held meanwhile. Here each
    statement is one trip (`execute_fetchall`, `executemany`), with the SQL SQLAlchemy compiles for it, the
    columns' own bind processors, and the same writer turn as every other SQLite writer of this process.
    """
    job_id = _one_job(events)
    reserve, insert_row = _sqlite_statements(engine.dialect)
    async with engine.connect() as conn:
        pooled = await conn.get_raw_connection()
        driver = cast(aiosqlite.Connection, pooled.driver_connection)
        async with writer_turn(engine, pooled.dbapi_connection):
            try:
                params = reserve.params({'n': len(events), 'job_id': job_id})
                reserved = await driver.execute_fetchall(reserve.sql, params)
                if not reserved:
                    raise LookupError(f'no build job {job_id}')
                stored, rows = _numbered(events, int(next(iter(reserved))[0]))
                await driver.executemany(insert_row.sql, [insert_row.params(row) for row in rows])
                await driver.commit()
            except BaseException:
                try:
                    await driver.rollback()
                except Exception:  # noqa: BLE001 — a connection that cannot roll back is not reused
                    await conn.invalidate()
                raise
    return stored


_ROW = ('job_id', 'seq', 'type', 'payload', 'at')  # the columns an append writes (see _numbered)


class _Compiled:
    """A statement compiled once for a dialect: its SQL, and its parameters in placeholder order, each put
    through its column's own bind processor (uuids as hex, JSON, timestamps)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, **options: Any) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, **options))
        self.sql = compiled.string
        positions = compiled.positiontup or []
        self._binds = [(name, compiled.binds[name].type.bind_processor(compiled.dialect)) for name in positions]

    def params(self, values: dict[str, Any]) -> list[Any]:
        return [process(values[name]) if process else values[name] for name, process in self._binds]


@functools.cache
def _sqlite_statements(dialect: Dialect) -> tuple[_Compiled, _Compiled]:
    """The seq reservation and the row insert of an append, as SQLite gets them from SQLAlchemy."""
    return _Compiled(_RESERVE, dialect), _Compiled(insert(_events), dialect, column_keys=list(_ROW))


# Advances a job's seq counter; the UPDATE takes the lock before anything is read (see _reserve_seqs).
_RESERVE = (
    update(_jobs)
    .where(_jobs.c.id == bindparam('job_id'))
    .values(last_seq=_jobs.c.last_seq + bindparam('n'))
    .returning(_jobs.c.last_seq)
)


async def _reserve_seqs(db: AsyncSession | AsyncConnection, job_id: UUID, n: int) -> int:
    """Advance the job's seq counter by n in the caller's transaction; returns the new last seq.

    The UPDATE takes the row lock on Postgres and the write lock on SQLite before anything is
    read, so concurrent writers (in any process) are serialised and seqs stay gap-free.
    """
    last = (await db.execute(_RESERVE, {'job_id': job_id, 'n': n})).scalar_one_or_none()
    if last is None:
        raise LookupError(f'no build job {job_id}')
    return int(last)
