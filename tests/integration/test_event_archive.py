"""B-3: a finished build's events move to the blob store after 24 h and replay from there unchanged.

Real databases (SQLite, Postgres) and real blob stores (files, S3 on moto's server).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.adapters.notify_memory import MemoryNotifier
from core.builds.archive import archive_finished_builds, archive_key, compress, encode_rows
from core.builds.states import BuildState
from core.db import SessionFactory
from core.event_log import EventLog
from core.events import BuildEvent, LogLines, Narration, ToolCalled, ToolResult, UnknownEvent
from core.models import BlobRecord, BuildEventRow, utcnow
from core.ports import BlobStore
from tests.integration.housekeeping_support import (
    TO_READY,
    Founder,
    blob_store,
    event_rows,
    founder,
    job_row,
    queued_build,
    walk,
)
from tests.integration.test_blob_contract import moto_endpoint, s3_admin  # noqa: F401  (fixtures)

DAY_LATER = timedelta(hours=25)  # "now" for the archive job: past the 24 h a finished build stays hot
HOT = timedelta(hours=24)
WAIT = 30.0


@pytest.fixture(params=['fs', 's3'])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    async with blob_store(request, tmp_path, request.param) as opened:
        yield opened


@pytest.fixture
def log(session_factory: SessionFactory, store: BlobStore) -> EventLog:
    """The event log as build_services wires it: archived events are read from the blob store."""
    return EventLog(session_factory, MemoryNotifier(), archive=store.get, page_size=7)


async def failed_build(sessions: SessionFactory, log: EventLog, who: Founder) -> uuid.UUID:
    """A build that worked for a while (narration, tools, logs, an event type from a newer writer) and failed."""
    job_id = await queued_build(sessions, who)
    await walk(log, job_id, BuildState.STARTING, BuildState.SCAFFOLD, BuildState.CODE)
    for i in range(12):
        await log.append_many(
            [
                Narration(job_id=job_id, text=f'Step {i}: I’m wiring the booking form — ünïcode ✓'),
                ToolCalled(job_id=job_id, call_id=f'c{i}', tool='write_file', label='Wrote app.py', input={'n': i}),
                ToolResult(job_id=job_id, call_id=f'c{i}', tool='write_file', ok=i % 3 != 0, output='x' * i),
                LogLines(job_id=job_id, phase='code', lines=[f'line {i}.{j}' for j in range(5)]),
            ]
        )
    await log.append(UnknownEvent(job_id=job_id, type='agent.future.thing', detail={'depth': [1, 2.5, None]}))
    await walk(log, job_id, BuildState.FAILED)
    return job_id


async def followed(log: EventLog, job_id: uuid.UUID, after_seq: int = 0) -> list[BuildEvent]:
    async def run() -> list[BuildEvent]:
        async with aclosing(log.follow(job_id, after_seq, until_done=True)) as events:
            return [event async for event in events]

    return await asyncio.wait_for(run(), WAIT)


def same(left: list[BuildEvent], right: list[BuildEvent]) -> None:
    assert [(e.seq, e.type, e.payload(), e.at) for e in left] == [(e.seq, e.type, e.payload(), e.at) for e in right]
    assert left == right


async def test_an_archived_build_replays_the_same_events_through_read_and_follow(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    job_id = await failed_build(session_factory, log, who)
    before = await log.read(job_id)
    followed_before = await followed(log, job_id)
    assert len(before) > 50 and before[-1].type == 'build.done' and followed_before == before

    archived = await archive_finished_builds(session_factory, log, store, older_than=HOT, now=utcnow() + DAY_LATER)

    assert archived == [job_id]
    assert await event_rows(session_factory, job_id) == 0  # the rows are gone
    key = archive_key(who.project_id, job_id)
    assert (await job_row(session_factory, job_id)).events_archive_key == key
    fresh = EventLog(session_factory, MemoryNotifier(), archive=store.get, page_size=7)  # nothing cached
    for reader in (log, fresh):
        same(await reader.read(job_id), before)
        same(await reader.read(job_id, after_seq=10, limit=5), before[10:15])
        same(await reader.read(job_id, after_seq=len(before) - 2), before[-2:])
        assert await reader.read(job_id, after_seq=len(before)) == []
        same(await followed(reader, job_id), before)  # paged: 7 events a read
        same(await followed(reader, job_id, after_seq=20), before[20:])
    assert await log.last_seq(job_id) == before[-1].seq


async def test_the_archive_is_one_gzip_json_lines_object_owned_by_the_founder(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    job_id = await failed_build(session_factory, log, who)
    before = await log.read(job_id)
    await archive_finished_builds(session_factory, log, store, older_than=HOT, now=utcnow() + DAY_LATER)

    key = archive_key(who.project_id, job_id)
    assert await store.list(f'projects/{who.project_id}/') == [key]
    data = await store.get(key)
    lines = [json.loads(line) for line in gzip.decompress(data).splitlines()]
    assert [line['seq'] for line in lines] == [e.seq for e in before]
    assert lines[-1]['type'] == 'build.done' and lines[-1]['payload']['state'] == 'FAILED'
    async with session_factory() as session:
        record = await session.get(BlobRecord, key)
    assert record is not None
    assert (record.kind, record.owner_id, record.project_id, record.job_id) == (
        'archive',
        who.user_id,
        who.project_id,
        job_id,
    )
    assert record.size == len(data)


async def test_archiving_twice_changes_nothing_the_second_time(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    job_id = await failed_build(session_factory, log, who)
    before = await log.read(job_id)
    now = utcnow() + DAY_LATER
    assert await archive_finished_builds(session_factory, log, store, older_than=HOT, now=now) == [job_id]
    data = await store.get(archive_key(who.project_id, job_id))

    assert await archive_finished_builds(session_factory, log, store, older_than=HOT, now=now) == []

    assert await store.get(archive_key(who.project_id, job_id)) == data
    same(await log.read(job_id), before)


async def test_a_crash_after_the_upload_leaves_the_rows_and_the_next_run_finishes(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    """The state a crash between upload and delete leaves: the archive stored, the rows still there."""
    who = await founder(session_factory)
    job_id = await failed_build(session_factory, log, who)
    before = await log.read(job_id)
    async with session_factory() as session:
        rows = (await session.execute(select(BuildEventRow).where(BuildEventRow.job_id == job_id))).scalars().all()
    rows = sorted(rows, key=lambda r: r.seq)
    await store.put(archive_key(who.project_id, job_id), compress(encode_rows(rows)), content_type='application/gzip')
    same(await log.read(job_id), before)  # not marked archived: read from the rows

    assert await archive_finished_builds(session_factory, log, store, older_than=HOT, now=utcnow() + DAY_LATER) == [
        job_id
    ]
    assert await event_rows(session_factory, job_id) == 0
    same(await log.read(job_id), before)


async def test_an_archive_that_does_not_read_back_keeps_the_rows(
    session_factory: SessionFactory, store: BlobStore
) -> None:
    async def garbled(key: str) -> bytes:
        return gzip.compress(b'{"seq":1,"at":"2026-01-01T00:00:00+00:00","type":"agent.narration","payload":{}}\n')

    writer = EventLog(session_factory, MemoryNotifier(), archive=garbled)
    who = await founder(session_factory)
    job_id = await failed_build(session_factory, writer, who)
    before = await writer.read(job_id)

    assert await archive_finished_builds(session_factory, writer, store, older_than=HOT, now=utcnow() + DAY_LATER) == []

    assert (await job_row(session_factory, job_id)).events_archive_key is None
    same(await writer.read(job_id), before)  # still rows


async def test_only_builds_that_ended_more_than_a_day_ago_are_archived(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    ready = await queued_build(session_factory, who)
    await walk(log, ready, *TO_READY, preview_state='running')
    running = await queued_build(session_factory, who)
    await walk(log, running, BuildState.STARTING, BuildState.SCAFFOLD, BuildState.CODE)
    queued = await queued_build(session_factory, who)

    assert await archive_finished_builds(session_factory, log, store, older_than=HOT) == []  # ended just now
    archived = await archive_finished_builds(session_factory, log, store, older_than=HOT, now=utcnow() + DAY_LATER)

    assert archived == [ready]
    assert await event_rows(session_factory, running) > 0
    assert (await job_row(session_factory, queued)).events_archive_key is None
    assert [e.type for e in await log.read(ready)][-1] == 'build.done'


async def test_an_event_log_without_an_archive_loader_refuses_to_replay_an_archived_build(
    session_factory: SessionFactory, store: BlobStore, log: EventLog
) -> None:
    who = await founder(session_factory)
    job_id = await failed_build(session_factory, log, who)
    await archive_finished_builds(session_factory, log, store, older_than=HOT, now=utcnow() + DAY_LATER)

    with pytest.raises(RuntimeError, match='no archive loader'):
        await EventLog(session_factory, MemoryNotifier()).read(job_id)
