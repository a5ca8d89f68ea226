"""What the agent is told about the project (AG-2): brief, Q&A verbatim, plan, change request."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from core.agent.prompt import build_system_prompt
from core.journey.brief import latest
from core.journey.interview import qa_pairs
from core.models import Artifact, BuildJob, PlanOption, Project


async def system_prompt_for(session: AsyncSession, job: BuildJob) -> str:
    """The system prompt of one build, from what the founder decided so far."""
    project = await session.get(Project, job.project_id)
    assert project is not None  # a job always has its project (foreign key)
    brief = await latest(session, project_id=project.id, kind='idea_brief')
    plan_row = await session.get(PlanOption, job.plan_id) if job.plan_id else None
    change = await session.get(Artifact, job.change_request_id) if job.change_request_id else None
    return build_system_prompt(
        brief=brief.content if brief else _brief_from_idea(project),
        qa=await qa_pairs(session, project_id=project.id),
        plan=plan_for_prompt(plan_row) if plan_row else None,
        change_request=change.content if change else None,
        project_title=project.title,
    )


def plan_for_prompt(plan: PlanOption) -> dict:
    """The chosen plan, flat: title, summary, time, cost, risk, stack, tradeoffs, phases."""
    return {'title': plan.title, 'summary': plan.summary, **plan.details}


def _brief_from_idea(project: Project) -> dict:
    """A minimal brief when the founder went straight to building (e.g. the API or demo)."""
    return {
        'title': project.title,
        'problem': project.idea,
        'target_users': '',
        'value_proposition': project.idea,
        'core_features': [],
        'non_goals': [],
        'risks': [],
        'success_measure': '',
        'constraints': '',
    }
