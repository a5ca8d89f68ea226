"""The journey's sequence (J-4 → J-6): a brief opens Gate 1; the decision there leads to plans, a new brief or
a parked project; unparking at the direction stage opens Gate 1 again.

The steps live in `brief`, `fast_path`, `gates`, `gate2` and `plans`; this module is the one place that strings them
together, so imports among the journey modules go one way only: flow → gate2 → gates, fast_path → plans → brief →
interview → projects → timeline (gates → projects too), and nothing imports flow but the app layers. On the fast
path (`fast_path`) a narrowed or pivoted brief is assumed again, and proceeding chooses the Fast MVP plan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import ModelUnavailable
from core.journey import brief, fast_path, gate2, gates, plans, timeline
from core.journey.brief import BriefMode
from core.journey.projects import advance_stage, load_project, require_active_user, stage_index
from core.journey.structured import BriefOutput
from core.models import Artifact, DecisionGate, Project, User, utcnow
from core.ports import LLM


async def generate_brief(
    session: AsyncSession,
    *,
    user: User,
    project_id: uuid.UUID,
    llm: LLM,
    guidance: str = '',
    mode: BriefMode = 'generate',
) -> tuple[Artifact, Artifact]:
    """Generate a new version of the Idea Brief and MVP scope, then open Gate 1 (direction).

    The interview must be complete. On model failure nothing is saved (ModelUnavailable).
    """
    project = await load_project(session, user=user, project_id=project_id, active=True)
    output = await brief.produce_brief(session, project, llm, mode=mode, guidance=guidance)
    brief_row, scope_row = await brief.save_brief(session, project, output, mode=mode, guidance=guidance)
    advance_stage(project, 'brief')
    if stage_index(project.stage) <= stage_index('gate1'):
        await gates.open_gate_in(session, project=project, gate_type='direction')
    await session.commit()
    return brief_row, scope_row


async def decide_gate(
    session: AsyncSession, *, user: User, gate_id: uuid.UUID, decision: str, reason: str = '', llm: LLM | None = None
) -> DecisionGate:
    """Record the founder's decision and apply it.

    direction: proceed → stage 'plan' (and plans are generated when `llm` is given);
    narrow / pivot → a new brief version written with the reason as guidance, Gate 1 re-opened;
    park → the project is parked. solidification (Gate 2): `core.journey.gate2.decide_gate2`.
    A reason is required for everything but proceed (and iterate). An already-decided gate → Conflict.
    """
    gate, project = await gates.owned_gate(session, user, gate_id)
    if gate.gate_type == gate2.GATE_TYPE:
        return await gate2.decide_gate2(session, user=user, gate_id=gate_id, decision=decision, reason=reason)
    decision, reason = (decision or '').strip().lower(), (reason or '').strip()
    gates.check_decision(gate, project, user, decision, reason)
    try:
        ready = await _prepare(session, project, decision, reason, llm)
    except ModelUnavailable:
        gate.reason = reason  # keep what the founder typed on the still-pending gate
        await session.commit()
        raise
    await gates.mark_decided(session, gate, decision, reason)
    await _apply(session, project, gate, decision, reason, ready)
    title = f'{gates.GATE_LABELS.get(gate.gate_type, gate.gate_type)}: {decision}'
    timeline.record(session, project_id=project.id, kind='gate.decided', title=title, detail=reason)
    await session.commit()
    await session.refresh(gate)
    return gate


@dataclass
class _Prepared:
    brief: BriefOutput | None = None
    plans: list[dict[str, Any]] | None = None


async def _prepare(session: AsyncSession, project: Project, decision: str, reason: str, llm: LLM | None) -> _Prepared:
    """The model work a decision needs, done before anything is written."""
    if decision in ('narrow', 'pivot'):
        if llm is None:
            raise ValueError(f'deciding {decision!r} needs an llm to regenerate the brief')
        mode = cast(BriefMode, decision)
        if await fast_path.taken(session, project.id):  # no interview to write from: assume again
            return _Prepared(brief=await fast_path.produce(session, project, llm, mode=mode, guidance=reason))
        return _Prepared(brief=await brief.produce_brief(session, project, llm, mode=mode, guidance=reason))
    if decision == 'proceed' and llm is not None and not await plans.existing(session, project.id):
        return _Prepared(plans=await plans.produce_plans(session, project, llm))
    return _Prepared()


async def _apply(
    session: AsyncSession, project: Project, gate: DecisionGate, decision: str, reason: str, ready: _Prepared
) -> None:
    if decision == 'proceed' and gate.gate_type == 'direction':
        advance_stage(project, 'plan')
        if ready.plans is not None:
            options = await plans.save_plans(session, project, ready.plans)
            await fast_path.preselect(session, project, options)
    elif ready.brief is not None and decision in ('narrow', 'pivot'):
        if await fast_path.taken(session, project.id):
            await fast_path.save(session, project, ready.brief, mode=cast(BriefMode, decision), guidance=reason)
        else:
            await brief.save_brief(session, project, ready.brief, mode=cast(BriefMode, decision), guidance=reason)
        await gates.open_gate_in(session, project=project, gate_type='direction')
    elif decision == 'park':
        project.parked = True
        timeline.record(session, project_id=project.id, kind='project.parked', title='Project parked', detail=reason)
    project.updated_at = utcnow()


async def unpark(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> Project:
    """Resume a parked project; at the direction stage Gate 1 is opened again."""
    project = await load_project(session, user=user, project_id=project_id)
    require_active_user(user)
    if project.parked:
        project.parked = False
        project.updated_at = utcnow()
        timeline.record(session, project_id=project.id, kind='project.unparked', title='Project unparked')
        await session.commit()
        at_direction = project.stage in ('brief', 'gate1')
        if at_direction and await brief.latest(session, project_id=project.id, kind='idea_brief') is not None:
            await gates.open_gate(session, project_id=project.id, gate_type='direction')
    return project
