"""The fast path (J-2 → J-6): "Skip the questions — assume and build", a beta behind the `fast_path` flag.

After the idea, the model writes the brief without the interview, assuming what the idea does not say and
listing each assumption in the brief's `assumptions` (edited like any field of the brief). Gate 1 opens at
once; proceeding there chooses the Fast MVP plan, so the founder is one Build click from a building agent. A
narrowed or pivoted brief is assumed again (there are no answers to write it from). The full interview stays
the default and recommended path.

A project took the fast path when a version of its brief was written by it (its note starts with `NOTE`).
"""

from __future__ import annotations

import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import flags
from core.journey import brief, estimates, gates, plans, structured, timeline
from core.journey.brief import BriefMode, add_version, latest
from core.journey.projects import advance_stage, load_project
from core.models import Artifact, PlanOption, Project, User, utcnow
from core.ports import LLM

FLAG = 'fast_path'
NOTE = 'assumed (fast path)'
_PLAN = {
    'en': 'You start with the Fast MVP plan: only the must-haves, no sign-in (you can choose another plan)',
    'ja': 'まずは「Fast MVP」プランで始めます:必須の機能だけ、ログインなし(別のプランも選べます)',
}
_FALLBACK = {
    'en': ('Who it is for: {who}', 'The first version does: {features}', 'It is a web app used in a browser'),
    'ja': ('対象: {who}', '最初の版でできること: {features}', 'ブラウザで使うウェブアプリです'),
}


async def taken(session: AsyncSession, project_id: uuid.UUID) -> bool:
    """Whether the project's brief was written on the fast path."""
    rows = await session.exec(
        select(Artifact.id)
        .where(Artifact.project_id == project_id, Artifact.kind == 'idea_brief', col(Artifact.note).startswith(NOTE))
        .limit(1)
    )
    return rows.first() is not None


async def produce(
    session: AsyncSession, project: Project, llm: LLM, *, mode: BriefMode = 'generate', guidance: str = ''
) -> structured.BriefOutput:
    """A brief written from the idea alone, with its assumptions listed; nothing is written."""
    payload = await brief.brief_payload(session, project, mode=mode, guidance=guidance)
    output = await structured.write_brief(llm, {**payload, 'assume': True})
    return with_assumptions(output, estimates.lang_of(project.idea))


def with_assumptions(output: structured.BriefOutput, lang: str) -> structured.BriefOutput:
    """The model's assumptions (or plain ones read from its brief when it listed none), then the plan's."""
    ideas = output.idea_brief
    listed = list(ideas.assumptions)
    if not listed:
        who, does, web = _FALLBACK[lang]
        names = ', '.join(f.name for f in ideas.core_features)
        listed = [who.format(who=ideas.target_users), does.format(features=names), web]
    if _PLAN[lang] not in listed:
        listed.append(_PLAN[lang])
    return output.model_copy(update={'idea_brief': ideas.model_copy(update={'assumptions': listed[:20]})})


async def save(
    session: AsyncSession, project: Project, output: structured.BriefOutput, *, mode: BriefMode, guidance: str
) -> tuple[Artifact, Artifact]:
    """Both artifacts as new versions noted as assumed, and the timeline event (not committed)."""
    note = NOTE + (f'; {mode}: {guidance.strip()}' if mode != 'generate' and guidance.strip() else '')
    rows = []
    for kind, content in (('idea_brief', output.idea_brief), ('mvp_scope', output.mvp_scope)):
        rows.append(await add_version(session, project_id=project.id, kind=kind, content=content.model_dump(),
                                      source='model', note=note))  # fmt: skip
    timeline.record(session, project_id=project.id, kind='brief.assumed',
                    title=f'Idea Brief v{rows[0].version} assumed (questions skipped)',
                    detail='\n'.join(output.idea_brief.assumptions))  # fmt: skip
    return rows[0], rows[1]


async def assume_brief(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, llm: LLM
) -> tuple[Artifact, Artifact]:
    """Skip the questions: write the brief with its assumptions and open Gate 1 (FeatureOff when the beta is off
    for this founder). A project that already has a brief keeps it (a second click changes nothing)."""
    await flags.require_enabled(session, user, FLAG)
    project = await load_project(session, user=user, project_id=project_id, active=True)
    brief_row = await latest(session, project_id=project.id, kind='idea_brief')
    scope_row = await latest(session, project_id=project.id, kind='mvp_scope')
    if brief_row is not None and scope_row is not None:
        return brief_row, scope_row
    output = await produce(session, project, llm)
    rows = await save(session, project, output, mode='generate', guidance='')
    advance_stage(project, 'brief')
    await gates.open_gate_in(session, project=project, gate_type='direction')
    project.updated_at = utcnow()
    await session.commit()
    return rows


async def preselect(session: AsyncSession, project: Project, options: list[PlanOption]) -> None:
    """On the fast path, the Fast MVP plan is chosen with the plans (not committed); the founder may change it."""
    if options and project.selected_plan_id is None and await taken(session, project.id):
        fast = next((o for o in options if o.key == 'fast'), options[0])
        plans.choose_in(session, project, options, fast)
