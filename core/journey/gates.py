"""Decision gates (J-5): Gate 1 'direction' and Gate 2 'solidification'.

One pending gate per type per project, held by the unique `pending_key` column
("<project_id>:<gate_type>" while pending, NULL once decided), so concurrent openers can never
create two. Model work happens before anything is written: if the model fails, the gate stays
pending (the reason typed is kept as a draft on the gate) and ModelUnavailable is raised.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, InvalidInput, ModelUnavailable, NotFound
from core.journey import brief, plans, timeline
from core.journey.brief import BriefMode
from core.journey.projects import PARKED, advance_stage, load_project, require_active_user
from core.journey.structured import BriefOutput, PlansOutput
from core.models import DecisionGate, Project, User, utcnow
from core.ports import LLM

DECISIONS: dict[str, tuple[str, ...]] = {
    'direction': ('proceed', 'narrow', 'pivot', 'park'),
    'solidification': ('iterate', 'ship', 'park'),
}
GATE_LABELS = {'direction': 'Gate 1 — direction', 'solidification': 'Gate 2 — solidification'}
ALREADY_DECIDED = 'This decision has already been made.'


def pending_key(project_id: uuid.UUID, gate_type: str) -> str:
    return f'{project_id}:{gate_type}'


async def pending_gate(session: AsyncSession, *, project_id: uuid.UUID, gate_type: str) -> DecisionGate | None:
    rows = await session.exec(
        select(DecisionGate).where(DecisionGate.pending_key == pending_key(project_id, gate_type))
    )
    return rows.first()


async def open_gate_in(session: AsyncSession, *, project: Project, gate_type: str) -> DecisionGate:
    """Open (or return) the pending gate inside the caller's transaction; not committed."""
    if gate_type not in DECISIONS:
        raise InvalidInput('Unknown decision gate.')
    existing = await pending_gate(session, project_id=project.id, gate_type=gate_type)
    if existing is not None:
        return existing
    gate = DecisionGate(
        project_id=project.id,
        gate_type=gate_type,
        pending_key=pending_key(project.id, gate_type),
        options=list(DECISIONS[gate_type]),
    )
    try:
        async with session.begin_nested():
            session.add(gate)
    except IntegrityError:  # a concurrent caller opened it first: theirs is the one
        existing = await pending_gate(session, project_id=project.id, gate_type=gate_type)
        if existing is None:
            raise
        return existing
    if gate_type == 'direction':
        advance_stage(project, 'gate1')
    timeline.record(session, project_id=project.id, kind='gate.opened', title=f'{GATE_LABELS[gate_type]} opened')
    return gate


async def open_gate(session: AsyncSession, *, project_id: uuid.UUID, gate_type: str) -> DecisionGate:
    """Open a gate of `gate_type` for the project, or return the one already pending (idempotent)."""
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound('That project')
    gate = await open_gate_in(session, project=project, gate_type=gate_type)
    await session.commit()
    return gate


async def list_gates(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> list[DecisionGate]:
    """The project's gates, oldest first (pending ones included)."""
    await load_project(session, user=user, project_id=project_id)
    rows = await session.exec(
        select(DecisionGate).where(DecisionGate.project_id == project_id).order_by(col(DecisionGate.created_at))
    )
    return list(rows.all())


async def get_pending(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, gate_type: str
) -> DecisionGate | None:
    """The pending gate of that type, if any."""
    await load_project(session, user=user, project_id=project_id)
    return await pending_gate(session, project_id=project_id, gate_type=gate_type)


async def _owned_gate(session: AsyncSession, user: User, gate_id: uuid.UUID) -> tuple[DecisionGate, Project]:
    gate = await session.get(DecisionGate, gate_id)
    project = await session.get(Project, gate.project_id) if gate else None
    if gate is None or project is None or project.owner_id != user.id:
        raise NotFound('That decision')
    return gate, project


def _check(gate: DecisionGate, project: Project, user: User, decision: str, reason: str) -> None:
    if gate.status != 'pending':
        raise Conflict(ALREADY_DECIDED)
    require_active_user(user)
    if project.parked:
        raise Conflict(PARKED)
    allowed = DECISIONS.get(gate.gate_type, ())
    if decision not in allowed:
        raise InvalidInput(f'Choose one of: {", ".join(allowed)}.')
    if decision != 'proceed' and not reason:
        raise InvalidInput(f'Tell us why you chose to {decision} — a sentence is enough.')


@dataclass
class _Prepared:
    brief: BriefOutput | None = None
    plans: PlansOutput | None = None


async def _prepare(session: AsyncSession, project: Project, decision: str, reason: str, llm: LLM | None) -> _Prepared:
    """The model work a decision needs, done before anything is written."""
    if decision in ('narrow', 'pivot'):
        if llm is None:
            raise ValueError(f'deciding {decision!r} needs an llm to regenerate the brief')
        return _Prepared(
            brief=await brief.produce_brief(session, project, llm, mode=cast(BriefMode, decision), guidance=reason)
        )
    if decision == 'proceed' and llm is not None and not await plans.existing(session, project.id):
        return _Prepared(plans=await plans.produce_plans(session, project, llm))
    return _Prepared()


async def _mark_decided(session: AsyncSession, gate: DecisionGate, decision: str, reason: str) -> None:
    """Conditional update: of two concurrent deciders exactly one wins, the other gets Conflict."""
    result = await session.exec(
        update(DecisionGate)
        .where(col(DecisionGate.id) == gate.id, col(DecisionGate.status) == 'pending')
        .values(status='decided', decision=decision, reason=reason, decided_at=utcnow(), pending_key=None)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise Conflict(ALREADY_DECIDED)


async def _apply(
    session: AsyncSession, project: Project, gate: DecisionGate, decision: str, reason: str, ready: _Prepared
) -> None:
    if decision == 'proceed' and gate.gate_type == 'direction':
        advance_stage(project, 'plan')
        if ready.plans is not None:
            await plans.save_plans(session, project, ready.plans)
    elif ready.brief is not None and decision in ('narrow', 'pivot'):
        await brief.save_brief(session, project, ready.brief, mode=cast(BriefMode, decision), guidance=reason)
        await open_gate_in(session, project=project, gate_type='direction')
    elif decision == 'park':
        project.parked = True
        timeline.record(session, project_id=project.id, kind='project.parked', title='Project parked', detail=reason)
    project.updated_at = utcnow()


async def decide_gate(
    session: AsyncSession, *, user: User, gate_id: uuid.UUID, decision: str, reason: str = '', llm: LLM | None = None
) -> DecisionGate:
    """Record the founder's decision and apply it.

    direction: proceed → stage 'plan' (and plans are generated when `llm` is given);
    narrow / pivot → a new brief version written with the reason as guidance, Gate 1 re-opened;
    park → the project is parked. solidification: iterate / ship / park are recorded.
    A reason is required for everything but proceed. An already-decided gate → Conflict.
    """
    gate, project = await _owned_gate(session, user, gate_id)
    decision, reason = (decision or '').strip().lower(), (reason or '').strip()
    _check(gate, project, user, decision, reason)
    try:
        ready = await _prepare(session, project, decision, reason, llm)
    except ModelUnavailable:
        gate.reason = reason  # keep what the founder typed on the still-pending gate
        await session.commit()
        raise
    await _mark_decided(session, gate, decision, reason)
    await _apply(session, project, gate, decision, reason, ready)
    title = f'{GATE_LABELS.get(gate.gate_type, gate.gate_type)}: {decision}'
    timeline.record(session, project_id=project.id, kind='gate.decided', title=title, detail=reason)
    await session.commit()
    await session.refresh(gate)
    return gate
