"""What the agent is doing right now, in one card (UI-4): Building, Resting, Needs your input, Error, Budget.

Needs your input (AG-8) asks from the `Escalated` event (live or replayed): the problem, what was tried, the
recommendation, each option as a button and a short answer in the founder's own words. The card does not
answer itself: the page passes `answer`, which stores the decision and returns whether it was taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
FREE_TEXT_LIMIT = 2000  # as core.builds.escalations accepts
STOP = 'Stop here'  # the option that ends the build (core.builds.escalations.STOP)
MODE_OF_STATE = {
    'QUEUED': 'queued',
    'SLEEPING': 'resting',
    'NEEDS_INPUT': 'needs_input',
    'FAILED': 'error',
    'BUDGET_EXCEEDED': 'budget',
    'READY': 'ready',
    'CANCELLED': 'cancelled',
}


Answer = Callable[[str], Awaitable[bool]]


class AgentCard(SeqGuard, ui.card):
    def __init__(
        self,
        *,
        state: str,
        started_at: datetime | None = None,
        wake_at: datetime | None = None,
        error: str = '',
        answer: Answer | None = None,
    ) -> None:
        super().__init__()
        self.mode = MODE_OF_STATE.get(state, 'building' if state in RUNNING else 'queued')
        self.started_at, self.wake_at, self.error = started_at, wake_at, error
        self.answer = answer
        self.escalation: Escalated | None = None
        self.asking: Escalated | None = None  # the escalation whose controls are drawn
        self.controls: list[ui.button | ui.input] = []
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
        asking = self.escalation if self.mode == 'needs_input' else None
        if asking is not self.asking:  # drawn once per escalation, so a half-typed answer survives other events
            self.asking, self.controls = asking, []
            self.options.clear()
            if asking is not None:
                self._render_escalation(asking)
        self._render_detail()

    def _render_escalation(self, escalation: Escalated) -> None:
        with self.options:
            if escalation.tried:
                ui.label('What I tried:').classes('text-sm font-medium text-slate-600 dark:text-slate-300')
                with ui.column().classes('gap-0 w-full').mark('escalation-tried'):
                    for line in escalation.tried:
                        ui.label(line).classes('text-sm text-slate-500')
            if escalation.recommendation:
                ui.label(f'I recommend: {escalation.recommendation}').classes('text-sm font-medium').mark(
                    'escalation-recommendation'
                )
            recommended = [o for o in escalation.options if o == escalation.recommendation]
            with ui.column().classes('gap-2 w-full pt-1'):
                for option in [*recommended, *(o for o in escalation.options if o not in recommended)]:
                    self.controls.append(self._option(option, recommended=option in recommended))
            ui.label('Or answer in your own words:').classes('text-sm text-slate-600 dark:text-slate-300 pt-1')
            with ui.row().classes('w-full items-start gap-1 no-wrap'):
                text = (
                    ui.input(placeholder='Your answer')
                    .props(f'dense outlined maxlength={FREE_TEXT_LIMIT} aria-label="Your answer"')
                    .classes('grow')
                    .mark('escalation-answer')
                )
                send = (
                    ui.button(icon='send', on_click=lambda: self._send(text.value or ''))
                    .props('flat round color=primary aria-label="Send your answer"')
                    .tooltip('Send')
                    .mark('escalation-send')
                )
                text.on('keydown.enter', lambda: self._send(text.value or ''))
            self.controls += [text, send]
        if self.answer is None:  # shown, but nobody to take an answer here
            for control in self.controls:
                control.disable()

    def _option(self, option: str, *, recommended: bool) -> ui.button:
        if recommended:
            look = 'unelevated no-caps color=primary'
        elif option == STOP:
            look = 'outline no-caps color=negative'
        else:
            look = 'outline no-caps'
        button = ui.button(option, on_click=lambda: self._send(option)).props(look).classes('w-full')
        return button.mark('escalation-option', *(['recommended-option'] if recommended else []))

    async def _send(self, choice: str) -> None:
        """Give the founder's choice to the page; the controls wait meanwhile, and come back if it was not taken."""
        if self.answer is None or any(not c.enabled for c in self.controls):
            return
        if not choice.strip():
            ui.notify('Pick an option, or write your answer first.', type='warning')
            return
        controls = list(self.controls)
        for control in controls:
            control.disable()
        taken = False
        try:
            taken = await self.answer(choice.strip())
        finally:
            if not taken:
                for control in controls:
                    if not control.is_deleted:
                        control.enable()

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
