"""The stage bar on top of the build page: named stages, elapsed time, queue position, auto-fixing (UI-3)."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from core.events import BuildDone, BuildEvent, Healing, Resumed, StageChanged, Waking
from ui.components.clock import LiveClock, Pulse
from ui.live import SeqGuard

STAGES = (
    ('SCAFFOLD', 'Scaffolding'),
    ('CODE', 'Writing code'),
    ('DEPS', 'Installing'),
    ('CHECKS', 'Checking'),
    ('READY', 'Ready'),
)
STAGE_INDEX = {state: i for i, (state, _) in enumerate(STAGES)}
RUNNING = frozenset({'STARTING', 'SCAFFOLD', 'CODE', 'DEPS', 'CHECKS'})
TERMINAL = frozenset({'READY', 'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED'})
STATUS = {
    'STARTING': 'Getting a workspace ready',
    'SLEEPING': 'Resting',
    'NEEDS_INPUT': 'Waiting for your answer',
    'READY': 'Ready',
    'FAILED': 'Stopped: something went wrong',
    'CANCELLED': 'Cancelled',
    'BUDGET_EXCEEDED': 'Budget exceeded',
}


class StageBar(SeqGuard, ui.card):
    """Five named stages; the current one blinks. Follows `build.stage.changed`, `agent.healing` (shown until the
    stage changes or the build resumes), `agent.resumed`, `agent.waking` and `build.done`."""

    def __init__(
        self,
        *,
        state: str,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        queue_position: int | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.stage = state if state in STAGE_INDEX else ('SCAFFOLD' if state in {'STARTING', 'QUEUED'} else '')
        self.started_at, self.finished_at, self.queue_position = started_at, finished_at, queue_position
        self.classes('w-full p-3').mark('stage-bar')
        with self:
            with ui.row().classes('w-full items-center gap-2 flex-wrap'):
                self.steps = [self._step(label) for _, label in STAGES]
            with ui.row().classes('w-full items-center gap-4 text-sm text-slate-500'):
                self.status = ui.label().mark('stage-status')
                self.healing = ui.label().classes('text-amber-700 font-medium').mark('healing')
                self.healing.set_visibility(False)
                self.elapsed = LiveClock().classes('ml-auto tabular-nums').mark('elapsed')
        self._render()

    @staticmethod
    def _step(label: str) -> tuple[Pulse, ui.icon, ui.label]:
        with ui.row().classes('items-center gap-1 px-2 py-1 rounded-full bg-slate-100 dark:bg-slate-800'):
            with Pulse() as pulse:
                icon = ui.icon('radio_button_unchecked', size='18px')
            text = ui.label(label).classes('text-sm')
        return pulse, icon, text

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event):
            return
        if isinstance(event, StageChanged):
            self._enter(event.to_state, event.at)
        elif isinstance(event, Healing):
            self.healing.set_text(f'Auto-fixing (attempt {event.attempt} of {event.max_attempts})')
            self.healing.set_visibility(True)
        elif isinstance(event, Resumed | Waking):
            self.healing.set_visibility(False)  # back to work after a decision or a rest: a fresh round
            return
        elif isinstance(event, BuildDone):
            self._enter(event.state, event.at)
        else:
            return
        self._render()

    def _enter(self, state: str, at: datetime) -> None:
        if state != self.state:
            self.healing.set_visibility(False)  # a new stage means the fix worked or was abandoned
        self.state = state
        if state in STAGE_INDEX:
            self.stage = state
        if state == 'STARTING' and self.started_at is None:
            self.started_at = at
        if state in TERMINAL:
            self.finished_at = at
        if state != 'QUEUED':
            self.queue_position = None

    def _render(self) -> None:
        current = STAGE_INDEX.get(self.stage, -1)
        for i, (pulse, icon, text) in enumerate(self.steps):
            name, color, working = self._look(i, current)
            icon.name = name
            icon.classes(replace=color)
            icon.update()
            pulse.set_active(working)
            text.classes(replace='text-sm font-semibold' if i == current else 'text-sm')
        self.status.set_text(self._status_text())
        word = 'Took' if self.finished_at else 'Elapsed'
        self.elapsed.set(since=self.started_at, until=self.finished_at, before=f'{word} ')

    def _look(self, i: int, current: int) -> tuple[str, str, bool]:
        if self.state == 'READY' or i < current:
            return 'check_circle', 'text-green-600', False
        if i != current:
            return 'radio_button_unchecked', 'text-slate-400', False
        if self.state in {'FAILED', 'BUDGET_EXCEEDED'}:
            return 'error', 'text-red-600', False
        if self.state == 'CANCELLED':
            return 'cancel', 'text-slate-500', False
        if self.state in {'SLEEPING', 'NEEDS_INPUT'}:
            return 'pause_circle', 'text-amber-600', False
        if self.state == 'QUEUED':
            return 'schedule', 'text-slate-400', False
        return 'autorenew', 'text-primary', True

    def _status_text(self) -> str:
        if self.state == 'QUEUED':
            return f'Waiting in line — position {self.queue_position}' if self.queue_position else 'Waiting in line'
        if self.state in STATUS:
            return STATUS[self.state]
        return dict(STAGES).get(self.state, self.state.replace('_', ' ').capitalize())
