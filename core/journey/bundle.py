"""Everything a founder has, as one Markdown document (IT-5): the Idea Brief and MVP scope, the chosen plan, the
change requests, the app's documentation and the deploy readiness report.

Founder text is escaped (`core.journey.markdown`). The documentation is the agent's Markdown: kept as Markdown,
its headings moved under the bundle's and raw HTML outside code blocks shown as text. Each documentation section
comes from the newest version that wrote it (a restored or iteration build may not rewrite them all).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.readiness import report_markdown, report_of
from core.event_log import EventLog
from core.events import DocumentationUpdated
from core.journey.brief import latest
from core.journey.markdown import escape, idea_brief_sections, inline, mvp_scope_sections
from core.journey.projects import load_project
from core.models import Artifact, BuildJob, PlanOption, Project, User, utcnow

DOC_SECTIONS = (('overview', 'Overview'), ('features', 'Features'), ('getting_started', 'Getting started'),
                ('faq', 'FAQ'))  # fmt: skip
BANDS = {'green': 'green', 'yellow': 'yellow', 'scope_creep': 'scope creep'}
_FENCE = re.compile(r'^\s*(```|~~~)')
_HEADING = re.compile(r'^(#{1,6})(\s)')


def _under(lines: list[str], levels: int) -> list[str]:
    """Headings `levels` deeper (at most ######), so a document sits under one of the bundle's headings."""
    out, fenced = [], False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _HEADING.sub(lambda m: '#' * min(6, len(m.group(1)) + levels) + m.group(2), line)
        out.append(line)
    return out


def agent_markdown(text: str, levels: int = 3) -> list[str]:
    """The agent's Markdown, its headings moved down and raw HTML outside code blocks shown as text."""
    out, fenced = [], False
    for line in str(text or '').replace('\r\n', '\n').split('\n'):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = line.replace('<', '&lt;').replace('>', '&gt;') if '<' in line else line
        out.append(line)
    return _under(out, levels)


def _brief(brief: Artifact | None, scope: Artifact | None) -> list[str]:
    if brief is None:
        return ['## Idea Brief', '', '_Not written yet: it comes after the interview._', '']
    out = [f'## Idea Brief (v{brief.version})', '', *_under(idea_brief_sections(brief.content), 1)]
    if scope is not None:
        out += [f'## MVP scope (v{scope.version})', '', *_under(mvp_scope_sections(scope.content), 1)]
    return out


def _plan(plan: PlanOption | None) -> list[str]:
    if plan is None:
        return ['## Execution plan', '', '_No plan chosen yet._', '']
    details: dict[str, Any] = plan.details or {}
    out = [f'## Execution plan: {inline(plan.title)}', '', escape(plan.summary), '']
    for key, label in (('time', 'Time'), ('cost', 'Cost'), ('risk', 'Risk'), ('stack', 'Stack')):
        if details.get(key):
            out.append(f'- **{label}:** {inline(details[key])}')
    if tradeoffs := [t for t in details.get('tradeoffs') or [] if str(t).strip()]:
        out += ['', '**Trade-offs**', '', *[f'- {inline(t)}' for t in tradeoffs]]
    if phases := [p for p in details.get('phases') or [] if str(p).strip()]:
        out += ['', '**Phases**', '', *[f'{n}. {inline(p)}' for n, p in enumerate(phases, 1)]]
    return [*out, '']


def _items(values: Any) -> list[str]:
    return [f'- {inline(v)}' for v in values or [] if str(v or '').strip()] or ['- —']


def _change_requests(rows: list[Artifact]) -> list[str]:
    out = ['## Change requests', '']
    if not rows:
        return [*out, '_None yet._', '']
    for row in rows:
        c = row.content or {}
        fit = c.get('alignment') or {}
        version = f' — changes {inline(c.get("version"))}' if c.get('version') else ''
        out += [
            f'### Change request {row.version}{version}',
            '',
            f'_{inline(row.note)} · {row.created_at:%Y-%m-%d}_',
            '',
        ]
        out += ['**What will change**', '', *_items(c.get('changes')), '']
        out += ['**What will not change**', '', *_items(c.get('unchanged')), '']
        if fit:
            band = BANDS.get(str(fit.get('band')), inline(fit.get('band')))
            out += [f'**Alignment with the MVP:** {inline(fit.get("score"))}/100 ({band}). {inline(fit.get("reason"))}']
            if fit.get('suggestion'):
                out += ['', f'**Suggestion:** {inline(fit["suggestion"])}']
            out.append('')
    return out


async def _docs(session: AsyncSession, events: EventLog, project_id: uuid.UUID) -> tuple[str | None, list[str]]:
    """Each documentation section from the newest READY build that wrote it; the newest version's label."""
    query = select(BuildJob).where(BuildJob.project_id == project_id, BuildJob.state == 'READY')
    builds = list((await session.exec(query.order_by(col(BuildJob.version_number).desc()))).all())
    found: dict[str, tuple[str, str]] = {}
    for build in builds:
        written: dict[str, tuple[str, str]] = {}
        for event in await events.read(build.id):
            if isinstance(event, DocumentationUpdated):
                written[event.section] = (event.title, event.content)  # the last write of a section wins
        for section, value in written.items():
            found.setdefault(section, value)
        if len(found) == len(DOC_SECTIONS):
            break
    label = builds[0].version_label if builds else None
    heading = f'## Documentation ({label})' if label else '## Documentation'
    if not found:
        return label, [heading, '', '_Written by the agent during the first build._', '']
    out = [heading, '']
    for key, default in DOC_SECTIONS:
        if key in found:
            title, text = found[key]
            out += [f'### {inline(title) or default}', '', *agent_markdown(text, 3), '']
    return label, out


def _readiness(report: Artifact | None) -> list[str]:
    if report is None:
        return ['## Deploy readiness', '', '_Checked when a build is ready._', '']
    try:
        parsed = report_of(report)
    except ValidationError:
        parsed = None
    if parsed is None:  # a report this version cannot read: its plain facts as a list
        facts = [(k, v) for k, v in (report.content or {}).items() if not isinstance(v, list | dict)]
        return ['## Deploy readiness', '', *[f'- **{inline(k)}:** {inline(v)}' for k, v in facts], '']
    return [*_under(report_markdown(parsed).split('\n'), 1), '']


async def project_bundle(session: AsyncSession, events: EventLog, *, user: User, project_id: uuid.UUID) -> str:
    """The project's documents as one Markdown file (another founder's project is NotFound)."""
    project: Project = await load_project(session, user=user, project_id=project_id)
    brief = await latest(session, project_id=project.id, kind='idea_brief')
    scope = await latest(session, project_id=project.id, kind='mvp_scope')
    plan = await session.get(PlanOption, project.selected_plan_id) if project.selected_plan_id else None
    changes = await session.exec(
        select(Artifact)
        .where(Artifact.project_id == project.id, Artifact.kind == 'change_request')
        .order_by(col(Artifact.version))
    )
    report = (
        await session.exec(
            select(Artifact)
            .where(Artifact.project_id == project.id, Artifact.kind == 'deploy_report')
            .order_by(col(Artifact.version).desc())
            .limit(1)
        )
    ).first()
    version, docs = await _docs(session, events, project.id)
    lines = [f'# {inline(project.title)}', '']
    lines += [f'_Exported {utcnow():%Y-%m-%d %H:%M} UTC' + (f' · current version {version}_' if version else '_'), '']
    lines += ['## The idea', '', escape(project.idea), '']
    lines += _brief(brief, scope)
    lines += _plan(plan)
    lines += _change_requests(list(changes.all()))
    lines += docs
    lines += _readiness(report)
    return '\n'.join(lines).rstrip() + '\n'
