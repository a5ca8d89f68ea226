"""The build event log (B-3): events of `core.events` appended per job with gap-free seqs, read back and
followed live.

The log speaks SQLAlchemy only; how a batch reaches a particular driver fastest is `core.db`'s business.
A finished build's events may have moved to the blob store (`core.builds.archive`): reading them goes
through the `archive` loader the log is given, and looks the same to every reader.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core.db import SessionFactory, engine_of, reserve_then_insert, transaction
from core.events import BuildEvent, parse_event
from core.models import BuildEventRow, BuildJob
from core.ports import Notifier

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
_INSERT = insert(_events)  # built once: core.db caches what it compiles per statement
_NO_LIMIT = 2**62  # what both SQLite and Postgres take as "all" in a bound LIMIT
_LAST_SEQ = select(_jobs.c.last_seq).where(_jobs.c.id == bindparam('job_id'))
_ARCHIVE_KEY = select(_jobs.c.events_archive_key).where(_jobs.c.id == bindparam('job_id'))

EventParts = tuple[int, datetime, str, dict[str, Any]]  # seq, at, type, payload: an event as stored
ArchiveLoader = Callable[[str], Awaitable[bytes]]  # blob key → the stored bytes (BlobStore.get); KeyError when gone
# A late joiner pages through an archive: the few being read stay decompressed (the newest one always, the
# others while they fit; 100k events are about 24 MB of lines).
ARCHIVES_CACHED = 4
ARCHIVE_CACHE_BYTES = 64 * 1024 * 1024


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
        self,
        sessions: SessionFactory,
        notifier: Notifier,
        *,
        resync_timeout: float = 15.0,
        page_size: int = 500,
        archive: ArchiveLoader | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)
        self._notifier = notifier
        self._resync_timeout = resync_timeout  # safety net for a lost notification, not the mechanism
        self._page_size = page_size
        self._load_archive = archive
        self._archives: OrderedDict[str, _Archive] = OrderedDict()  # key → decompressed lines, newest last

    # ── writing ──

    async def append(self, event: BuildEvent) -> BuildEvent:
        """Persist one event; returns it with its seq assigned."""
        return (await self.append_many([event]))[0]

    async def append_many(self, events: Iterable[BuildEvent]) -> list[BuildEvent]:
        """Persist events of one job in one transaction with contiguous seqs, then notify."""
        batch = list(events)
        if not batch:
            return []
        stored = await _append(self._engine, batch)
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
        """Events of a job with seq > after_seq, in order; unknown types come back as UnknownEvent.

        An archived build's events come from its archive, followed by any row written after it.
        """
        limit = _NO_LIMIT if limit is None else limit
        params = {'job_id': job_id, 'after_seq': after_seq, 'limit': limit}
        key = None
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_READ_EVENTS, params)).all()
            # Seqs are gap-free: rows that continue right after after_seq leave nothing for an archive to hold,
            # so a live build's reads cost no second query.
            if not rows or rows[0].seq != after_seq + 1:
                key = (await conn.execute(_ARCHIVE_KEY, {'job_id': job_id})).scalar_one_or_none()
        events = [parse_event(job_id=job_id, seq=r.seq, at=r.at, type=r.type, payload=r.payload or {}) for r in rows]
        if key is None:
            return events
        archived = (await self._archive(key)).events(job_id, after_seq, limit)
        newest = archived[-1].seq if archived else after_seq
        return (archived + [e for e in events if e.seq > newest])[:limit]

    async def archived_lines(self, key: str) -> list[bytes]:
        """The lines of the archive `key` (one event each), fetched afresh through the loader replay uses (not
        cached): what archiving checks. Replay builds each event from its line with `archived_parts` and
        `parse_event`."""
        data = await self._fetch_archive(key)
        return (await asyncio.to_thread(_Archive.load, data)).lines

    async def _archive(self, key: str) -> _Archive:
        cached = self._archives.get(key)
        if cached is None:
            cached = await asyncio.to_thread(_Archive.load, await self._fetch_archive(key))  # off the loop
            self._archives[key] = cached
            while len(self._archives) > 1 and (
                len(self._archives) > ARCHIVES_CACHED
                or sum(a.size for a in self._archives.values()) > ARCHIVE_CACHE_BYTES
            ):
                self._archives.popitem(last=False)
        self._archives.move_to_end(key)
        return cached

    async def _fetch_archive(self, key: str) -> bytes:
        if self._load_archive is None:
            raise RuntimeError(f'events archived at {key}, and this event log was given no archive loader')
        return await self._load_archive(key)

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


@dataclass(frozen=True)
class _Archive:
    """A build's archived events as its lines (gzip-compressed JSON Lines, one event each, in seq order);
    a line is parsed only when it is read."""

    lines: list[bytes]
    seqs: list[int] | None  # None: the seqs run first_seq, first_seq + 1, … (always, as the log writes them)
    first_seq: int
    size: int  # bytes of the lines, for the cache's budget

    @classmethod
    def load(cls, data: bytes) -> _Archive:
        text = gzip.decompress(data)
        lines = [line for line in text.split(b'\n') if line]
        if not lines:
            return cls([], None, 1, 0)
        first, last = _archived_seq(lines[0]), _archived_seq(lines[-1])
        if last - first + 1 == len(lines):  # unique and ordered, so exactly first..last
            return cls(lines, None, first, len(text))
        return cls(lines, [_archived_seq(line) for line in lines], first, len(text))

    def events(self, job_id: UUID, after_seq: int, limit: int) -> list[BuildEvent]:
        if self.seqs is None:
            start = min(max(after_seq - self.first_seq + 1, 0), len(self.lines))
        else:
            start = bisect_right(self.seqs, after_seq)
        return [_archived_event(job_id, line) for line in self.lines[start : start + limit]]


def _archived_seq(line: bytes) -> int:
    return int(json.loads(line.decode('utf-8', 'surrogatepass'))['seq'])


def archived_parts(line: bytes) -> EventParts:
    """What one archive line stores (the inverse of `archive_line`)."""
    part = json.loads(line.decode('utf-8', 'surrogatepass'))
    return part['seq'], datetime.fromisoformat(part['at']), part['type'], part['payload'] or {}


def _archived_event(job_id: UUID, line: bytes) -> BuildEvent:
    seq, at, type, payload = archived_parts(line)
    return parse_event(job_id=job_id, seq=seq, at=at, type=type, payload=payload)


def archive_line(seq: int, at: datetime, type: str, payload: dict[str, Any] | None) -> bytes:
    """One event as an archive stores it (a row's parts, as a wake-up's note carries them); the archive is
    these lines in seq order, each followed by a newline, gzip-compressed."""
    part = {'seq': seq, 'at': at.isoformat(), 'type': type, 'payload': payload or {}}
    return json.dumps(part, ensure_ascii=False, separators=(',', ':')).encode('utf-8', 'surrogatepass')


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
    await db.execute(_INSERT, rows)
    return stored


async def _append(engine: AsyncEngine, events: Sequence[BuildEvent]) -> list[BuildEvent]:
    """`_insert_events` in a transaction of its own, without an ORM session: an append is the agent's hot path,
    and `reserve_then_insert` lets the driver take its fastest way (SQLite's is its own connection)."""
    job_id = _one_job(events)
    stored: list[BuildEvent] = []

    def rows_for(last: Any) -> list[dict[str, Any]]:
        if last is None:
            raise LookupError(f'no build job {job_id}')
        numbered, rows = _numbered(events, int(last))
        stored.extend(numbered)
        return rows

    await reserve_then_insert(engine, _RESERVE, {'job_id': job_id, 'n': len(events)}, _INSERT, rows_for)
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
