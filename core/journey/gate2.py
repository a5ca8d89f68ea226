"""Gate 2 — solidification (IT-1): once the founder has looked at a READY build's preview, iterate / ship / park.

One Gate 2 per version: viewing the current version opens it (or returns the one pending); a gate decided
since that version was ready is its answer, so looking again opens nothing new. Older versions never offer
it. Deciding is the same one-time, reasoned decision as Gate 1 (`core.journey.gates`), except that iterate
needs no reason: iterate → stage 'iterating' (the founder then asks for a change, `change_requests`),
ship → stage 'shipped' with a 'project.shipped' timeline event, park → the project is parked.
"""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotFound
from core.journey import gates, timeline
from core.journey.projects import advance_stage
from core.models import BuildJob, DecisionGate, Project, User, utcnow

GATE_TYPE = 'solidification'


async def current_version(session: AsyncSession, project_id: uuid.UUID) -> BuildJob | None:
    """The project's newest READY build (its current version), or None."""
    query = select(BuildJob).where(BuildJob.project_id == project_id, BuildJob.state == 'READY')
    return (await session.exec(query.order_by(col(BuildJob.version_number).desc()).limit(1))).first()


async def offer_gate2(session: AsyncSession, *, user: User, job: BuildJob) -> DecisionGate | None:
    """Open Gate 2 when the owner views the preview of the current version (idempotent); the pending gate.

    None when it is not offered: not the owner's build, not READY, not the current version, a parked project
    or a suspended founder, or this version's gate already decided.
    """
    if job.user_id != user.id or job.state != 'READY' or user.suspended:
        return None
    project = await session.get(Project, job.project_id)
    if project is None or project.owner_id != user.id or project.parked:
        return None
    pending = await gates.pending_gate(session, project_id=project.id, gate_type=GATE_TYPE)
    if pending is not None:
        return pending
    current = await current_version(session, project.id)
    if current is None or current.id != job.id:
        return None
    since = job.finished_at or job.updated_at
    answered = select(DecisionGate.id).where(
        DecisionGate.project_id == project.id,
        DecisionGate.gate_type == GATE_TYPE,
        col(DecisionGate.created_at) >= since,
    )
    if (await session.exec(answered.limit(1))).first() is not None:
        return None
    gate = await gates.open_gate_in(session, project=project, gate_type=GATE_TYPE)
    await session.commit()
    return gate


async def pending_gate2(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> DecisionGate | None:
    """The project's pending Gate 2 (NotFound for another founder's project)."""
    return await gates.get_pending(session, user=user, project_id=project_id, gate_type=GATE_TYPE)


async def decide_gate2(
    session: AsyncSession, *, user: User, gate_id: uuid.UUID, decision: str, reason: str = ''
) -> DecisionGate:
    """Record the founder's Gate 2 decision once and apply it (a second decision → Conflict)."""
    gate, project = await gates.owned_gate(session, user, gate_id)
    if gate.gate_type != GATE_TYPE:
        raise NotFound('That decision')
    decision, reason = (decision or '').strip().lower(), (reason or '').strip()
    gates.check_decision(gate, project, user, decision, reason)
    await gates.mark_decided(session, gate, decision, reason)
    version = await current_version(session, project.id)
    label = version.version_label if version is not None else None
    if decision == 'iterate':
        advance_stage(project, 'iterating')
    elif decision == 'ship':
        advance_stage(project, 'shipped')
        title = f'Shipped {label}' if label else 'Shipped'
        timeline.record(session, project_id=project.id, kind='project.shipped', title=title, detail=reason,
                        job_id=version.id if version else None)  # fmt: skip
    elif decision == 'park':
        project.parked = True
        timeline.record(session, project_id=project.id, kind='project.parked', title='Project parked', detail=reason)
    project.updated_at = utcnow()
    title = f'{gates.GATE_LABELS[GATE_TYPE]}: {decision}' + (f' ({label})' if label else '')
    timeline.record(session, project_id=project.id, kind='gate.decided', title=title, detail=reason)
    await session.commit()
    await session.refresh(gate)
    return gate
