"""Failures counted per signature (AG-7) and the founder asked when the agent is stuck (AG-8).

Counts live in `error_signatures` (per project, so they survive sleep, wake and restarts). An escalation
is a row, a NEEDS_INPUT hold and an `Escalated` event; the founder's answer is stored, added to the
agent's conversation (its checkpoint) and the build goes back to the queue, holding no worker slot while
it waits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.agent import checkpoint
from core.agent.healing import MAX_ATTEMPTS, PLAIN_PROBLEMS
from core.builds.holds import HoldContext
from core.builds.jobs import get_build
from core.builds.snapshots import save_snapshot
from core.builds.states import BuildState, transition
from core.db import SessionFactory, transaction, upsert_insert
from core.errors import Conflict, InvalidInput
from core.event_log import EventLog
from core.events import Escalated, Resumed
from core.journey import timeline
from core.journey.projects import require_active_user
from core.models import BuildJob, ErrorSignature, Escalation, User, utcnow
from core.ports import JobQueue

TRY_ANOTHER = 'Try another approach'
SIMPLIFY = 'Simplify this part'
SKIP = 'Skip this part for this version'
KEEP_GOING = 'Keep going'
STOP = 'Stop here'
FREE_TEXT_LIMIT = 2000

# What the agent reads when the founder picks an option.
INSTRUCTIONS = {
    TRY_ANOTHER: 'The founder asks you to try a different approach from the ones that failed.',
    SIMPLIFY: 'The founder asks you to build a simpler version of this part that needs nothing that failed.',
    SKIP: 'The founder decided to leave this part out of this version: skip the failing step, mention it in the '
    'documentation as planned for later, and finish the rest of the app.',
    KEEP_GOING: 'The founder asks you to keep going: finish the remaining work with fewer, simpler steps.',
}


@dataclass(frozen=True)
class Failure:
    signature: str
    kind: str
    attempts: int  # how often this signature has been seen in the project, this time included
    tried: list[str]  # the approaches that met it, oldest first


async def record_failure(
    sessions: SessionFactory, *, project_id: uuid.UUID, job_id: uuid.UUID, sig: str, error: str, approach: str
) -> Failure:
    """Count one occurrence of a signature (atomically) and remember the approach that met it."""
    async with transaction(sessions) as session:
        attempts = await _count(session, project_id, sig)
        row = (await session.exec(select(ErrorSignature).where(
            ErrorSignature.project_id == project_id, ErrorSignature.signature == sig))).one()  # fmt: skip
        row.job_id, row.last_error, row.last_seen = job_id, error[-2000:], utcnow()
        row.approaches = [*row.approaches, approach][-10:]
        tried = list(row.approaches[-attempts:]) if attempts else []
    return Failure(sig, sig.split(':', 1)[0], attempts, tried)


async def _count(session: AsyncSession, project_id: uuid.UUID, sig: str) -> int:
    table = ErrorSignature.__table__  # type: ignore[attr-defined]
    insert = upsert_insert(session, table)
    stmt = insert.values(project_id=project_id, signature=sig, attempts=1, last_error='', approaches=[],
                         first_seen=utcnow(), last_seen=utcnow())  # fmt: skip
    upsert = stmt.on_conflict_do_update(
        index_elements=['project_id', 'signature'], set_={'attempts': table.c.attempts + 1}
    ).returning(table.c.attempts)
    return int((await session.execute(upsert)).scalar_one())


async def founder_skipped(sessions: SessionFactory, job_id: uuid.UUID, kind: str) -> bool:
    """Whether the founder chose to leave a failing part of this kind out of this build's version."""
    async with sessions() as session:
        rows = await session.exec(
            select(Escalation).where(Escalation.job_id == job_id, col(Escalation.signature).startswith(f'{kind}:'))
        )
        return any(row.decision == SKIP for row in rows.all())


def options_for(kind: str) -> tuple[list[str], str]:
    """(the options offered, the one recommended) for a kind of failure."""
    if kind in {'cap', 'repeat', 'incomplete'}:
        return [KEEP_GOING, SIMPLIFY, STOP], KEEP_GOING
    if kind == 'network':
        return [SKIP, SIMPLIFY, STOP], SKIP
    return [TRY_ANOTHER, SIMPLIFY, SKIP, STOP], SIMPLIFY


async def escalate(ctx: HoldContext, *, failure: Failure, phase: str | None) -> BuildJob:
    """Enter NEEDS_INPUT: snapshot the files, stop the processes, ask the founder in plain words."""
    options, recommended = options_for(failure.kind)
    problem = PLAIN_PROBLEMS.get(failure.kind, PLAIN_PROBLEMS['tool'])
    if phase:
        problem = f'While working on “{phase}”: {problem[:1].lower()}{problem[1:]}'
    if ctx.sandbox is not None:
        await save_snapshot(sandbox=ctx.sandbox, blobs=ctx.blobs, sessions=ctx.sessions,
                            project_id=ctx.job.project_id, owner_id=ctx.job.user_id, job_id=ctx.job.id,
                            reason='escalation')  # fmt: skip
        await ctx.sandbox.kill_processes()
    tried = [f'Attempt {n}: {approach}' for n, approach in enumerate(failure.tried[-MAX_ATTEMPTS:], 1)]
    row = Escalation(job_id=ctx.job.id, signature=failure.signature, problem=problem, tried=tried,
                     recommendation=recommended, options=options)  # fmt: skip
    async with transaction(ctx.sessions) as session:
        session.add(row)
    job = await transition(ctx.events, ctx.job.id, BuildState.NEEDS_INPUT, reason='I need your decision to go on.')
    await ctx.events.append(Escalated(job_id=job.id, escalation_id=row.id, problem=problem, tried=tried,
                                      recommendation=recommended, options=options))  # fmt: skip
    async with transaction(ctx.sessions) as session:
        timeline.record(session, project_id=job.project_id, kind='build.needs_input', title='The agent needs you',
                        detail=problem, job_id=job.id)  # fmt: skip
    return job


async def open_escalation(session: AsyncSession, job_id: uuid.UUID) -> Escalation | None:
    query = select(Escalation).where(Escalation.job_id == job_id, Escalation.status == 'open')
    return (await session.exec(query.order_by(col(Escalation.created_at).desc()))).first()


async def answer_escalation(
    session: AsyncSession,
    *,
    user: User,
    job_id: uuid.UUID | str,
    choice: str,
    queue: JobQueue,
    events: EventLog,
    sessions: SessionFactory,
) -> BuildJob:
    """The founder's decision: stored, given to the agent, and the build queued again (or stopped)."""
    require_active_user(user)
    job = await get_build(session, user=user, job_id=job_id)
    escalation = await open_escalation(session, job.id)
    if job.state != BuildState.NEEDS_INPUT or escalation is None:
        raise Conflict('This build is not waiting for a decision.')
    decision = choice.strip()
    if not decision or len(decision) > FREE_TEXT_LIMIT:
        raise InvalidInput(f'Pick an option or write a short answer (at most {FREE_TEXT_LIMIT} characters).')
    escalation.status, escalation.decision, escalation.resolved_at = 'resolved', decision, utcnow()
    await _reset_attempts(session, job.project_id, escalation.signature)
    await session.commit()
    await events.append(Resumed(job_id=job.id, decision=decision))
    if decision == STOP:
        return await transition(events, job.id, BuildState.CANCELLED, reason='Stopped at your request.')
    await _tell_the_agent(sessions, job.id, decision)
    queued = await transition(events, job.id, BuildState.QUEUED, reason='Back to work with your decision.')
    await queue.enqueue(queued.id)
    return queued


async def _reset_attempts(session: AsyncSession, project_id: uuid.UUID, sig: str) -> None:
    """The founder's decision opens a fresh round of attempts on that failure."""
    row = (await session.exec(select(ErrorSignature).where(
        ErrorSignature.project_id == project_id, ErrorSignature.signature == sig))).first()  # fmt: skip
    if row is not None:
        row.attempts = 0


async def _tell_the_agent(sessions: SessionFactory, job_id: uuid.UUID, decision: str) -> None:
    """Add the decision to the conversation; a cap or repetition stop gets a fresh allowance of steps."""
    note = INSTRUCTIONS.get(decision, f'The founder answered in their own words: “{decision}”. Follow it.')
    await send_back_to_agent(sessions, job_id, f'[Decision from the founder: {decision}] {note}', fresh_steps=True)


async def send_back_to_agent(
    sessions: SessionFactory, job_id: uuid.UUID, text: str, *, fresh_steps: bool = False
) -> None:
    """Add `text` to the agent's conversation as the founder's (or the platform's) next words."""
    state = await checkpoint.load(sessions, job_id) or checkpoint.CheckpointState()
    last = state.messages[-1] if state.messages else None
    if last is not None and last['role'] == 'user':
        blocks = last['content'] if isinstance(last['content'], list) else [{'type': 'text', 'text': last['content']}]
        last['content'] = [*blocks, {'type': 'text', 'text': text}]
    else:
        state.messages.append({'role': 'user', 'content': text})
    if fresh_steps:
        state.tool_calls, state.recent_calls = 0, []
    await checkpoint.save(sessions, job_id, state)


async def bump_provider_waits(sessions: SessionFactory, job_id: uuid.UUID) -> int:
    """How many times in a row this build waited for a model provider that stayed down (this time included)."""
    state = await checkpoint.load(sessions, job_id) or checkpoint.CheckpointState()
    state.retry_counters['provider_waits'] = state.retry_counters.get('provider_waits', 0) + 1
    await checkpoint.save(sessions, job_id, state)
    return state.retry_counters['provider_waits']
