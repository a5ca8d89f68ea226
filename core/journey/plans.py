"""Execution plans (J-6): 2-3 options (fast MVP, balanced, robust); the founder selects one.

A plan says what the build will really do, whatever model writes its words: its scope (`RULES`: the Fast MVP
builds only the must-haves, Robust adds sign-up and sign-in), the features that scope gives, the stack, and the
time, cost and pace estimated from the model that will build and the founder's tier (`core.journey.estimates`).
Those facts are stamped on the plan after the model answers and reach the agent (`core.builds.context`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, NotFound
from core.journey import estimates, interview, structured, timeline
from core.journey.brief import latest
from core.journey.projects import advance_stage, load_project, stage_index
from core.models import PlanOption, Project, User, utcnow
from core.ports import LLM
from core.row_locks import lock_for_update
from core.stacks import SANDBOX_STACKS

ORDER = {'fast': 0, 'balanced': 1, 'robust': 2}
# What each plan builds: 'must' leaves out the scope's should-haves, 'all' builds every feature of the brief;
# True adds sign-up and sign-in (the offline model's accounts page).
RULES: dict[str, tuple[str, bool]] = {'fast': ('must', False), 'balanced': ('all', False), 'robust': ('all', True)}
FACT_KEYS = ('time', 'cost', 'risk', 'stack', 'tradeoffs', 'phases')
DIRECTION_FIRST = 'Decide the direction first (Gate 1), then pick a plan.'
BUILD_STARTED = 'A build has already started from the selected plan.'


async def existing(session: AsyncSession, project_id: uuid.UUID) -> list[PlanOption]:
    """The project's plan options, fast → balanced → robust."""
    rows = await session.exec(select(PlanOption).where(PlanOption.project_id == project_id))
    return sorted(rows.all(), key=lambda p: (ORDER.get(p.key, 9), p.created_at))


def _key(name: object) -> str:
    return ' '.join(str(name or '').split()).casefold()


def scope_features(brief: dict[str, Any] | None, scope: dict[str, Any] | None, rule: str) -> list[dict[str, Any]]:
    """The brief's core features a plan builds: all of them, or ('must') all but the scope's should-haves."""
    features = [f for f in (brief or {}).get('core_features') or [] if isinstance(f, dict) and f.get('name')]
    if rule != 'must':
        return features
    shoulds = {_key(f.get('name')) for f in (scope or {}).get('features') or []
               if isinstance(f, dict) and f.get('priority') == 'should'}  # fmt: skip
    return [f for f in features if _key(f['name']) not in shoulds] or features


def _facts(builder: estimates.Builder, brief: dict | None, scope: dict | None, key: str, lang: str) -> dict[str, Any]:
    rule, accounts = RULES[key]
    built = [str(f['name']) for f in scope_features(brief, scope, rule)]
    every = [str(f['name']) for f in scope_features(brief, scope, 'all')]
    est = estimates.estimate(builder, len(built) + (1 if accounts else 0))
    return {
        'scope': rule, 'accounts': accounts, 'features': built, 'left_out': [n for n in every if n not in built],
        'time': estimates.time_text(builder, est, lang), 'cost': estimates.cost_text(builder, est, lang),
        'pace': estimates.pace_text(builder, lang), 'model': estimates.model_text(builder, lang),
        'estimate': est.as_dict(),
    }  # fmt: skip


async def produce_plans(session: AsyncSession, project: Project, llm: LLM) -> list[dict[str, Any]]:
    """Plans built on the latest brief and scope, each with the facts of its build; nothing is written."""
    brief_row = await latest(session, project_id=project.id, kind='idea_brief')
    scope_row = await latest(session, project_id=project.id, kind='mvp_scope')
    brief, scope = (brief_row.content if brief_row else None), (scope_row.content if scope_row else None)
    owner = await session.get(User, project.owner_id)
    assert owner is not None  # a project always has its owner (foreign key)
    builder = await estimates.builder_for(session, owner, llm)
    lang = estimates.lang_of(project.idea)
    facts = {key: _facts(builder, brief, scope, key, lang) for key in RULES}
    payload = {
        'title': project.title,
        'idea': project.idea,
        'answers': await interview.answers(session, project_id=project.id),
        'brief': brief,
        'scope': scope,
        'build': {
            'offline': builder.offline,
            'model': builder.model,
            'stack': estimates.OFFLINE_STACK[lang] if builder.offline else '',
            'stacks': [] if builder.offline else list(SANDBOX_STACKS),
            'plans': {
                key: {k: f[k] for k in ('features', 'left_out', 'accounts', 'time', 'cost')} for key, f in facts.items()
            },
        },  # fmt: skip
    }
    output = await structured.propose_plans(llm, payload)
    return [_stamped(plan, facts[plan.key], builder.offline, lang) for plan in output.plans]


def _stamped(plan: structured.Plan, facts: dict[str, Any], offline: bool, lang: str) -> dict[str, Any]:
    """The model's words with the build's facts on top: what is built, the time, cost and pace, the stack."""
    details = {**plan.model_dump(include=set(FACT_KEYS)), **facts}
    if offline:  # the offline model only ever writes a standard-library app
        details['stack'] = estimates.OFFLINE_STACK[lang]
    return {'key': plan.key, 'title': plan.title, 'summary': plan.summary, 'details': details}


async def save_plans(session: AsyncSession, project: Project, proposed: list[dict[str, Any]]) -> list[PlanOption]:
    """Store the proposed options (not committed)."""
    rows = [PlanOption(project_id=project.id, **option) for option in proposed]
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
    await lock_for_update(session, project)  # two tabs choosing at once: one plan ends up chosen, not both
    options = await existing(session, project.id)
    chosen = next((p for p in options if p.id == plan_id), None)
    if chosen is None:
        raise NotFound('That plan')
    if stage_index(project.stage) > stage_index('plan') and project.selected_plan_id != plan_id:
        raise Conflict(BUILD_STARTED)
    choose_in(session, project, options, chosen)
    await session.commit()
    return chosen


def choose_in(session: AsyncSession, project: Project, options: list[PlanOption], chosen: PlanOption) -> None:
    """Mark `chosen` as the project's plan inside the caller's transaction; not committed."""
    for option in options:
        option.selected = option is chosen
    project.selected_plan_id = chosen.id
    advance_stage(project, 'plan')
    timeline.record(
        session,
        project_id=project.id,
        kind='plan.selected',
        title=f'Plan chosen: {chosen.title}',
        detail=chosen.summary,
    )
