"""Gate 1 — direction (J-5): proceed / narrow / pivot / park, with the founder's reason.

The card only draws and collects; the page passes `on_decide(decision, reason)`, which calls the core
and moves on. A domain error raised by it is shown as is; a model failure offers a retry that keeps
the reason the founder typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.errors import CofounderError, ModelUnavailable
from core.models import DecisionGate

Decide = Callable[[str, str], Awaitable[None]]

CHOICES = {
    'proceed': ('Proceed', 'arrow_forward', 'The brief is right: choose a plan and build it.'),
    'narrow': ('Narrow', 'filter_center_focus', 'Keep the idea, make the first version smaller.'),
    'pivot': ('Pivot', 'alt_route', 'Change direction: say how, and I will rewrite the brief.'),
    'park': ('Park', 'pause', 'Pause this project. You can unpark it any time.'),
}
WORKING = {
    'proceed': 'Preparing your plan options…',
    'narrow': 'Narrowing your Idea Brief…',
    'pivot': 'Rewriting your Idea Brief for the new direction…',
    'park': 'Parking the project…',
}


class GateCard(ui.card):
    """The pending direction gate as a card of four choices and one reason field."""

    def __init__(self, gate: DecisionGate, on_decide: Decide) -> None:
        super().__init__()
        self.on_decide = on_decide
        self.last: str | None = None
        self.classes('w-full p-5 gap-3 border-l-4 border-primary').mark('gate-card')
        with self:
            ui.label('Decide the direction').classes('text-lg font-semibold')
            ui.label('You have read the brief. What next? Your reason is recorded on the timeline.').classes(
                'text-slate-500 text-sm'
            )
            self.reason = (
                ui.textarea('Your reason', value=gate.reason or '')  # short: a long label is cut on a phone
                .props('outlined autogrow hint="Needed for narrow, pivot and park"')
                .classes('w-full')
                .mark('gate-reason')
            )
            with ui.row().classes('w-full gap-2 flex-wrap'):
                self.buttons = [self._choice(key) for key in gate.options if key in CHOICES]
            with ui.row().classes('items-center gap-2') as self.progress:
                ui.spinner(size='sm')
                self.progress_label = ui.label().mark('gate-progress')
            self.progress.visible = False
            with ui.row().classes('items-center gap-2'):
                self.error = ui.label().classes('text-negative').props('role=alert').mark('gate-error')
                self.retry = ui.button('Retry', icon='refresh', on_click=self._retry).props('flat').mark('gate-retry')
            self.retry.visible = False

    def _choice(self, key: str) -> ui.button:
        label, icon, hint = CHOICES[key]
        button = ui.button(label, icon=icon, on_click=lambda k=key: self.decide(k)).mark(f'gate-{key}')
        button.props('unelevated' if key == 'proceed' else 'outline')
        with button:  # above the button: below it, the hint would cover the error its own click may show
            ui.tooltip(hint).props('anchor="top middle" self="bottom middle" :offset="[0, 8]"')
        return button

    async def _retry(self) -> None:
        if self.last:
            await self.decide(self.last)

    async def decide(self, decision: str) -> None:
        self.last = decision
        self.error.set_text('')
        self.retry.visible = False
        self.progress_label.set_text(WORKING.get(decision, 'Working…'))
        self.progress.visible = True
        for button in self.buttons:
            button.disable()
        try:
            await self.on_decide(decision, (self.reason.value or '').strip())
        except CofounderError as problem:
            self.error.set_text(str(problem))
            self.retry.visible = isinstance(problem, ModelUnavailable)
        finally:
            if not self.is_deleted:
                self.progress.visible = False
                for button in self.buttons:
                    button.enable()
