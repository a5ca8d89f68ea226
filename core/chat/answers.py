"""The offline model's answers to the common questions, composed from the state alone (deterministic)."""

from __future__ import annotations

from datetime import datetime

from core.builds.holds import dollars
from core.chat import intents as i
from core.chat.context import ChatState, ProjectState, Spending
from core.chat.words import day, joined, say, state_name, until, when


def _state(lang: str, project: ProjectState) -> str:
    build = project.build
    return state_name(lang, build.state, build.state_label) if build else ''


def status(lang: str, project: ProjectState, spending: Spending | None) -> str:
    parts = [say(lang, 'stage', title=project.title, stage=project.stage_label)]
    if project.parked:
        parts.append(say(lang, 'parked'))
    build = project.build
    if build is None:
        parts.append(say(lang, 'no_build'))
    else:
        phase = say(lang, 'phase', phase=build.phase) if build.phase and build.state not in ('READY',) else ''
        parts.append(say(lang, 'build', state=_state(lang, project), phase=phase))
        if build.queue_position:
            parts.append(say(lang, 'queue', n=build.queue_position))
        if build.state in ('FAILED', 'BUDGET_EXCEEDED') and build.error_summary:
            parts.append(say(lang, 'error', error=build.error_summary))
        if build.question is not None:
            parts.append(say(lang, 'needs_you', problem=build.question.problem))
    if project.current_version is not None:
        parts.append(say(lang, 'version', label=project.current_version.label))
    if project.pending_gates:
        parts.append(say(lang, 'pending', gates=joined(lang, project.pending_gates)))
    if spending is not None:
        parts.append(say(lang, 'today', today=f'{spending.today_tokens:,}', daily=f'{spending.daily_tokens:,}'))
    return ' '.join(parts)


def sleeping(lang: str, project: ProjectState, now: datetime) -> str:
    build = project.build
    if build is None:
        return say(lang, 'no_build')
    if build.state != 'SLEEPING' or build.wake_at is None:
        return say(lang, 'not_sleeping', state=_state(lang, project))
    reason = build.sleep_reason or say(lang, 'sleep_reason')
    text = say(lang, 'sleeping', reason=reason, wake=when(build.wake_at), until=until(lang, build.wake_at, now))
    return f'{text} {build.done_today}'.strip()


def blockers(lang: str, project: ProjectState) -> str:
    report = project.readiness
    if report is None:
        return say(lang, 'no_report')
    version = report.build_version or ''
    if not report.blockers:
        lines = [say(lang, 'no_blockers', label=report.label, version=version)]
    else:
        lines = [say(lang, 'blockers', label=report.label, version=version)]
        lines += [say(lang, 'blocker', title=b.title, detail=b.detail, fix=b.fix) for b in report.blockers]
    if report.warnings:
        lines.append(
            say(lang, 'warnings', n=len(report.warnings), titles=joined(lang, [w.title for w in report.warnings]))
        )
    failing = [c.feature for c in project.checks if c.ran and not c.passed]
    if failing:
        lines.append(say(lang, 'failing', features=joined(lang, failing)))
    if report.paths:
        lines.append(say(lang, 'paths', paths=joined(lang, report.paths)))
    return '\n'.join(lines)


def changes(lang: str, project: ProjectState, label: str) -> str:
    if not project.versions:
        return say(lang, 'no_versions')
    version = next((v for v in project.versions if v.label == label), None) if label else project.current_version
    if version is None:
        return say(
            lang, 'unknown_version', label=label, labels=joined(lang, [v.label for v in reversed(project.versions)])
        )
    if not version.from_label:
        return say(lang, 'first_version', label=version.label, summary=version.summary)
    files = say(lang, 'files', added=joined(lang, version.added), changed=joined(lang, version.changed),
                removed=joined(lang, version.removed))  # fmt: skip
    return (
        say(lang, 'changes', label=version.label, previous=version.from_label, summary=version.summary) + '\n' + files
    )


def spend(lang: str, spending: Spending) -> str:
    s = spending
    return say(lang, 'spend', week=f'{s.week_tokens:,}', week_cost=dollars(s.week_cost), today=f'{s.today_tokens:,}',
               daily=f'{s.daily_tokens:,}', today_cost=dollars(s.today_cost), period=f'{s.period_tokens:,}',
               allowance=f'{s.period_allowance:,}', renews=day(s.renews_at))  # fmt: skip


def question(lang: str, project: ProjectState) -> str:
    build = project.build
    if build is None or build.question is None:
        return say(lang, 'no_question')
    q = build.question
    options = ' / '.join(f'{n}. {o}' for n, o in enumerate(q.options, 1))
    return say(lang, 'question', problem=q.problem, tried=joined(lang, q.tried), recommended=q.recommendation,
               options=options)  # fmt: skip


def overview(lang: str, state: ChatState) -> str:
    """The dashboard: one line per project, then the spend."""
    if not state.projects:
        return say(lang, 'no_project')
    lines = [status(lang, p, None) for p in state.projects]
    s = state.spending
    lines.append(say(lang, 'today', today=f'{s.today_tokens:,}', daily=f'{s.daily_tokens:,}'))
    return '\n'.join(lines)


def answer(lang: str, kind: str, project: ProjectState, state: ChatState, version: str, now: datetime) -> str:
    """The answer to a question about one project."""
    if kind == i.SLEEPING:
        return sleeping(lang, project, now)
    if kind == i.BLOCKERS:
        return blockers(lang, project)
    if kind == i.CHANGES:
        return changes(lang, project, version)
    if kind == i.QUESTION:
        return question(lang, project)
    return status(lang, project, state.spending)
