"""Build jobs and their states (B-1): a transition table, and one function that applies it.

Every transition is persisted and becomes a `build.stage.changed` event in the same
transaction; entering a terminal state also appends `build.done`, so every finished build's
log ends with exactly one `build.done` (followers stop on it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, Table, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from core import metrics
from core.event_log import EventLog
from core.events import BuildDone, BuildEvent, StageChanged
from core.models import BuildJob, utcnow


class BuildState(StrEnum):
    QUEUED = 'QUEUED'
    STARTING = 'STARTING'
    SCAFFOLD = 'SCAFFOLD'
    CODE = 'CODE'
    DEPS = 'DEPS'
    CHECKS = 'CHECKS'
    READY = 'READY'
    FAILED = 'FAILED'
    CANCELLED = 'CANCELLED'
    SLEEPING = 'SLEEPING'
    NEEDS_INPUT = 'NEEDS_INPUT'
    BUDGET_EXCEEDED = 'BUDGET_EXCEEDED'


S = BuildState
RUNNING: frozenset[BuildState] = frozenset({S.STARTING, S.SCAFFOLD, S.CODE, S.DEPS, S.CHECKS})
HOLDS: frozenset[BuildState] = frozenset({S.SLEEPING, S.NEEDS_INPUT})  # paused; resumed by re-queueing
TERMINAL: frozenset[BuildState] = frozenset({S.READY, S.FAILED, S.CANCELLED, S.BUDGET_EXCEEDED})
ACTIVE: frozenset[BuildState] = frozenset({S.QUEUED}) | RUNNING | HOLDS  # counts against capacity

# Any running stage may stop (fail, be cancelled, run out of budget), pause (sleep, ask the
# founder) or go back to the queue (a re-delivered or recovered job whose worker died).
_FROM_RUNNING = {S.FAILED, S.CANCELLED, S.SLEEPING, S.NEEDS_INPUT, S.BUDGET_EXCEEDED, S.QUEUED}

ALLOWED: dict[BuildState, frozenset[BuildState]] = {
    S.QUEUED: frozenset({S.STARTING, S.CANCELLED, S.FAILED, S.BUDGET_EXCEEDED}),
    # A resumed job (woken, answered, re-delivered) restarts at the stage its checkpoint is in.
    S.STARTING: frozenset({S.SCAFFOLD, S.CODE, S.DEPS, S.CHECKS} | _FROM_RUNNING),
    S.SCAFFOLD: frozenset({S.CODE, S.DEPS} | _FROM_RUNNING),  # DEPS: a restored version is installed as it is
    S.CODE: frozenset({S.DEPS} | _FROM_RUNNING),
    S.DEPS: frozenset({S.CHECKS, S.CODE} | _FROM_RUNNING),  # CODE: the install failed, fix the manifest
    S.CHECKS: frozenset({S.READY, S.CODE} | _FROM_RUNNING),  # CODE: the fix loop
    # Waking or answering re-queues the job; a hold can also be cancelled or given up on.
    S.SLEEPING: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    S.NEEDS_INPUT: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    S.READY: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.BUDGET_EXCEEDED: frozenset(),
}

STAGE_LABELS: dict[BuildState, str] = {
    S.QUEUED: 'Queued',
    S.STARTING: 'Starting',
    S.SCAFFOLD: 'Scaffolding',
    S.CODE: 'Writing code',
    S.DEPS: 'Installing',
    S.CHECKS: 'Checking',
    S.READY: 'Ready',
    S.FAILED: 'Failed',
    S.CANCELLED: 'Cancelled',
    S.SLEEPING: 'Resting',
    S.NEEDS_INPUT: 'Needs your input',
    S.BUDGET_EXCEEDED: 'Budget exceeded',
}

ENTERED_AT = '_entered_at'  # stage_timings slot: epoch seconds when the current state began
_PROTECTED = {'id', 'state', 'last_seq', 'stage_timings', 'project_id', 'user_id'}


class IllegalTransition(Exception):
    """The state machine does not allow this move."""

    def __init__(self, from_state: str, to_state: str) -> None:
        super().__init__(f'a build cannot go from {from_state} to {to_state}')
        self.from_state = from_state
        self.to_state = to_state


def can_transition(from_state: str, to_state: str) -> bool:
    """Whether the table allows the move (unknown states allow nothing)."""
    try:
        return BuildState(to_state) in ALLOWED[BuildState(from_state)]
    except ValueError:
        return False


def check_transition(from_state: str, to_state: str) -> None:
    """Raise IllegalTransition unless the table allows the move."""
    if not can_transition(from_state, to_state):
        raise IllegalTransition(from_state, to_state)


def stage_durations(job: BuildJob) -> dict[str, float]:
    """Seconds spent in each finished stage (the bookkeeping slot left out)."""
    return {k: v for k, v in (job.stage_timings or {}).items() if not k.startswith('_')}


def stage_label(state: str) -> str:
    """The founder's name for a state ('Writing code'); unknown states show as they are."""
    try:
        return STAGE_LABELS[BuildState(state)]
    except ValueError:
        return state


async def transition(log: EventLog, job_id: UUID, to: BuildState | str, *, reason: str = '', **fields: Any) -> BuildJob:
    """Move a job to `to` in one transaction: lock, validate, update, append events; then notify.

    `fields` are other BuildJob columns to set in the same write (e.g. error_summary,
    version_label, wake_at). Raises IllegalTransition (nothing changes) or LookupError.
    """
    target = BuildState(to)
    bad = _PROTECTED.intersection(fields) | {k for k in fields if k not in BuildJob.model_fields}
    if bad:
        raise TypeError(f'transition cannot set {sorted(bad)}')
    async with log.transaction() as session:
        job = await _lock(session, job_id)
        source = job.state
        check_transition(source, target)
        spent_before = (job.stage_timings or {}).get(source, 0.0)
        _apply(job, target, fields)
        events = await log.append_in(session, _events_for(job, source, target, reason))
        set_committed_value(job, 'last_seq', events[-1].seq)  # already written by append_in
        spent, started_at, at = job.stage_timings[source] - spent_before, job.started_at, job.updated_at
    ended = target.value if target in TERMINAL else None
    metrics.observe_transition(source, spent, ended=ended, started_at=started_at, at=at)  # /metrics (OPS-8)
    return job


async def _lock(session: AsyncSession, job_id: UUID) -> BuildJob:
    """Lock the job row before reading it.

    A no-op UPDATE is the portable lock: the row lock on Postgres (what FOR UPDATE would take)
    and the write lock on SQLite, which has no FOR UPDATE and whose read-then-write
    transactions would otherwise lose updates or fail with SQLITE_BUSY under concurrent writers.
    """
    table = cast(Table, BuildJob.__table__)  # type: ignore[attr-defined]
    result = await session.execute(update(table).where(table.c.id == job_id).values(last_seq=table.c.last_seq))
    if cast(CursorResult[Any], result).rowcount == 0:
        raise LookupError(f'no build job {job_id}')
    job = await session.get(BuildJob, job_id, populate_existing=True, with_for_update=True)
    assert job is not None
    return job


def _apply(job: BuildJob, target: BuildState, fields: dict[str, Any]) -> None:
    now = utcnow()
    timings = dict(job.stage_timings or {})
    entered = timings.get(ENTERED_AT)
    started = datetime.fromtimestamp(entered, UTC) if entered is not None else job.queued_at
    timings[job.state] = round(timings.get(job.state, 0.0) + max((now - started).total_seconds(), 0.0), 3)
    timings[ENTERED_AT] = now.timestamp()
    job.stage_timings = timings  # a new dict, so the JSON column is seen as changed
    job.state = target.value
    job.updated_at = now
    if target == BuildState.STARTING and job.started_at is None:
        job.started_at = now
    if target in TERMINAL:
        job.finished_at = now
    for name, value in fields.items():
        setattr(job, name, value)


def _events_for(job: BuildJob, source: str, target: BuildState, reason: str) -> list[BuildEvent]:
    events: list[BuildEvent] = [StageChanged(job_id=job.id, from_state=source, to_state=target.value, reason=reason)]
    if target in TERMINAL:
        summary = reason or job.error_summary
        events.append(BuildDone(job_id=job.id, state=target.value, version=job.version_label, summary=summary))
    return events
