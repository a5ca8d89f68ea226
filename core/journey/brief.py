"""Idea Brief and MVP scope (J-4): generated, versioned, edited by the founder, exported.

Every generation or edit adds a new version of each artifact and keeps the old ones; `note`
says why the version exists ('generated', 'narrowed: …', 'pivoted: …', 'edited by founder').
Generating a brief and opening Gate 1 after it is `core.journey.flow.generate_brief`.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Conflict, InvalidInput, NotFound
from core.journey import interview, markdown, structured, timeline
from core.journey.projects import load_project
from core.models import Artifact, Project, User, utcnow
from core.ports import LLM

BriefMode = Literal['generate', 'narrow', 'pivot']
KINDS = ('idea_brief', 'mvp_scope')
_NOTES = {'generate': 'generated', 'narrow': 'narrowed', 'pivot': 'pivoted'}
INTERVIEW_FIRST = 'Finish the interview first — the brief is written from your answers.'
_FIELD_LABELS = {
    'title': 'a title',
    'problem': 'the problem',
    'target_users': 'the target users',
    'value_proposition': 'the value proposition',
    'core_features': 'at least one core feature with a name',
    'features': 'at least one feature with a name',
    'priority': "a priority of 'must' or 'should'",
}


async def latest(session: AsyncSession, *, project_id: uuid.UUID, kind: str) -> Artifact | None:
    """The newest version of an artifact, or None (no ownership check: agent and journey use it)."""
    rows = await session.exec(
        select(Artifact)
        .where(Artifact.project_id == project_id, Artifact.kind == kind)
        .order_by(col(Artifact.version).desc())
        .limit(1)
    )
    return rows.first()


async def history(session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str) -> list[Artifact]:
    """Every version of an artifact, newest first."""
    await load_project(session, user=user, project_id=project_id)
    rows = await session.exec(
        select(Artifact)
        .where(Artifact.project_id == project_id, Artifact.kind == kind)
        .order_by(col(Artifact.version).desc())
    )
    return list(rows.all())


async def _next_version(session: AsyncSession, project_id: uuid.UUID, kind: str) -> int:
    current = await session.exec(
        select(func.max(Artifact.version)).where(Artifact.project_id == project_id, Artifact.kind == kind)
    )
    return (current.one() or 0) + 1


async def add_version(
    session: AsyncSession, *, project_id: uuid.UUID, kind: str, content: dict[str, Any], source: str, note: str
) -> Artifact:
    """Add the next version of an artifact (flushed, not committed)."""
    version = await _next_version(session, project_id, kind)
    row = Artifact(project_id=project_id, kind=kind, version=version, content=content, source=source, note=note[:300])
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:  # someone saved the same version a moment earlier
        raise Conflict('Another version was saved at the same moment — reload and try again.') from exc
    return row


async def brief_payload(
    session: AsyncSession, project: Project, *, mode: BriefMode = 'generate', guidance: str = ''
) -> dict[str, Any]:
    """Everything the model needs, in the founder's own words (see core.journey.structured)."""
    onboarding = await interview.find_session(session, project_id=project.id, kind='onboarding')
    previous = None
    if mode != 'generate' or guidance:
        brief_row = await latest(session, project_id=project.id, kind='idea_brief')
        scope_row = await latest(session, project_id=project.id, kind='mvp_scope')
        if brief_row and scope_row:
            previous = {'idea_brief': brief_row.content, 'mvp_scope': scope_row.content}
    asked = onboarding.questions if onboarding else []
    given = onboarding.answers if onboarding else {}
    return {
        'title': project.title,
        'idea': project.idea,
        'onboarding': [[q['text'], given.get(q['key'], '')] for q in asked],
        'answers': await interview.answers(session, project_id=project.id),
        'mode': mode,
        'guidance': guidance,
        'previous': previous,
    }


async def produce_brief(
    session: AsyncSession, project: Project, llm: LLM, *, mode: BriefMode, guidance: str
) -> structured.BriefOutput:
    """Ask the model for a brief; nothing is written (ModelUnavailable on failure)."""
    row = await interview.find_session(session, project_id=project.id, kind='understanding')
    if row is None or not row.completed:
        raise Conflict(INTERVIEW_FIRST)
    payload = await brief_payload(session, project, mode=mode, guidance=guidance)
    return await structured.write_brief(llm, payload)


async def save_brief(
    session: AsyncSession, project: Project, output: structured.BriefOutput, *, mode: BriefMode, guidance: str
) -> tuple[Artifact, Artifact]:
    """Store both artifacts as new versions and record the timeline event (not committed)."""
    note = _NOTES[mode] + (f': {guidance.strip()}' if guidance.strip() else '')
    brief_row = await add_version(
        session,
        project_id=project.id,
        kind='idea_brief',
        content=output.idea_brief.model_dump(),
        source='model',
        note=note,
    )
    scope_row = await add_version(
        session,
        project_id=project.id,
        kind='mvp_scope',
        content=output.mvp_scope.model_dump(),
        source='model',
        note=note,
    )
    features = ', '.join(f.name for f in output.idea_brief.core_features)
    timeline.record(
        session,
        project_id=project.id,
        kind='brief.generated',
        title=f'Idea Brief v{brief_row.version} {note.split(":")[0]}',
        detail=f'{note}\nFeatures: {features}',
    )
    return brief_row, scope_row


def validate_content(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """Founder-edited content, checked against the shared shape (InvalidInput with what's missing)."""
    models: dict[str, type[BaseModel]] = {'idea_brief': structured.IdeaBrief, 'mvp_scope': structured.MvpScope}
    model = models.get(kind)
    if model is None:
        raise InvalidInput('Only the Idea Brief and the MVP scope can be edited here.')
    try:
        return model.model_validate(content).model_dump()
    except ValidationError as exc:
        fields = []
        for err in exc.errors():
            label = next((_FIELD_LABELS[p] for p in reversed(err['loc']) if p in _FIELD_LABELS), None)
            fields.append(label or ' / '.join(str(p) for p in err['loc']))
        raise InvalidInput('Please check: ' + ', '.join(dict.fromkeys(fields)) + '.') from exc


async def edit_artifact(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, kind: str, content: dict[str, Any]
) -> Artifact:
    """Save the founder's edit as a new version (source 'founder'); the previous one is kept."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    clean = validate_content(kind, content)
    if await latest(session, project_id=project.id, kind=kind) is None:
        raise NotFound('That document')
    row = await add_version(
        session, project_id=project.id, kind=kind, content=clean, source='founder', note='edited by founder'
    )
    label = 'Idea Brief' if kind == 'idea_brief' else 'MVP scope'
    timeline.record(session, project_id=project.id, kind='brief.edited', title=f'{label} v{row.version} edited')
    project.updated_at = utcnow()
    await session.commit()
    return row


async def export_markdown(session: AsyncSession, *, user: User, project_id: uuid.UUID) -> str:
    """The latest Idea Brief and MVP scope as one Markdown document (NotFound before the first brief)."""
    project = await load_project(session, user=user, project_id=project_id)
    brief_row = await latest(session, project_id=project.id, kind='idea_brief')
    scope_row = await latest(session, project_id=project.id, kind='mvp_scope')
    if brief_row is None or scope_row is None:
        raise NotFound('That brief')
    return markdown.brief_markdown(
        brief_row.content,
        scope_row.content,
        title=project.title,
        version=brief_row.version,
        scope_version=scope_row.version,
    )
