"""The end of a build (UI-8, B-9): what was built (version, files, features, stack, time, tokens) or a
friendly failure card with Retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from core.models import BuildJob
from ui.components.clock import format_duration

Action = Callable[[], Awaitable[None]]


def _names(items: Any) -> list[str]:
    """Summary lists may hold strings or {'name': …} objects."""
    if not isinstance(items, list | tuple):
        return [str(items)] if items else []
    return [str(i.get('name') or i.get('path') or i) if isinstance(i, dict) else str(i) for i in items]


def _fact(label: str, value: str, marker: str) -> None:
    with ui.column().classes('gap-0'):
        ui.label(label).classes('text-xs uppercase tracking-wide text-slate-500')
        ui.label(value).classes('text-lg font-semibold').mark(marker)


def time_taken(job: BuildJob) -> str:
    if job.started_at and job.finished_at:
        return format_duration((job.finished_at - job.started_at).total_seconds())
    return '—'


def ready_summary(job: BuildJob) -> ui.card:
    """What was built, in numbers a founder understands."""
    summary = job.summary or {}
    files, features, stack = (
        _names(summary.get('files', [])),
        _names(summary.get('features', [])),
        _names(summary.get('stack', [])),
    )
    file_count = summary.get('file_count', len(files))
    with ui.card().classes('w-full p-5 gap-3').mark('build-summary') as card:
        with ui.row().classes('items-center gap-2'):
            ui.icon('celebration', size='32px').classes('text-green-600')
            ui.label(f'Your app is ready — {job.version_label or "new version"}').classes('text-xl font-semibold')
        with ui.row().classes('gap-8 flex-wrap'):
            _fact('Version', job.version_label or '—', 'summary-version')
            _fact('Files', str(file_count), 'summary-files')
            _fact('Time taken', time_taken(job), 'summary-time')
            _fact('Tokens', f'{job.input_tokens + job.output_tokens:,}', 'summary-tokens')
        checks = summary.get('checks') or {}
        if checks.get('scoped'):
            _verified(checks)
        # The runner may report features, or only the phases it worked through.
        heading, items = ('Features', features) if features else ('What I did', _names(summary.get('phases', [])))
        if items and not checks.get('scoped'):
            ui.label(heading).classes('font-semibold')
            with ui.column().classes('gap-0 text-sm').mark('summary-features'):
                for item in items:
                    ui.label(f'• {item}')
        if stack:
            with ui.row().classes('items-center gap-1'):
                ui.label('Built with').classes('text-sm text-slate-500')
                for part in stack:
                    ui.chip(part).props('dense outline').mark('summary-stack')
        if files:
            with ui.expansion(f'All {len(files)} files', icon='folder').classes('w-full text-sm'):
                ui.label('\n'.join(files)).classes('font-mono text-xs whitespace-pre-wrap').mark('summary-file-list')
    return card


def verified_sentence(checks: dict) -> str:
    """'4 of 5 features verified in a browser'."""
    return f'{checks.get("verified", 0)} of {checks.get("scoped", 0)} features verified in a browser'


def _verified(checks: dict) -> None:
    """How many features passed their acceptance check, and what failed and why in plain words."""
    complete = checks.get('verified', 0) >= checks.get('scoped', 0)
    with ui.row().classes('items-center gap-2'):
        ui.icon('verified' if complete else 'rule', size='24px').classes(
            'text-green-600' if complete else 'text-amber-600'
        )
        ui.label(verified_sentence(checks)).classes('font-semibold').mark('summary-verified')
    failed = checks.get('failed') or []
    if failed:
        with ui.column().classes('gap-1 text-sm').mark('summary-check-failures'):
            for item in failed:
                broke = f' (it stopped working in this version; it worked in {item["regressed_from"]})' if item.get(
                    'regressed_from') else ''  # fmt: skip
                step = f' when trying to {item["step"]}' if item.get('step') else ''
                ui.label(f'• {item["feature"]}: it failed{step}: {item.get("problem", "")}{broke}')


def failure_card(job: BuildJob, *, retry: Action) -> ui.card:
    """Friendly first, technical detail only behind an expander (B-9)."""
    looks = {
        'CANCELLED': ('cancel', 'This build was cancelled', 'Nothing is lost: start it again whenever you like.'),
        'BUDGET_EXCEEDED': (
            'account_balance_wallet',
            'This build ran out of budget',
            job.error_summary or 'It used all the tokens your plan allows for now.',
        ),
    }
    icon, title, text = looks.get(
        job.state,
        (
            'error_outline',
            'This build did not finish',
            job.error_summary or 'Something went wrong while building your app.',
        ),
    )
    with ui.card().classes('w-full p-5 gap-3').mark('build-failure') as card:
        with ui.row().classes('items-center gap-2'):
            ui.icon(icon, size='32px').classes('text-red-500' if job.state != 'CANCELLED' else 'text-slate-500')
            ui.label(title).classes('text-xl font-semibold')
        ui.label(text).classes('text-slate-600 dark:text-slate-300').mark('failure-summary')
        if job.error_detail:
            with ui.expansion('Technical details', icon='code').classes('w-full text-sm').mark('failure-detail'):
                ui.label(job.error_detail).classes('font-mono text-xs whitespace-pre-wrap break-all')
        ui.button('Retry', icon='refresh', on_click=retry).mark('retry-build')
    return card
