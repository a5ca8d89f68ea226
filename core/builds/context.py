"""What the agent is told about the project (AG-2): brief, Q&A verbatim, plan, change request.

The chosen plan bounds the build: its scope decides which of the brief's features the agent is given (the Fast
MVP leaves out the should-haves, `core.journey.plans.RULES`), and its stack, accounts and features travel with
it; the checks before READY ask for the same features (`built_features`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core.agent.prompt import build_system_prompt
from core.journey.brief import latest
from core.journey.interview import qa_pairs
from core.journey.plans import scope_features
from core.models import Artifact, BuildJob, PlanOption, Project


async def system_prompt_for(session: AsyncSession, job: BuildJob) -> str:
    """The system prompt of one build, from what the founder decided so far."""
    project = await session.get(Project, job.project_id)
    assert project is not None  # a job always has its project (foreign key)
    plan_row = await session.get(PlanOption, job.plan_id) if job.plan_id else None
    change = await session.get(Artifact, job.change_request_id) if job.change_request_id else None
    return build_system_prompt(
        brief=await scoped_brief(session, project, plan_row),
        qa=await qa_pairs(session, project_id=project.id),
        plan=plan_for_prompt(plan_row) if plan_row else None,
        change_request=change.content if change else None,
        project_title=project.title,
    )


def plan_for_prompt(plan: PlanOption) -> dict:
    """The chosen plan, flat: title, summary, time, cost, risk, stack, tradeoffs, phases, and what it builds
    (scope, features, left_out, accounts)."""
    return {'title': plan.title, 'summary': plan.summary, **plan.details}


async def scoped_brief(session: AsyncSession, project: Project, plan: PlanOption | None) -> dict[str, Any]:
    """The latest brief with only the features the plan builds; what it leaves out becomes a non-goal."""
    brief = await latest(session, project_id=project.id, kind='idea_brief')
    content = dict(brief.content) if brief else _brief_from_idea(project)
    rule = str((plan.details or {}).get('scope') or 'all') if plan else 'all'
    if rule == 'all':
        return content
    scope = await latest(session, project_id=project.id, kind='mvp_scope')
    kept = scope_features(content, scope.content if scope else None, rule)
    left = [f for f in content.get('core_features') or [] if f not in kept]
    later = [f'Not in this plan ({plan.title if plan else ""}): {f.get("name", "")}' for f in left]
    return {**content, 'core_features': kept, 'non_goals': [*later, *(content.get('non_goals') or [])]}


async def built_features(session: AsyncSession, job: BuildJob) -> list[str]:
    """The names of the features this build must show and check: the brief's, bounded by the job's plan."""
    project = await session.get(Project, job.project_id)
    assert project is not None
    plan = await session.get(PlanOption, job.plan_id) if job.plan_id else None
    brief = await scoped_brief(session, project, plan)
    return [str(f.get('name', '')) for f in brief.get('core_features') or [] if isinstance(f, dict) and f.get('name')]


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
