"""Decision gates (J-5): Gate 1 'direction' and Gate 2 'solidification'.

One pending gate per type per project, held by the unique `pending_key` column
("<project_id>:<gate_type>" while pending, NULL once decided), so concurrent openers can never
create two. Model work happens before anything is written: if the model fails, the gate stays
pending (the reason typed is kept as a draft on the gate) and ModelUnavailable is raised.

This module is the gates themselves; what a decision sets off (a new brief, plans) is sequenced in
`core.journey.flow`, so gates need neither brief nor plans.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from core.journey import timeline
from core.journey.projects import PARKED, advance_stage, load_project, require_active_user
from core.models import DecisionGate, Project, User, utcnow

DECISIONS: dict[str, tuple[str, ...]] = {
    'direction': ('proceed', 'narrow', 'pivot', 'park'),
    'solidification': ('iterate', 'ship', 'park'),
}
GATE_LABELS = {'direction': 'Gate 1 — direction', 'solidification': 'Gate 2 — solidification'}
ALREADY_DECIDED = 'This decision has already been made.'
NO_REASON_NEEDED = ('proceed', 'iterate')  # going on as planned needs no explanation; anything else does


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


async def owned_gate(session: AsyncSession, user: User, gate_id: uuid.UUID) -> tuple[DecisionGate, Project]:
    """The gate and its project, or NotFound when either is missing or not the user's."""
    gate = await session.get(DecisionGate, gate_id)
    project = await session.get(Project, gate.project_id) if gate else None
    if gate is None or project is None or project.owner_id != user.id:
        raise NotFound('That decision')
    return gate, project


def check_decision(gate: DecisionGate, project: Project, user: User, decision: str, reason: str) -> None:
    """Refuse a decision that cannot be taken (decided gate, parked project, unknown choice, no reason)."""
    if gate.status != 'pending':
        raise Conflict(ALREADY_DECIDED)
    require_active_user(user)
    if project.parked:
        raise Conflict(PARKED)
    allowed = DECISIONS.get(gate.gate_type, ())
    if decision not in allowed:
        raise InvalidInput(f'Choose one of: {", ".join(allowed)}.')
    if decision not in NO_REASON_NEEDED and not reason:
        raise InvalidInput(f'Tell us why you chose to {decision} — a sentence is enough.')


async def mark_decided(session: AsyncSession, gate: DecisionGate, decision: str, reason: str) -> None:
    """Conditional update: of two concurrent deciders exactly one wins, the other gets Conflict."""
    result = await session.exec(
        update(DecisionGate)
        .where(col(DecisionGate.id) == gate.id, col(DecisionGate.status) == 'pending')
        .values(status='decided', decision=decision, reason=reason, decided_at=utcnow(), pending_key=None)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise Conflict(ALREADY_DECIDED)
