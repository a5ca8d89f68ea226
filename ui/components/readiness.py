"""The deploy readiness card (IT-4): a traffic light, each check with its fix, the deploy paths, a download.

The light always carries a word (Green / Yellow / Red and what it means), never colour alone. Everything
in a report comes from the project's files and the founder's title, so it is shown as text: labels and
monospace blocks, never Markdown or HTML.
"""

from __future__ import annotations

from nicegui import ui

from core.builds.readiness import (
    STATUS_LABELS,
    VERDICT_LABELS,
    Check,
    DeployPath,
    ReadinessReport,
    report_markdown,
    report_of,
)
from core.journey.markdown import file_stem
from core.models import Artifact

LIGHTS = {'green': ('check_circle', 'emerald'), 'yellow': ('error', 'amber'), 'red': ('cancel', 'rose')}
STATUS_ICONS = {
    'pass': ('check_circle', 'text-emerald-600'),
    'warn': ('error', 'text-amber-600'),
    'fail': ('cancel', 'text-rose-600'),
}


def traffic_light(verdict: str, *, compact: bool = False) -> None:
    """The verdict as a coloured pill with its word: 'Deploy: Green' (compact) or 'Green: Ready to deploy'."""
    icon, colour = LIGHTS.get(verdict, ('help', 'slate'))
    word = verdict.capitalize()
    text = f'Deploy: {word}' if compact else f'{word}: {VERDICT_LABELS.get(verdict, "")}'
    with (
        ui.row()
        .classes(
            f'items-center gap-1 no-wrap rounded-full px-2 py-0.5 bg-{colour}-100 text-{colour}-900 '
            f'dark:bg-{colour}-900 dark:text-{colour}-100 {"text-xs" if compact else "text-sm font-medium"}'
        )
        .mark('readiness-light', f'readiness-{verdict}')
    ):
        ui.icon(icon, size='14px' if compact else '18px')
        ui.label(text).mark('readiness-verdict')


def copyable(text: str, *, marker: str) -> None:
    """A block of text to copy as it is (a command, a file), with a Copy button."""

    def copy() -> None:
        ui.clipboard.write(text)
        ui.notify('Copied', type='positive', timeout=1500)

    with ui.row().classes('w-full items-start no-wrap gap-1 rounded bg-slate-100 dark:bg-slate-800 p-2'):
        ui.label(text).classes('font-mono text-xs whitespace-pre-wrap break-all grow').mark(marker)
        ui.button(icon='content_copy', on_click=copy).props('flat dense round size=sm aria-label="Copy"').tooltip(
            'Copy'
        ).mark(f'{marker}-copy')


def _check(check: Check) -> None:
    icon, colour = STATUS_ICONS[check.status]
    with ui.column().classes('w-full gap-1').mark('readiness-check', f'check-{check.key}'):
        with ui.row().classes('items-center gap-2 no-wrap'):
            ui.icon(icon, size='20px').classes(colour)
            ui.label(STATUS_LABELS[check.status]).classes(f'text-xs font-semibold uppercase {colour}').mark(
                'check-status'
            )
            ui.label(check.title).classes('font-medium')
        ui.label(check.detail).classes('text-sm text-slate-600 dark:text-slate-300 whitespace-pre-line')
        if check.fix and check.status != 'pass':
            ui.label('How to fix it:').classes('text-xs text-slate-500')
            copyable(check.fix, marker='check-fix')


def _path(n: int, path: DeployPath) -> None:
    with (
        ui.expansion(f'{n}. {path.name}', caption=f'{path.difficulty} · {path.cost}', icon='rocket_launch')
        .classes('w-full')
        .mark('deploy-path')
    ):
        with ui.column().classes('gap-0 text-sm'):
            for tradeoff in path.tradeoffs:
                ui.label(f'• {tradeoff}')
        with ui.column().classes('w-full gap-2 pt-2'):
            for i, step in enumerate(path.steps, 1):
                ui.label(f'{i}. {step.text}').classes('text-sm').mark('deploy-step')
                if step.code:
                    copyable(step.code, marker='deploy-code')


def readiness_card(report: ReadinessReport) -> None:
    """The whole report: light, blockers and warnings first, passes after, then the ways to deploy."""
    version = f'-{report.build_version}' if report.build_version else ''
    name = f'{file_stem(report.title, "app")}-deploy-readiness{version}.md'  # the title kept, in any script

    def download() -> None:
        ui.download.content(report_markdown(report).encode('utf-8'), name, 'text/markdown')

    with ui.card().classes('w-full p-4 gap-3').mark('readiness'):
        with ui.row().classes('w-full items-center justify-between'):
            with ui.row().classes('items-center gap-3'):
                ui.label('Deploy readiness').classes('text-sm uppercase tracking-wide text-slate-500')
                if report.build_version:
                    ui.label(report.build_version).classes('text-sm text-slate-500').mark('readiness-version')
            ui.button('Download report', icon='download', on_click=download).props('flat dense').mark(
                'readiness-download'
            )
        traffic_light(report.verdict)
        order = {'fail': 0, 'warn': 1, 'pass': 2}
        for check in sorted(report.checks, key=lambda c: order[c.status]):
            _check(check)
        ui.separator()
        ui.label('Ways to deploy').classes('font-semibold')
        for n, path in enumerate(report.deploy_paths, 1):
            _path(n, path)


def readiness_section(artifact: Artifact | None) -> None:
    """The card for a stored deploy_report artifact; nothing when there is none (or it cannot be read)."""
    report = report_of(artifact) if artifact is not None else None
    if report is not None:
        readiness_card(report)
