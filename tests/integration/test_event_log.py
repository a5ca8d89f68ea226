"""The build event log (B-3): ordered, gap-free, replayable, and followed live with nothing missed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from sqlalchemy import event

from core.adapters.notify_memory import MemoryNotifier
from core.adapters.notify_redis import RedisNotifier
from core.db import SessionFactory, engine_of, make_engine, make_session_factory, transaction
from core.event_log import MAX_NOTE_CHARS, EventLog
from core.events import BuildDone, BuildEvent, LogLines, Narration, StageChanged, ToolCalled, UnknownEvent
from core.models import BuildEventRow, BuildJob, Project, Tier, User
from core.notify import MAX_NOTES
from core.ports import Listener, Notifier
from tests.services import require_redis

WAIT = 30.0  # upper bound for a follower to finish; a hang fails the test instead of blocking it


async def make_job(sessions: SessionFactory, *, state: str = 'QUEUED') -> uuid.UUID:
    """Insert the rows a build job needs (tier, user, project) and the job; returns its id."""
    async with transaction(sessions) as session:
        if await session.get(Tier, 'bootstrapper') is None:
            session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=1_000_000))
            await session.flush()
        user = User(email=f'{uuid.uuid4().hex[:8]}@example.com', password_hash='x')
        session.add(user)
        await session.flush()
        project = Project(owner_id=user.id, title='Dog walking app')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=user.id, state=state)
        session.add(job)
    return job.id


@pytest.fixture(params=['memory', pytest.param('redis', marks=pytest.mark.redis)])
async def notifier(request: pytest.FixtureRequest) -> AsyncIterator[Notifier]:
    if request.param == 'memory':
        notifier: Notifier = MemoryNotifier()
    else:
        notifier = RedisNotifier(require_redis(), client_name=f'cf-test-{uuid.uuid4().hex[:10]}')
    yield notifier
    await notifier.close()


@pytest.fixture
def event_log(session_factory: SessionFactory) -> EventLog:
    """For what does not depend on the notifier (storage, seqs): the in-process one."""
    return EventLog(session_factory, MemoryNotifier())


@pytest.fixture
def live_log(session_factory: SessionFactory, notifier: Notifier) -> EventLog:
    """For following: over both notifiers."""
    return EventLog(session_factory, notifier)


def say(job_id: uuid.UUID, text: str) -> Narration:
    return Narration(job_id=job_id, text=text)


async def collect(log: EventLog, job_id: uuid.UUID, after_seq: int = 0) -> list[BuildEvent]:
    async def run() -> list[BuildEvent]:
        async with aclosing(log.follow(job_id, after_seq, until_done=True)) as events:
            return [event async for event in events]

    return await asyncio.wait_for(run(), WAIT)


# ── append and read ──


async def test_appended_events_read_back_in_order_with_seqs(event_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    first = await event_log.append(StageChanged(job_id=job, from_state='QUEUED', to_state='STARTING'))
    rest = await event_log.append_many([say(job, 'Setting things up'), say(job, 'Writing the login page')])
    assert first.seq == 1 and [e.seq for e in rest] == [2, 3]
    events = await event_log.read(job)
    assert [e.seq for e in events] == [1, 2, 3]
    assert isinstance(events[0], StageChanged) and events[0].to_state == 'STARTING'
    assert [e.text for e in events[1:]] == ['Setting things up', 'Writing the login page']
    assert await event_log.last_seq(job) == 3


async def test_read_after_seq_and_limit_keeps_jobs_apart(event_log: EventLog, session_factory) -> None:
    job, other = await make_job(session_factory), await make_job(session_factory)
    await event_log.append_many([say(job, f'step {i}') for i in range(1, 11)])
    await event_log.append(say(other, 'another build'))
    assert [e.seq for e in await event_log.read(job, after_seq=7)] == [8, 9, 10]
    assert [e.seq for e in await event_log.read(job, after_seq=2, limit=3)] == [3, 4, 5]
    assert await event_log.read(job, after_seq=10) == []
    assert [(e.seq, e.text) for e in await event_log.read(other)] == [(1, 'another build')]


async def test_appends_that_cannot_be_kept_are_refused_whole(event_log: EventLog, session_factory) -> None:
    with pytest.raises(LookupError):
        await event_log.append(say(uuid.uuid4(), 'nobody'))
    one, two = await make_job(session_factory), await make_job(session_factory)
    with pytest.raises(ValueError):
        await event_log.append_many([say(one, 'a'), say(two, 'b')])
    assert await event_log.read(one) == [] and await event_log.last_seq(one) == 0


async def test_events_keep_their_payload_through_the_database(event_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    call = ToolCalled(
        job_id=job,
        call_id='c1',
        tool='write_file',
        label='Wrote 47 lines to app/login.py',
        input={'path': 'app/login.py'},
    )
    await event_log.append(call)
    (read,) = await event_log.read(job)
    assert read == call.model_copy(update={'seq': 1})


async def test_unknown_event_types_stay_readable(event_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    await event_log.append(say(job, 'before'))
    async with transaction(session_factory) as session:  # a newer writer's event type
        session.add(BuildEventRow(job_id=job, seq=2, type='agent.daydream', payload={'dream': 'a boat'}))
        (await session.get(BuildJob, job)).last_seq = 2
    await event_log.append(UnknownEvent(job_id=job, type='agent.other', mood='calm'))
    events = await event_log.read(job)
    assert [e.type for e in events] == ['agent.narration', 'agent.daydream', 'agent.other']
    assert isinstance(events[1], UnknownEvent) and events[1].model_extra == {'dream': 'a boat'}
    assert events[2].seq == 3 and events[2].model_extra == {'mood': 'calm'}


async def test_append_in_commits_with_the_callers_transaction(event_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    with pytest.raises(RuntimeError):
        async with event_log.transaction() as session:
            await event_log.append_in(session, [say(job, 'never seen')])
            raise RuntimeError('the surrounding change failed')
    assert await event_log.read(job) == [] and await event_log.last_seq(job) == 0
    async with event_log.transaction() as session:
        stored = await event_log.append_in(session, [say(job, 'seen')])
    assert stored[0].seq == 1 and [e.seq for e in await event_log.read(job)] == [1]


# ── concurrency ──


async def test_concurrent_writers_get_gap_free_unique_seqs(event_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)

    async def writer(name: str) -> list[int]:
        seqs = []
        for i in range(200):
            if i % 20 == 0:  # mix batches with single appends
                seqs += [e.seq for e in await event_log.append_many([say(job, f'{name}-{i}-{k}') for k in range(3)])]
            else:
                seqs.append((await event_log.append(say(job, f'{name}-{i}'))).seq)
        return seqs

    results = await asyncio.gather(*(writer(f'w{n}') for n in range(5)))
    total = 5 * (200 + 10 * 2)
    assert sorted(s for seqs in results for s in seqs) == list(range(1, total + 1))
    assert all(seqs == sorted(seqs) for seqs in results)  # each writer sees its own order kept
    assert [e.seq for e in await event_log.read(job)] == list(range(1, total + 1))


async def test_writers_with_separate_engines_get_gap_free_seqs(db_url: str, session_factory) -> None:
    """Separate engines stand in for separate processes (own connections, no shared state)."""
    job = await make_job(session_factory)
    engines = [make_engine(db_url) for _ in range(4)]
    try:
        notifier = MemoryNotifier()
        logs = [EventLog(make_session_factory(engine), notifier) for engine in engines]

        async def writer(log: EventLog) -> list[int]:
            return [(await log.append(say(job, 'hello'))).seq for _ in range(100)]

        results = await asyncio.gather(*(writer(log) for log in logs))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(s for seqs in results for s in seqs) == list(range(1, 401))


async def test_an_append_waits_for_an_open_write_of_the_same_process(sqlite_session_factory) -> None:  # type: ignore[no-untyped-def]
    log = EventLog(sqlite_session_factory, MemoryNotifier())
    job = await make_job(sqlite_session_factory)
    async with sqlite_session_factory() as holder:
        holder.add(Tier(name='pro', label='Pro', token_allowance=1))
        await holder.flush()  # holds the write turn until it commits
        append = asyncio.create_task(log.append(say(job, 'after the holder')))
        await asyncio.sleep(0.1)
        assert not append.done()  # waiting its turn, not failing on a locked database
        await holder.commit()
    assert (await asyncio.wait_for(append, WAIT)).seq == 1


async def test_failed_and_cancelled_appends_leave_the_log_writable(sqlite_session_factory) -> None:  # type: ignore[no-untyped-def]
    log = EventLog(sqlite_session_factory, MemoryNotifier())
    job = await make_job(sqlite_session_factory)
    with pytest.raises(LookupError):
        await log.append(say(uuid.uuid4(), 'nobody'))
    for delay in (0, 0.0005, 0.001, 0.002):  # cancelled at different points of the append
        task = asyncio.create_task(log.append(say(job, 'cancelled')))
        await asyncio.sleep(delay)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    kept = await asyncio.wait_for(log.append(say(job, 'kept')), WAIT)
    assert [e.seq for e in await log.read(job)] == list(range(1, kept.seq + 1))  # no gap, nothing half-written
    engine = make_engine(str(engine_of(sqlite_session_factory).url))  # another process: no write left open
    try:
        other = EventLog(make_session_factory(engine), MemoryNotifier())
        assert (await asyncio.wait_for(other.append(say(job, 'another process')), WAIT)).seq == kept.seq + 1
    finally:
        await engine.dispose()


# ── follow ──


async def test_late_followers_each_receive_every_event_exactly_once_in_order(live_log: EventLog, session_factory):
    job = await make_job(session_factory)
    total = 300
    followers: list[asyncio.Task[list[BuildEvent]]] = []

    async def writer(name: str) -> None:
        for i in range(total // 3):
            await live_log.append(say(job, f'{name} {i}'))
            if name == 'a' and i % 25 == 0:  # followers join at different moments of the writing
                followers.append(asyncio.create_task(collect(live_log, job)))

    followers.append(asyncio.create_task(collect(live_log, job)))  # before the first event
    await asyncio.gather(writer('a'), writer('b'), writer('c'))
    await live_log.append(BuildDone(job_id=job, state='READY', version='v0.1'))
    followers.append(asyncio.create_task(collect(live_log, job)))  # after the build finished
    results = await asyncio.gather(*followers)
    assert len(results) == 6
    for events in results:
        assert [e.seq for e in events] == list(range(1, total + 2))
        assert events[-1].type == 'build.done'


async def test_follow_of_a_finished_build_replays_and_stops(live_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    await live_log.append_many([say(job, 'one'), say(job, 'two'), BuildDone(job_id=job, state='FAILED')])
    events = await collect(live_log, job)
    assert [e.type for e in events] == ['agent.narration', 'agent.narration', 'build.done']
    assert [e.seq for e in await collect(live_log, job, after_seq=2)] == [3]


async def test_follow_resumes_after_a_given_seq_and_goes_live(live_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    await live_log.append_many([say(job, str(i)) for i in range(5)])
    task = asyncio.create_task(collect(live_log, job, after_seq=3))
    await asyncio.sleep(0.05)
    await live_log.append(say(job, 'live'))
    await live_log.append(BuildDone(job_id=job, state='READY'))
    assert [e.seq for e in await task] == [4, 5, 6, 7]
    async with aclosing(live_log.follow(job, stop_when=lambda e: e.seq == 2)) as events:
        assert [e.seq async for e in events] == [1, 2]


async def test_follow_without_until_done_ends_when_closed(live_log: EventLog, session_factory, notifier) -> None:
    job = await make_job(session_factory)
    await live_log.append(BuildDone(job_id=job, state='READY'))
    await live_log.append(say(job, 'a late note'))  # after done: a plain follower still sees it
    seen = []
    async with aclosing(live_log.follow(job)) as events:
        async for event in events:
            seen.append(event.seq)
            if event.seq == 2:
                break
    assert seen == [1, 2]
    if hasattr(notifier, 'listener_count'):
        assert notifier.listener_count(f'build:{job}') == 0  # the subscription was released


async def test_follow_works_across_engines(db_url: str, session_factory, notifier) -> None:
    """A follower in one 'process' sees events written by another through the shared notifier."""
    job = await make_job(session_factory)
    engine = make_engine(db_url)
    try:
        writer = EventLog(make_session_factory(engine), notifier)
        follower = EventLog(session_factory, notifier)
        task = asyncio.create_task(collect(follower, job))
        for i in range(50):
            await writer.append(say(job, str(i)))
        await writer.append(BuildDone(job_id=job, state='READY'))
        assert [e.seq for e in await task] == list(range(1, 52))
    finally:
        await engine.dispose()


# ── follow: the events a wake-up carries ──


def reads_of_the_log(sessions: SessionFactory) -> list[str]:
    """The SELECTs on build_events made through `sessions`' engine from now on."""
    statements: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if 'FROM build_events' in statement:
            statements.append(statement)

    event.listen(engine_of(sessions).sync_engine, 'before_cursor_execute', note)
    return statements


async def next_event(events: AsyncIterator[BuildEvent]) -> BuildEvent:
    return await asyncio.wait_for(anext(events), WAIT)


async def test_a_live_follower_takes_the_events_its_wake_up_carried(live_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    call = ToolCalled(job_id=job, call_id='c1', tool='write_file', label='Wrote app/login.py', input={'é': [1, 'a b']})
    async with aclosing(live_log.follow(job)) as events:
        await live_log.append(say(job, 'first'))
        assert (await next_event(events)).seq == 1  # the replay read, then live
        reads = reads_of_the_log(session_factory)
        live = []
        for sent in [call, say(job, 'two words'), StageChanged(job_id=job, from_state='CODE', to_state='DEPS')]:
            await live_log.append(sent)
            live.append(await next_event(events))
        assert reads == []  # each follower would otherwise read every event back from the database
    assert live == (await live_log.read(job))[1:]  # exactly what a replay gives


async def test_events_too_big_to_carry_and_batches_are_followed_in_order(live_log: EventLog, session_factory) -> None:
    job = await make_job(session_factory)
    big = LogLines(job_id=job, lines=['x' * 1000] * (MAX_NOTE_CHARS // 1000 + 1))
    task = asyncio.create_task(collect(live_log, job))
    await asyncio.sleep(0.05)
    await live_log.append(say(job, 'small'))
    await live_log.append(big)  # announced without the event: the follower reads it
    await live_log.append_many([say(job, 'a'), say(job, 'b')])
    async with live_log.transaction() as session:
        await live_log.append_in(session, [say(job, 'c')])
        await live_log.append_in(session, [BuildDone(job_id=job, state='READY')])
    followed = await task
    assert [e.seq for e in followed] == [1, 2, 3, 4, 5, 6]
    assert followed == await live_log.read(job)


async def test_a_wake_up_that_carried_only_part_of_what_it_announced_is_read(live_log: EventLog, session_factory):
    job = await make_job(session_factory)
    async with aclosing(live_log.follow(job)) as events:
        await live_log.append(say(job, 'first'))
        assert (await next_event(events)).seq == 1
        await live_log.append(say(job, 'carried'))
        await live_log.append(LogLines(job_id=job, lines=['x' * 1000] * (MAX_NOTE_CHARS // 1000 + 1)))
        await asyncio.sleep(0.05)  # both wake-ups arrive before the follower waits again
        followed = [await asyncio.wait_for(anext(events), 5) for _ in range(2)]  # well before the resync
    assert [e.type for e in followed] == ['agent.narration', 'log.lines']


class ReorderingNotifier(MemoryNotifier):
    """Hand-written fake at the edge: wake-ups of two writers arrive swapped (each pair in reverse)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: tuple[str, int, str] | None = None

    async def publish(self, topic: str, seq: int, note: str = '') -> None:
        if self.held is None:
            self.held = (topic, seq, note)
            return
        held, self.held = self.held, None
        await super().publish(topic, seq, note)
        await super().publish(*held)


async def test_wake_ups_out_of_order_still_give_each_event_once_in_order(session_factory) -> None:
    log = EventLog(session_factory, ReorderingNotifier(), resync_timeout=5)
    job = await make_job(session_factory)
    task = asyncio.create_task(collect(log, job))
    await asyncio.sleep(0.05)
    for i in range(9):
        await log.append(say(job, str(i)))
        await asyncio.sleep(0.01)  # the follower wakes between publishes
    await log.append(BuildDone(job_id=job, state='READY'))
    assert [e.seq for e in await task] == list(range(1, 11))


async def test_a_follower_that_fell_behind_reads_what_its_wake_ups_dropped(live_log: EventLog, session_factory):
    job = await make_job(session_factory)
    async with aclosing(live_log.follow(job)) as events:
        await live_log.append(say(job, 'first'))
        assert (await next_event(events)).seq == 1
        for i in range(MAX_NOTES * 2):  # meanwhile the follower is busy elsewhere
            await live_log.append(say(job, str(i)))
        await asyncio.sleep(0.05)
        seqs = [(await next_event(events)).seq for _ in range(MAX_NOTES * 2)]
    assert seqs == list(range(2, MAX_NOTES * 2 + 2))


class DeafListener:
    """A listener whose wake-ups are all lost (a notifier outage)."""

    async def wait(self, timeout: float | None = None) -> int | None:  # noqa: ASYNC109
        await asyncio.sleep(timeout or 0)
        return None

    def notes(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None


class LosingNotifier:
    """Hand-written fake at the edge: every publish is lost."""

    async def publish(self, topic: str, seq: int, note: str = '') -> None:
        return None

    async def listen(self, topic: str) -> Listener:
        return DeafListener()

    async def close(self) -> None:
        return None


async def test_follow_recovers_when_notifications_are_lost(session_factory) -> None:
    log = EventLog(session_factory, LosingNotifier(), resync_timeout=0.02)
    job = await make_job(session_factory)
    task = asyncio.create_task(collect(log, job))
    for i in range(20):
        await log.append(say(job, str(i)))
    await log.append(BuildDone(job_id=job, state='READY'))
    assert [e.seq for e in await task] == list(range(1, 22))
