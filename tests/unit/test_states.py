"""The build state machine (B-1): the table, and transitions that are persisted and emitted."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from core.adapters.notify_memory import MemoryNotifier
from core.builds.states import (
    ALLOWED,
    ENTERED_AT,
    HOLDS,
    RUNNING,
    STAGE_LABELS,
    TERMINAL,
    BuildState,
    IllegalTransition,
    can_transition,
    check_transition,
    stage_durations,
    stage_label,
    transition,
)
from core.db import make_engine, make_session_factory
from core.event_log import EventLog
from core.events import BuildDone, LogLines, StageChanged
from core.models import BuildJob
from tests.integration.test_event_log import make_job

S = BuildState
HAPPY_PATH = [S.QUEUED, S.STARTING, S.SCAFFOLD, S.CODE, S.DEPS, S.CHECKS, S.READY]


# ── the table ──


def test_every_state_has_a_row_and_a_founder_label() -> None:
    assert set(ALLOWED) == set(BuildState) == set(STAGE_LABELS)
    assert stage_label('CODE') == 'Writing code' and stage_label('SLEEPING') == 'Resting'
    assert stage_label('SOMETHING_NEW') == 'SOMETHING_NEW'


def test_the_happy_path_is_allowed() -> None:
    for source, target in itertools.pairwise(HAPPY_PATH):
        check_transition(source, target)


def test_the_groups_partition_the_states() -> None:
    assert RUNNING | HOLDS | TERMINAL | {S.QUEUED} == set(BuildState)
    assert not (RUNNING & HOLDS) and not (RUNNING & TERMINAL) and not (HOLDS & TERMINAL)


def test_terminal_states_have_no_exits() -> None:
    for state in TERMINAL:
        assert ALLOWED[state] == frozenset()


def test_every_running_state_can_stop_pause_or_be_requeued() -> None:
    for state in RUNNING:
        assert {S.FAILED, S.CANCELLED, S.SLEEPING, S.NEEDS_INPUT, S.BUDGET_EXCEEDED, S.QUEUED} <= ALLOWED[state]


def test_holds_resume_through_the_queue_or_end() -> None:
    for state in HOLDS:
        assert ALLOWED[state] == {S.QUEUED, S.CANCELLED, S.FAILED}


def test_fix_loops_go_back_to_code() -> None:
    assert can_transition('CHECKS', 'CODE') and can_transition('DEPS', 'CODE')
    assert not can_transition('CHECKS', 'DEPS')


def test_no_state_skips_ahead_or_loops_onto_itself() -> None:
    for state in BuildState:
        assert state not in ALLOWED[state]
    assert not can_transition('QUEUED', 'CODE') and not can_transition('SCAFFOLD', 'READY')
    assert not can_transition('QUEUED', 'SLEEPING') and not can_transition('SLEEPING', 'CODE')


@pytest.mark.parametrize(('source', 'target'), list(itertools.product(BuildState, BuildState)))
def test_every_pair_outside_the_table_raises(source: BuildState, target: BuildState) -> None:
    if target in ALLOWED[source]:
        check_transition(source, target)
        return
    with pytest.raises(IllegalTransition) as raised:
        check_transition(source, target)
    assert (raised.value.from_state, raised.value.to_state) == (source, target)


def test_unknown_states_allow_nothing() -> None:
    assert not can_transition('QUEUED', 'FLYING') and not can_transition('FLYING', 'QUEUED')


# ── transitions against the database (SQLite and Postgres) ──


@pytest.fixture
def notifier() -> MemoryNotifier:
    return MemoryNotifier()


@pytest.fixture
def event_log(session_factory, notifier: MemoryNotifier) -> EventLog:  # type: ignore[no-untyped-def]
    return EventLog(session_factory, notifier)


async def job_row(sessions, job_id) -> BuildJob:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await session.get(BuildJob, job_id)


async def test_a_transition_is_persisted_and_emitted(event_log: EventLog, session_factory, notifier) -> None:
    job_id = await make_job(session_factory)
    listener = await notifier.listen(f'build:{job_id}')
    job = await transition(event_log, job_id, S.STARTING, reason='A worker picked it up')
    assert job.state == 'STARTING' and job.started_at is not None and job.last_seq == 1
    stored = await job_row(session_factory, job_id)
    assert stored.state == 'STARTING' and stored.started_at is not None and stored.last_seq == 1
    (event,) = await event_log.read(job_id)
    assert isinstance(event, StageChanged)
    assert (event.from_state, event.to_state, event.reason) == ('QUEUED', 'STARTING', 'A worker picked it up')
    assert await listener.wait(1) == 1  # followers were woken


async def test_an_illegal_transition_changes_nothing(event_log: EventLog, session_factory) -> None:
    job_id = await make_job(session_factory)
    with pytest.raises(IllegalTransition):
        await transition(event_log, job_id, S.READY)
    stored = await job_row(session_factory, job_id)
    assert stored.state == 'QUEUED' and stored.last_seq == 0 and stored.stage_timings == {}
    assert await event_log.read(job_id) == []


async def test_a_whole_build_records_stage_timings_and_ends_with_done(event_log: EventLog, session_factory) -> None:
    job_id = await make_job(session_factory)
    for target in HAPPY_PATH[1:-1]:
        await transition(event_log, job_id, target)
    job = await transition(event_log, job_id, S.READY, reason='Your app is ready', version_label='v0.1')
    assert job.finished_at is not None and job.version_label == 'v0.1'
    assert set(stage_durations(job)) == {s.value for s in HAPPY_PATH[:-1]}
    assert all(seconds >= 0 for seconds in stage_durations(job).values()) and ENTERED_AT in job.stage_timings
    events = await event_log.read(job_id)
    assert [e.to_state for e in events if isinstance(e, StageChanged)] == [s.value for s in HAPPY_PATH[1:]]
    assert isinstance(events[-1], BuildDone) and events[-1].state == 'READY' and events[-1].version == 'v0.1'
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_time_in_a_state_accumulates_across_a_fix_loop(event_log: EventLog, session_factory) -> None:
    job_id = await make_job(session_factory)
    for target in [S.STARTING, S.SCAFFOLD, S.CODE, S.DEPS, S.CHECKS, S.CODE]:
        first_pass = await transition(event_log, job_id, target)
    for target in [S.DEPS, S.CHECKS, S.READY]:
        job = await transition(event_log, job_id, target)
    before, after = stage_durations(first_pass), stage_durations(job)
    assert set(after) == {'QUEUED', 'STARTING', 'SCAFFOLD', 'CODE', 'DEPS', 'CHECKS'}
    assert after['DEPS'] >= before['DEPS'] and after['CHECKS'] >= before['CHECKS']  # added to, not replaced


async def test_failing_records_the_summary_for_the_founder(event_log: EventLog, session_factory) -> None:
    job_id = await make_job(session_factory)
    await transition(event_log, job_id, S.STARTING)
    job = await transition(event_log, job_id, S.FAILED, error_summary='The app did not start', error_detail='trace')
    stored = await job_row(session_factory, job_id)
    assert (stored.state, stored.error_summary, stored.error_detail) == ('FAILED', 'The app did not start', 'trace')
    done = (await event_log.read(job_id))[-1]
    assert isinstance(done, BuildDone) and done.state == 'FAILED' and done.summary == 'The app did not start'
    assert job.finished_at is not None
    with pytest.raises(IllegalTransition):
        await transition(event_log, job_id, S.QUEUED)


async def test_protected_or_unknown_fields_are_refused(event_log: EventLog, session_factory) -> None:
    job_id = await make_job(session_factory)
    with pytest.raises(TypeError):
        await transition(event_log, job_id, S.STARTING, last_seq=99)
    with pytest.raises(TypeError):
        await transition(event_log, job_id, S.STARTING, colour='blue')
    with pytest.raises(LookupError):
        await transition(event_log, uuid.uuid4(), S.STARTING)


async def test_two_workers_racing_to_start_one_job_only_one_wins(db_url: str, session_factory) -> None:
    job_id = await make_job(session_factory)
    engines = [make_engine(db_url) for _ in range(4)]
    notifier = MemoryNotifier()
    try:
        logs = [EventLog(make_session_factory(engine), notifier) for engine in engines]
        results = await asyncio.gather(*(transition(log, job_id, S.STARTING) for log in logs), return_exceptions=True)
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(isinstance(r, BuildJob) for r in results) == 1
    assert sum(isinstance(r, IllegalTransition) for r in results) == 3
    events = await EventLog(session_factory, notifier).read(job_id)
    assert [(e.from_state, e.to_state) for e in events] == [('QUEUED', 'STARTING')]


async def test_transitions_interleave_with_a_stream_of_log_appends(event_log: EventLog, session_factory) -> None:
    job_id = await make_job(session_factory)
    stop = asyncio.Event()

    async def logs() -> int:
        count = 0
        while not stop.is_set():
            await event_log.append(LogLines(job_id=job_id, lines=[f'line {count}']))
            count += 1
            await asyncio.sleep(0)
        return count

    writer = asyncio.create_task(logs())
    for target in HAPPY_PATH[1:]:
        await transition(event_log, job_id, target)
        await asyncio.sleep(0.005)
    stop.set()
    written = await writer
    events = await event_log.read(job_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) == written + len(HAPPY_PATH) - 1 + 1  # logs + stage changes + build.done
    assert [e.to_state for e in events if isinstance(e, StageChanged)] == [s.value for s in HAPPY_PATH[1:]]
