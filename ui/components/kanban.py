"""The Kanban of build phases (UI-7): Planned → In progress → Done, and Blocked while the agent waits; below
it, one card per feature of the MVP scope with its acceptance check's result and the evidence on hover."""

from __future__ import annotations

from nicegui import ui

from core.events import (
    BuildDone,
    BuildEvent,
    CheckResult,
    ChecksRun,
    Escalated,
    PhaseCompleted,
    PhaseStarted,
    Resumed,
    Waking,
)
from ui.live import SeqGuard

COLUMNS = (('planned', 'Planned'), ('in_progress', 'In progress'), ('done', 'Done'), ('blocked', 'Blocked'))


class Kanban(SeqGuard, ui.card):
    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, ui.card] = {}
        self.where: dict[str, str] = {}
        self.columns: dict[str, ui.column] = {}
        self.counts: dict[str, ui.label] = {}
        self.classes('w-full p-3').mark('kanban')
        with self:
            ui.label('Build plan').classes('text-lg font-semibold')
            self.empty = ui.label('The plan appears when the agent starts its first phase.').classes(
                'text-sm text-slate-500'
            )
            with ui.element('div').classes('w-full grid grid-cols-2 lg:grid-cols-4 gap-3'):
                for key, title in COLUMNS:
                    with ui.column().classes('gap-2 p-2 rounded-lg bg-slate-50 dark:bg-slate-800 min-h-[5rem]'):
                        with ui.row().classes('w-full items-center justify-between'):
                            ui.label(title).classes('text-sm font-semibold text-slate-600 dark:text-slate-300')
                            self.counts[key] = ui.badge('0', color='grey-5')
                        self.columns[key] = ui.column().classes(f'w-full gap-2 kanban-{key}').mark(f'kanban-{key}')
            self.features = FeatureChecks()

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event):
            return
        if isinstance(event, ChecksRun):
            self.features.show(event)
            return
        if isinstance(event, PhaseStarted):
            for name in event.planned:
                self._card(name)
            self._move(event.phase, 'in_progress')
        elif isinstance(event, PhaseCompleted):
            self._move(event.phase, 'done')
        elif isinstance(event, Escalated):
            self._move_all('in_progress', 'blocked')
        elif isinstance(event, Resumed | Waking):
            self._move_all('blocked', 'in_progress')
        elif isinstance(event, BuildDone) and event.state == 'READY':
            self._move_all('in_progress', 'done')
        else:
            return
        self._count()

    def column_of(self, phase: str) -> str | None:
        """Which column a phase's card is in (for callers and tests)."""
        return self.where.get(phase)

    def _card(self, name: str) -> ui.card:
        if name not in self.cards:
            self.empty.set_visibility(False)
            with self.columns['planned']:
                self.cards[name] = ui.card().classes('w-full p-2 shadow-none border').mark('kanban-card')
                with self.cards[name]:
                    ui.label(name).classes('text-sm')
            self.where[name] = 'planned'
        return self.cards[name]

    def _move(self, name: str, column: str) -> None:
        card = self._card(name)
        if self.where[name] != column:
            card.move(self.columns[column])
            self.where[name] = column

    def _move_all(self, source: str, target: str) -> None:
        for name, column in list(self.where.items()):
            if column == source:
                self._move(name, target)

    def _count(self) -> None:
        for key, _ in COLUMNS:
            self.counts[key].set_text(str(sum(1 for c in self.where.values() if c == key)))


class FeatureChecks(ui.column):
    """Each feature's acceptance check: verified, failing (at which step, why) or not checked yet."""

    def __init__(self) -> None:
        super().__init__()
        self.classes('w-full gap-2').mark('feature-checks')
        self.set_visibility(False)
        self.results: dict[str, CheckResult] = {}

    def show(self, event: ChecksRun) -> None:
        self.results = {r.feature: r for r in event.results}
        self.clear()
        self.set_visibility(True)
        with self:
            ui.label(f'Features verified in a browser: {event.verified} of {event.scoped}').classes(
                'text-sm font-semibold'
            ).mark('features-verified')
            with ui.element('div').classes('w-full grid grid-cols-1 sm:grid-cols-2 lg:grid-cols-3 gap-2'):
                for result in event.results:
                    _feature_card(result)


def _feature_card(result: CheckResult) -> None:
    icon, colour, status = (
        ('check_circle', 'text-green-600', 'Verified')
        if result.passed
        else ('help_outline', 'text-slate-500', 'Not checked')
        if not result.ran
        else ('cancel', 'text-red-600', 'Failing')
    )
    card = ui.card().classes('feature-check w-full p-2 shadow-none border gap-1').mark('feature-card')
    with card:
        with ui.row().classes('items-center gap-1 no-wrap'):
            ui.icon(icon).classes(colour).props['aria-label'] = status
            ui.label(result.feature).classes('text-sm font-medium break-words')
        ui.label(status).classes(f'text-xs {colour}').mark('feature-status')
        if not result.passed and result.problem:
            step = f'Trying to {result.step}: ' if result.step else ''
            ui.label(f'{step}{result.problem}').classes('text-xs text-slate-600 dark:text-slate-300')
        if result.regressed_from:
            ui.label(f'It worked in {result.regressed_from}; this version broke it.').classes('text-xs text-red-600')
        if result.screenshot_url:
            with ui.tooltip().classes('feature-evidence p-1 bg-white dark:bg-slate-900'):
                ui.image(result.screenshot_url).classes('w-80').props['alt'] = f'Evidence for {result.feature}'
