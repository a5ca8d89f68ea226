"""The project timeline (J-8): every significant event, oldest first, with its time."""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from core.models import TimelineEvent

ICONS = {
    'idea.created': 'lightbulb',
    'onboarding.completed': 'forum',
    'interview.completed': 'question_answer',
    'brief.generated': 'description',
    'brief.edited': 'edit_note',
    'gate.opened': 'alt_route',
    'gate.decided': 'how_to_vote',
    'plan.selected': 'map',
    'project.parked': 'pause_circle',
    'project.unparked': 'play_circle',
    'build.started': 'rocket_launch',
    'build.ready': 'verified',
    'build.failed': 'error',
    'mvp.built': 'emoji_events',
    'change.requested': 'change_circle',
    'project.shipped': 'sailing',
    'version.restored': 'restore',
}


def timeline_list(events: Sequence[TimelineEvent]) -> ui.column:
    """The events as a vertical list; the detail of an event stays short (the first line)."""
    with ui.column().classes('w-full gap-0').mark('timeline') as box:
        if not events:
            ui.label('Nothing has happened yet.').classes('text-slate-500')
        for event in events:
            with (
                ui.row()
                .classes('w-full items-start gap-3 py-2 border-b border-slate-100 dark:border-slate-800 no-wrap')
                .mark('timeline-entry')
            ):
                ui.icon(ICONS.get(event.kind, 'circle'), size='20px').classes('text-primary mt-0.5')
                with ui.column().classes('gap-0 grow'):
                    ui.label(event.title).classes('font-medium').mark('timeline-title')
                    detail = (event.detail or '').strip().splitlines()
                    if detail:
                        ui.label(detail[0][:200]).classes('text-sm text-slate-500')
                ui.label(f'{event.at:%Y-%m-%d %H:%M} UTC').classes('text-xs text-slate-400 whitespace-nowrap')
    return box
