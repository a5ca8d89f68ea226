"""Idea Brief and MVP scope (J-4): generated, versioned, edited by the founder, exported.

Every generation or edit adds a new version of each artifact and keeps the old ones; `note`
says why the version exists ('generated', 'narrowed: …', 'pivoted: …', 'edited by founder').
Generating a brief and opening Gate 1 after it is `core.journey.flow.generate_brief`.

The co-founder's judgment (JD-1) lives in the brief: `open_questions` when it is too vague to be confident,
`left_out` (name and why) when the founder asked for more than a first version holds, risks for unrealistic
goals. The founder answers the open questions (`answer_open_questions`, kept as the `clarify` interview) or
insists (`insist`, recorded on the timeline as a decision); either writes a new version.
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
from core.founder_text import founder_text
from core.journey import interview, markdown, structured, timeline
from core.journey.projects import load_project
from core.models import Artifact, Project, User, utcnow
from core.ports import LLM
from core.row_locks import lock_key

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
    """Add the next version of an artifact (flushed, not committed). The project row stays locked until the
    caller commits, so concurrent writers each get the next number instead of a clash."""
    await lock_key(session, Project, project_id)
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
    clarify = await interview.find_session(session, project_id=project.id, kind='clarify')
    clarified = [[q['text'], clarify.answers.get(q['key'], '')] for q in clarify.questions] if clarify else []
    return {
        'title': project.title,
        'idea': project.idea,
        'onboarding': [[q['text'], given.get(q['key'], '')] for q in asked],
        'answers': await interview.answers(session, project_id=project.id),
        'mode': mode,
        'guidance': guidance,
        'previous': previous,
        **({'clarified': [p for p in clarified if p[1].strip()]} if clarified else {}),
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


# ── the co-founder's pushback: answer its questions, or insist (JD-1) ───────────────────────────

NOTHING_TO_ANSWER = 'Your co-founder has no open questions on this brief.'
NOTHING_TO_INSIST = 'Your co-founder did not push back on this brief: there is nothing to insist on.'
BRIEF_MOVED = 'The brief changed while your co-founder was rewriting it (another tab?). Reload to see the new version.'


async def _current(session: AsyncSession, project: Project) -> tuple[Artifact, Artifact]:
    brief_row = await latest(session, project_id=project.id, kind='idea_brief')
    scope_row = await latest(session, project_id=project.id, kind='mvp_scope')
    if brief_row is None or scope_row is None:
        raise NotFound('That brief')
    return brief_row, scope_row


async def _rewrite(
    session: AsyncSession, project: Project, llm: LLM, brief_row: Artifact, *, clarified: list[list[str]] | None = None,
    **extra: Any,
) -> structured.BriefOutput:  # fmt: skip
    payload = await brief_payload(session, project)
    if brief_row.content.get('assumptions'):  # a fast-path brief: still no interview, so assume again
        payload['assume'] = True
    if clarified:  # answers not stored yet: nothing is written before the model has answered
        payload['clarified'] = [*payload.get('clarified', []), *clarified]
    await session.commit()  # no transaction stays open across the model call (nothing was written)
    return await structured.write_brief(llm, {**payload, **extra})


async def _save_rewrite(
    session: AsyncSession, project: Project, output: structured.BriefOutput, *, note: str
) -> tuple[Artifact, Artifact]:
    rows = []
    for kind, content in (('idea_brief', output.idea_brief), ('mvp_scope', output.mvp_scope)):
        rows.append(await add_version(session, project_id=project.id, kind=kind, content=content.model_dump(),
                                      source='model', note=note))  # fmt: skip
    project.updated_at = utcnow()
    return rows[0], rows[1]


async def answer_open_questions(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, llm: LLM, answers: list[str]
) -> tuple[Artifact, Artifact]:
    """The founder's answers to the brief's open questions (kept verbatim, in the agent's context too), then a
    new version written with them. Nothing is written when the model fails (ModelUnavailable), and nothing is
    written while it thinks (a write would hold SQLite's one writer turn for the whole model call)."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    brief_row, _ = await _current(session, project)
    questions = [str(q) for q in brief_row.content.get('open_questions') or []]
    if not questions:
        raise Conflict(NOTHING_TO_ANSWER)
    texts = [founder_text(a, what='This answer', limit=interview.ANSWER_MAX) for a in answers[: len(questions)]]
    pairs = [[q, t] for q, t in zip(questions, texts, strict=False) if t.strip()]
    if not pairs:
        raise InvalidInput('Answer at least one of the questions (or write the brief anyway).')
    output = await _rewrite(session, project, llm, brief_row, clarified=pairs)
    await _hold_unchanged(session, project, brief_row)
    await _keep_clarified(session, project.id, pairs)
    rows = await _save_rewrite(session, project, output, note='clarified: answers to the open questions')
    detail = '\n'.join(f'{q}\n→ {t}' for q, t in pairs)
    timeline.record(session, project_id=project.id, kind='brief.clarified',
                    title=f'Idea Brief v{rows[0].version}: your answers to its questions', detail=detail)  # fmt: skip
    await session.commit()
    return rows


async def _hold_unchanged(session: AsyncSession, project: Project, brief_row: Artifact) -> None:
    """Lock the project, then make sure the brief the model rewrote is still the newest (another tab's answer or
    insist may have landed while it thought): two rewrites of one version would each look like the answer."""
    await lock_key(session, Project, project.id)
    now = await latest(session, project_id=project.id, kind='idea_brief')
    if now is None or now.version != brief_row.version:
        raise Conflict(BRIEF_MOVED)


async def _keep_clarified(session: AsyncSession, project_id: uuid.UUID, pairs: list[list[str]]) -> None:
    """The answers, as the `clarify` interview (questions numbered on from earlier rounds)."""
    row = await interview.find_session(session, project_id=project_id, kind='clarify')
    if row is None:
        row = await interview.insert_session(session, project_id=project_id, kind='clarify', questions=[])
    start = len(row.questions)
    new = [{'key': f'c{start + i}', 'text': q} for i, (q, _) in enumerate(pairs, start=1)]
    row.questions = [*row.questions, *new]
    row.answers = {**row.answers, **{q['key']: t for q, (_, t) in zip(new, pairs, strict=True)}}
    row.completed, row.updated_at = True, utcnow()


async def insist(
    session: AsyncSession, *, user: User, project_id: uuid.UUID, llm: LLM, reason: str = ''
) -> tuple[Artifact, Artifact]:
    """The founder overrules the pushback: a new version written as asked (every feature in the first version, or
    a brief without its open questions), and the decision on the timeline."""
    project = await load_project(session, user=user, project_id=project_id, active=True)
    brief_row, _ = await _current(session, project)
    content = brief_row.content
    left = [str(i.get('name', '')) for i in content.get('left_out') or [] if isinstance(i, dict)]
    if not left and not content.get('open_questions'):
        raise Conflict(NOTHING_TO_INSIST)
    reason = founder_text(reason, what='Your reason').strip()
    output = await _rewrite(session, project, llm, brief_row, insist=True, guidance=reason)
    await _hold_unchanged(session, project, brief_row)
    rows = await _save_rewrite(session, project, output, note='founder insisted' + (f': {reason}' if reason else ''))
    names = {f.name.casefold() for f in output.idea_brief.core_features}
    added = [name for name in left if name.casefold() in names]  # an ask like "everything" is no feature to add
    what = (
        f'keep {", ".join(added) or "every feature"} in the first version'
        if left
        else ('write the brief without the answers')
    )
    timeline.record(session, project_id=project.id, kind='decision.insisted',
                    title=f'You insisted: {what}', detail=reason)  # fmt: skip
    await session.commit()
    return rows
