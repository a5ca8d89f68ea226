"""What this build has spent so far and which model works on it (BU-2, BU-7), on the build page.

Drawn from the job row, then moved by the `budget.updated` events the pipeline appends after every model
call: each carries the build's running totals, not the call's share.
"""

from __future__ import annotations

from nicegui import ui

from core.builds.holds import dollars
from core.events import BudgetUpdated, BuildEvent
from ui.live import SeqGuard


def spent_text(tokens: int, cost_microdollars: int) -> str:
    return f'This build so far: {tokens:,} tokens · {dollars(cost_microdollars)}'


class BudgetMeter(SeqGuard, ui.card):
    def __init__(self, *, tokens: int = 0, cost_microdollars: int = 0, model: str) -> None:
        super().__init__()
        self.tokens, self.cost = tokens, cost_microdollars
        self.classes('w-full p-4 gap-1').mark('budget-meter')
        with self:
            with ui.row().classes('items-center gap-2'):
                ui.icon('account_balance_wallet', size='20px').classes('text-slate-500')
                self.spent = ui.label(spent_text(tokens, cost_microdollars)).classes('text-sm').mark('build-spent')
            ui.label(f'Model: {model}').classes('text-sm text-slate-600 dark:text-slate-300').mark('build-model')

    def apply(self, event: BuildEvent) -> None:
        if not isinstance(event, BudgetUpdated) or not self.fresh(event):
            return
        # Totals only grow: a replay of older events must not show less than the row the page was drawn from.
        self.tokens = max(self.tokens, event.input_tokens + event.output_tokens)
        self.cost = max(self.cost, event.cost_microdollars)
        self.spent.set_text(spent_text(self.tokens, self.cost))
