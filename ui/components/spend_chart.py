"""What a founder spent this period (BU-2): one bar per day of the period, today's highlighted, and the totals
against the allowance in words. Plain HTML bars: no chart library, and every figure is also text (a tooltip
and a screen-reader label per bar), so the chart reads without seeing it."""

from __future__ import annotations

from datetime import datetime, timedelta

from nicegui import ui

from core.builds.holds import dollars
from core.spending import DaySpend, SpendReport

MIN_BAR_PERCENT = 4  # a day with any spend stays visible next to a day that spent a hundred times more


def day_label(at: datetime, day_length: timedelta) -> str:
    """'Dec 3'; a demo tier's short day also needs the time to tell its days apart."""
    label = f'{at:%b} {at.day}'
    return f'{label} {at:%H:%M}' if day_length < timedelta(days=1) else label


def bar_text(day: DaySpend, day_length: timedelta) -> str:
    return f'{day_label(day.start, day_length)}: {day.tokens:,} tokens, {dollars(day.cost_microdollars)}'


def period_line(report: SpendReport) -> str:
    allowance, spent = report.allowance, report.spent
    line = f'This period: {spent.tokens:,} tokens ({dollars(spent.cost_microdollars)})'
    line += f' of {allowance.period_tokens:,} tokens'
    if allowance.period_cost is not None:
        line += f' ({dollars(allowance.period_cost)})'
    return line


def today_line(report: SpendReport) -> str:
    """Today's allowance is the founder's, shared by all their projects: a project's page says so."""
    allowance = report.allowance
    where = ', all your projects' if report.project_id is not None else ''
    return f'Today{where}: {allowance.spent_today.tokens:,} of {allowance.daily_tokens:,} tokens'


def renews_line(report: SpendReport) -> str:
    allowance = report.allowance
    return f'Renews {day_label(allowance.period.end, allowance.day.end - allowance.day.start)}'


class SpendChart(ui.column):
    """The period so far from a `SpendReport`: bars per day (days to come as faint slots), then the totals."""

    def __init__(self, report: SpendReport) -> None:
        super().__init__()
        self.classes('w-full gap-2').mark('spend-chart')
        with self:
            self._bars(report)
            ui.label(period_line(report)).classes('text-sm font-medium').mark('spend-period')
            with ui.row().classes('w-full justify-between text-sm text-slate-600 dark:text-slate-300 gap-2'):
                ui.label(today_line(report)).mark('spend-today')
                ui.label(renews_line(report)).mark('spend-renews')

    def _bars(self, report: SpendReport) -> None:
        day_length = report.allowance.day.end - report.allowance.day.start
        peak = max((day.tokens for day in report.days), default=0)
        row = ui.element('div').classes('w-full h-16 flex items-end gap-px')
        row.props['role'] = 'list'
        row.props['aria-label'] = 'Spend per day this period'
        with row:
            for day in report.days:
                self._bar(day, peak, day_length)
            for _ in range(report.allowance.days_left - 1):  # the days to come, so the row spans the period
                ui.element('div').classes('flex-1 h-px bg-slate-200 dark:bg-slate-700').props('aria-hidden=true')

    @staticmethod
    def _bar(day: DaySpend, peak: int, day_length: timedelta) -> None:
        percent = max(day.tokens * 100 // peak, MIN_BAR_PERCENT) if day.tokens and peak else 0
        colour = 'bg-primary' if day.today else 'bg-indigo-200 dark:bg-indigo-800'
        bar = ui.element('div').classes(f'flex-1 rounded-t-sm {colour}').style(f'height: max({percent}%, 1px)')
        text = bar_text(day, day_length)
        bar.props['title'] = text
        bar.props['role'] = 'listitem'
        with bar:
            ui.label(text).classes('sr-only')  # what the bar shows, for screen readers
        if day.today:
            bar.mark('spend-bar-today')
