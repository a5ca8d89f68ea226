"""Execution plans (J-6): 2-3 options (fast MVP, balanced, robust); the founder selects one."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, NotFound
from core.journey import interview, structured, timeline
from core.journey.brief import latest
from core.journey.projects import advance_stage, load_project, stage_index
from core.models import PlanOption, Project, User, utcnow
from core.ports import LLM

ORDER = {'fast': 0, 'balanced': 1, 'robust': 2}
DIRECTION_FIRST = 'Decide the direction first (Gate 1), then pick a plan.'
BUILD_STARTED = 'A build has already started from the selected plan.'


async def existing(session: AsyncSession, project_id: uuid.UUID) -> list[PlanOption]:
    """The project's plan options, fast → balanced → robust."""
    rows = await session.exec(select(PlanOption).where(PlanOption.project_id == project_id))
    return sorted(rows.all(), key=lambda p: (ORDER.get(p.key, 9), p.created_at))


async def produce_plans(session: AsyncSession, project: Project, llm: LLM) -> structured.PlansOutput:
    """Ask the model for plans built on the latest brief and scope; nothing is written."""
    brief_row = await latest(session, project_id=project.id, kind='idea_brief')
    scope_row = await latest(session, project_id=project.id, kind='mvp_scope')
    payload = {
        'title': project.title,
        'idea': project.idea,
        'answers': await interview.answers(session, project_id=project.id),
        'brief': brief_row.content if brief_row else None,
        'scope': scope_row.content if scope_row else None,
    }
    return await structured.propose_plans(llm, payload)


async def save_plans(session: AsyncSession, project: Project, output: structured.PlansOutput) -> list[PlanOption]:
    """Store the proposed options (not committed)."""
    rows = []
    for plan in output.plans:
        details = plan.model_dump(include={'time', 'cost', 'risk', 'stack', 'tradeoffs', 'phases'})
        rows.append(
            PlanOption(project_id=project.id, key=plan.key, title=plan.title, summary=plan.summary, details=details)
        )
    session.add_all(rows)
    await session.flush()
    return sorted(rows, key=lambda p: ORDER.get(p.key, 9))


async def generate_plans(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, llm: LLM, regenerate: bool = False
) -> list[PlanOption]:
    """The plan options of the project, generated once (again only with `regenerate=True`)."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    if stage_index(project.stage) < stage_index('plan'):
        raise Conflict(DIRECTION_FIRST)
    current = await existing(session, project.id)
    if current and not regenerate:
        return current
    if current and stage_index(project.stage) > stage_index('plan'):
        raise Conflict(BUILD_STARTED)
    output = await produce_plans(session, project, llm)
    if regenerate:
        await session.exec(delete(PlanOption).where(col(PlanOption.project_id) == project.id))
        project.selected_plan_id = None
    elif current := await existing(session, project.id):  # a concurrent call finished first
        return current
    rows = await save_plans(session, project, output)
    project.updated_at = utcnow()
    await session.commit()
    return rows


async def list_plans(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> list[PlanOption]:
    """The project's plan options (empty before Gate 1 is passed)."""
    await load_project(session, user=user, project_id=project_id)
    return await existing(session, project_id)


async def select_plan(session: AsyncSession, *, user: User, project_id: uuid.UUID, plan_id: uuid.UUID) -> PlanOption:
    """Choose the plan to build; the project is then ready for "Build"."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    options = await existing(session, project.id)
    chosen = next((p for p in options if p.id == plan_id), None)
    if chosen is None:
        raise NotFound('That plan')
    if stage_index(project.stage) > stage_index('plan') and project.selected_plan_id != plan_id:
        raise Conflict(BUILD_STARTED)
    for option in options:
        option.selected = option.id == plan_id
    project.selected_plan_id = plan_id
    advance_stage(project, 'plan')
    timeline.record(
        session,
        project_id=project.id,
        kind='plan.selected',
        title=f'Plan chosen: {chosen.title}',
        detail=chosen.summary,
    )
    await session.commit()
    return chosen
