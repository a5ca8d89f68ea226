"""Archiving finished builds' events (B-3: 24 h hot, then in blob storage).

A build that ended (READY, FAILED, CANCELLED, BUDGET_EXCEEDED) more than `older_than` ago has its event
rows written to the blob store as one gzip-compressed JSON Lines object, read back through the event
log and compared, and only then are the rows deleted and the build marked archived, in one transaction.
`EventLog.read` / `follow` then serve its events from the archive, unchanged.

Crash-safe and idempotent: the ownership record is written before the upload (so the orphan sweep of
`core.retention` never takes an archive for a stray blob), the upload is the same bytes every time, and
until the final transaction commits the rows are still there; a rerun simply does it again.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, select, update

from core.builds.states import TERMINAL
from core.db import SessionFactory, engine_of, transaction
from core.event_log import EventLog, archive_line, archived_parts
from core.models import BlobRecord, BuildEventRow, BuildJob, utcnow
from core.ports import BlobStore

log = logging.getLogger(__name__)

CONTENT_TYPE = 'application/gzip'
COMPRESS_LEVEL = 6  # zlib's default: level 9 took far longer for a few percent less
READ_PAGE = 2_000  # event rows read per query: SQLAlchemy turns each page into rows on the loop (~30 ms)
_events = cast(Table, BuildEventRow.__table__)  # type: ignore[attr-defined]
_jobs = cast(Table, BuildJob.__table__)  # type: ignore[attr-defined]
_blobs = cast(Table, BlobRecord.__table__)  # type: ignore[attr-defined]


class ArchiveMismatch(Exception):
    """The archive read back differs from the rows it was written from: the rows stay."""


@dataclass(frozen=True)
class FinishedBuild:
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID


def archive_key(project_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Where a build's events are archived (one object per build)."""
    return f'projects/{project_id}/archives/{job_id}.jsonl.gz'


async def archive_finished_builds(
    sessions: SessionFactory,
    events: EventLog,
    blobs: BlobStore,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[uuid.UUID]:
    """Archive the events of every build that finished before now - older_than and is not archived yet.

    Returns the builds archived. A build that fails (store down, read-back mismatch, an event appended
    meanwhile) is logged and keeps its rows; the next run tries again.
    """
    archived = []
    for build in await finished_unarchived(sessions, before=(now or utcnow()) - older_than, limit=limit):
        try:
            if await archive_build(sessions, events, blobs, build):
                archived.append(build.id)
        except Exception:  # noqa: BLE001 — one build's trouble must not stop the others
            log.exception('archiving the events of build %s failed; its rows stay', build.id)
    if archived:
        log.info('archived the events of %d finished build(s)', len(archived))
    return archived


async def finished_unarchived(
    sessions: SessionFactory, *, before: datetime, limit: int | None = None
) -> list[FinishedBuild]:
    """Builds in a terminal state, finished before `before`, whose events are still rows; oldest first."""
    query = (
        select(_jobs.c.id, _jobs.c.project_id, _jobs.c.user_id)
        .where(
            _jobs.c.state.in_([s.value for s in TERMINAL]),
            _jobs.c.finished_at < before,
            _jobs.c.events_archive_key.is_(None),
        )
        .order_by(_jobs.c.finished_at)
        .limit(limit)
    )
    async with engine_of(sessions).connect() as conn:
        rows = (await conn.execute(query)).all()
    return [FinishedBuild(r.id, r.project_id, r.user_id) for r in rows]


async def archive_build(sessions: SessionFactory, events: EventLog, blobs: BlobStore, build: FinishedBuild) -> bool:
    """Move one build's events to the blob store; False when it was archived meanwhile or gained events."""
    key = archive_key(build.project_id, build.id)
    await _record_owner(sessions, build, key)
    lines, last = await _event_lines(sessions, build.id)
    data = await asyncio.to_thread(compress, lines)  # a second of CPU for a big build: off the app's loop
    await blobs.put(key, data, content_type=CONTENT_TYPE)
    await _verify(events, key, lines)
    return await _swap_rows_for_archive(sessions, build.id, key, last=last, size=len(data))


def encode_rows(rows: Sequence[Any]) -> list[bytes]:
    """Event rows (seq, at, type, payload) as archive lines."""
    return [archive_line(row.seq, row.at, row.type, row.payload) for row in rows]


def compress(lines: Sequence[bytes]) -> bytes:
    """The archive of these lines; the same lines give the same bytes (no timestamp in the gzip header)."""
    return gzip.compress(b''.join(line + b'\n' for line in lines), compresslevel=COMPRESS_LEVEL, mtime=0)


async def _record_owner(sessions: SessionFactory, build: FinishedBuild, key: str) -> None:
    async with transaction(sessions) as session:
        await session.merge(
            BlobRecord(
                key=key,
                owner_id=build.user_id,
                project_id=build.project_id,
                job_id=build.id,
                kind='archive',
                content_type=CONTENT_TYPE,
            )
        )


async def _event_lines(sessions: SessionFactory, job_id: uuid.UUID) -> tuple[list[bytes], int]:
    """The build's events as archive lines, and the last seq among them (0 when none).

    Read a page at a time and kept as bytes only: a hundred thousand rows held at once made the collector's
    full passes stall the loop for a quarter of a second (bench/README.md).
    """
    page = (
        select(_events.c.seq, _events.c.at, _events.c.type, _events.c.payload)
        .where(_events.c.job_id == job_id)
        .order_by(_events.c.seq)
        .limit(READ_PAGE)
    )
    lines: list[bytes] = []
    last = 0
    async with engine_of(sessions).connect() as conn:
        while True:
            batch = (await conn.execute(page.where(_events.c.seq > last))).all()
            lines.extend(await asyncio.to_thread(encode_rows, batch))
            last = batch[-1].seq if batch else last
            if len(batch) < READ_PAGE:
                return lines, last


async def _verify(events: EventLog, key: str, lines: Sequence[bytes]) -> None:
    """Read the archive back the way replay will (through the event log's loader): the same lines, byte for
    byte, each decoding to the parts it was written from. In a thread: a big build has 100k of them."""
    archived = await events.archived_lines(key)
    if not await asyncio.to_thread(_reads_back, archived, lines):
        raise ArchiveMismatch(f'the archive {key} does not read back as the events it was written from')


def _reads_back(archived: Sequence[bytes], lines: Sequence[bytes]) -> bool:
    return list(archived) == list(lines) and all(archive_line(*archived_parts(line)) == line for line in archived)


async def _swap_rows_for_archive(
    sessions: SessionFactory, job_id: uuid.UUID, key: str, *, last: int, size: int
) -> bool:
    """Mark the build archived and delete the archived rows, atomically.

    The guarded UPDATE comes first, so it takes the job row's lock (Postgres) or the write lock (SQLite)
    before anything is deleted; it matches only while the job's seq counter still ends at the archive's last
    event, so an event appended since (none should be, the build has ended) leaves everything as it was.
    """
    async with transaction(sessions) as session:
        marked = await session.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id, _jobs.c.events_archive_key.is_(None), _jobs.c.last_seq == last)
            .values(events_archive_key=key)
        )
        if cast(CursorResult[Any], marked).rowcount != 1:
            return False
        await session.execute(delete(_events).where(_events.c.job_id == job_id, _events.c.seq <= last))
        await session.execute(update(_blobs).where(_blobs.c.key == key).values(size=size))
    return True
