"""What the agent is doing right now, in one card (UI-4): Building, Resting, Needs your input, Error, Budget."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from core.events import BuildDone, BuildEvent, Escalated, Resumed, Sleeping, StageChanged, Waking
from ui.components.clock import LiveClock
from ui.components.stage_bar import RUNNING
from ui.live import SeqGuard

LOOKS = {  # mode → (icon, colour, title)
    'queued': ('schedule', 'text-slate-500', 'Waiting for a free builder'),
    'building': ('construction', 'text-primary', 'Building'),
    'resting': ('bedtime', 'text-indigo-500', 'Resting'),
    'needs_input': ('help', 'text-amber-600', 'Needs your input'),
    'error': ('error', 'text-red-600', 'Error'),
    'budget': ('account_balance_wallet', 'text-red-600', 'Budget exceeded'),
    'ready': ('celebration', 'text-green-600', 'Done'),
    'cancelled': ('cancel', 'text-slate-500', 'Cancelled'),
}
MODE_OF_STATE = {
    'QUEUED': 'queued',
    'SLEEPING': 'resting',
    'NEEDS_INPUT': 'needs_input',
    'FAILED': 'error',
    'BUDGET_EXCEEDED': 'budget',
    'READY': 'ready',
    'CANCELLED': 'cancelled',
}


class AgentCard(SeqGuard, ui.card):
    def __init__(
        self, *, state: str, started_at: datetime | None = None, wake_at: datetime | None = None, error: str = ''
    ) -> None:
        super().__init__()
        self.mode = MODE_OF_STATE.get(state, 'building' if state in RUNNING else 'queued')
        self.started_at, self.wake_at, self.error = started_at, wake_at, error
        self.escalation: Escalated | None = None
        self.done_today = ''
        self.classes('w-full p-4 gap-2').mark('agent-card')
        with self:
            with ui.row().classes('items-center gap-2'):
                self.icon = ui.icon('construction', size='28px')
                self.title = ui.label().classes('text-lg font-semibold').mark('agent-state')
            detail_classes = 'text-sm text-slate-600 dark:text-slate-300 whitespace-pre-line'
            self.detail = ui.label().classes(detail_classes)
            self.clock = LiveClock().classes(detail_classes)
            self.options = ui.column().classes('gap-1 w-full')
        self._render()

    def apply(self, event: BuildEvent) -> None:
        if not self.fresh(event):
            return
        if isinstance(event, StageChanged):
            if event.to_state == 'STARTING' and self.started_at is None:
                self.started_at = event.at
            if event.to_state in {'FAILED', 'BUDGET_EXCEEDED'} and event.reason:
                self.error = event.reason
            self.mode = MODE_OF_STATE.get(event.to_state, 'building' if event.to_state in RUNNING else self.mode)
        elif isinstance(event, Sleeping):
            self.mode, self.wake_at, self.done_today = 'resting', event.wake_at, event.done_today
        elif isinstance(event, Escalated):
            self.mode, self.escalation = 'needs_input', event
        elif isinstance(event, Waking | Resumed):
            self.mode = 'building'
        elif isinstance(event, BuildDone):
            if event.state in {'FAILED', 'BUDGET_EXCEEDED'} and event.summary:
                self.error = event.summary
            self.mode = MODE_OF_STATE.get(event.state, self.mode)
        else:
            return
        self._render()

    def _render(self) -> None:
        icon, colour, title = LOOKS[self.mode]
        self.icon.name = icon
        self.icon.classes(replace=colour)
        self.icon.update()
        self.title.set_text(title)
        self.options.clear()
        if self.mode == 'needs_input' and self.escalation is not None:
            self._render_escalation(self.escalation)
        self._render_detail()

    def _render_escalation(self, escalation: Escalated) -> None:
        with self.options:
            if escalation.tried:
                ui.label('What I tried: ' + '; '.join(escalation.tried)).classes('text-sm text-slate-500')
            if escalation.recommendation:
                ui.label(f'I recommend: {escalation.recommendation}').classes('text-sm')
            with ui.row().classes('gap-1 flex-wrap'):
                for option in escalation.options:
                    ui.chip(option, icon='arrow_right').props('outline').mark('escalation-option')

    def _render_detail(self) -> None:
        """Building and resting tell the time (counted in the browser); the other modes a sentence."""
        timed = self.mode in {'building', 'resting'}
        self.clock.set_visibility(timed)
        self.detail.set_visibility(not timed or (self.mode == 'resting' and bool(self.done_today)))
        if self.mode == 'resting':
            self.detail.set_text(self.done_today)
        if self.mode == 'building':
            working = 'I am working on your app'
            self.clock.set(since=self.started_at, before=f'{working} for ', after='.', idle=f'{working}.')
        elif self.mode == 'resting':
            spent = "Today's budget is spent."
            self.clock.set(
                until=self.wake_at,
                countdown=True,
                before=f'{spent} Back to work in ',
                after='.',
                done=f'{spent} Back to work any moment now.',
                idle=f'{spent} I will pick up again automatically.',
            )
        else:
            self.detail.set_text(self._detail())

    def _detail(self) -> str:
        if self.mode == 'needs_input':
            return self.escalation.problem if self.escalation else 'I am stuck and need a decision from you.'
        if self.mode == 'error':
            return self.error or 'The build stopped because something went wrong.'
        if self.mode == 'budget':
            return self.error or 'This build went past its budget and stopped.'
        if self.mode == 'ready':
            return 'Your app is built and running.'
        if self.mode == 'cancelled':
            return 'You cancelled this build.'
        return 'Your build starts as soon as a builder is free.'
