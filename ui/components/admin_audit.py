"""The audit log on each admin page (AD-1…AD-5): the newest changes of its area — who, when, what, before, after."""

from __future__ import annotations

from nicegui import ui

from core import audit
from core.models import User
from core.services import Services
from ui.components.admin_frame import when


class AuditLog:
    """A card listing the area's latest entries; `refresh()` after every change the page makes."""

    def __init__(self, svc: Services, actor: User, area: str, *, limit: int = 30) -> None:
        self.svc, self.actor, self.area, self.limit = svc, actor, area, limit
        with ui.card().classes('w-full gap-1').mark('audit-log'):
            ui.label('Audit log').classes('text-xl font-semibold')
            ui.label('Every change made on this page: who, when, what, before and after.').classes(
                'text-sm text-slate-500'
            )
            self.body = ui.column().classes('w-full gap-0')

    async def refresh(self) -> None:
        async with self.svc.sessions() as session:
            entries = await audit.recent(session, actor=self.actor, area=self.area, limit=self.limit)
        self.body.clear()
        with self.body:
            if not entries:
                ui.label('No changes yet.').classes('text-sm text-slate-500').mark('audit-empty')
            for entry in entries:
                with (
                    ui.row().classes('w-full gap-x-3 gap-y-0 border-t py-1 text-sm items-baseline').mark('audit-entry')
                ):
                    ui.label(when(entry.at)).classes('text-slate-500')
                    ui.label(entry.actor_email).classes('font-medium')
                    ui.label(entry.action).classes('font-mono text-xs')
                    ui.label(entry.target)
                    ui.label(f'{audit.describe(entry.before)} → {audit.describe(entry.after)}').classes(
                        'text-slate-600 dark:text-slate-300'
                    )
