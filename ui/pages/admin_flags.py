"""Admin · Feature flags (AD-3): each beta feature on or off for everyone, and overrides for one founder; the
audit log. The flags and what they gate are declared in core/flags.py."""

from __future__ import annotations

from nicegui import ui

from core import flags
from core.models import User
from core.services import Services
from ui import page_route
from ui.components.admin_audit import AuditLog
from ui.components.admin_frame import admin_frame, admin_user, attempt


def register(svc: Services) -> None:
    @page_route.page('/admin/flags', title='Admin · Feature flags · Cofounder')
    async def flags_page():  # type: ignore[no-untyped-def]
        actor = await admin_user(svc, '/admin/flags')
        if not isinstance(actor, User):
            return actor
        with admin_frame(svc, actor, 'Feature flags'):
            await FlagsPage(svc, actor).refresh()  # drawn before the page is sent
        return None


class FlagsPage:
    def __init__(self, svc: Services, actor: User) -> None:
        self.svc, self.actor = svc, actor
        ui.label(
            'A founder’s override wins over the global switch. A feature that is off is refused with a clear '
            'message, in the pages and in the API.'
        ).classes('text-sm text-slate-600 dark:text-slate-300')
        self.body = ui.column().classes('w-full gap-3')
        self.audit = AuditLog(svc, actor, 'flags')

    async def refresh(self) -> None:
        async with self.svc.sessions() as session:
            states = await flags.list_flags(session, actor=self.actor)
        self.body.clear()
        with self.body:
            for state in states:
                self._flag(state)
        await self.audit.refresh()

    async def _run(self, success: str, **change: object) -> None:
        async def run() -> None:
            async with self.svc.sessions() as session:
                if 'email' in change:
                    await flags.set_override(session, actor=self.actor, **change)  # type: ignore[arg-type]
                else:
                    await flags.set_global(session, actor=self.actor, **change)  # type: ignore[arg-type]

        await attempt(run, success)
        await self.refresh()

    def _flag(self, state: flags.FlagState) -> None:
        spec = state.spec
        with ui.card().classes('w-full gap-2').mark(f'flag-{spec.key}'):
            with ui.row().classes('items-center gap-2'):
                ui.label(spec.label).classes('text-lg font-semibold')
                if spec.beta:
                    ui.badge('Beta', color='purple').props('outline')
                ui.label(spec.key).classes('font-mono text-xs text-slate-500')
            ui.label(spec.description).classes('text-sm')
            ui.switch(
                'On for everyone without an override',
                value=state.enabled,
                on_change=lambda e: self._run(f'{spec.label}: {"on" if e.value else "off"}', key=spec.key,
                                              enabled=bool(e.value)),
            ).mark(f'flag-switch-{spec.key}')  # fmt: skip
            for _user_id, who, enabled in state.overrides:
                with ui.row().classes('items-center gap-2 text-sm').mark(f'override-{spec.key}-{who}'):
                    ui.label(f'{who}: {"on" if enabled else "off"}')
                    ui.button('Remove', on_click=lambda e=who: self._run(f'Override for {e} removed', key=spec.key,
                                                                            email=e, enabled=None)).props(
                        'flat dense').mark(f'override-remove-{spec.key}-{who}')  # fmt: skip
            with ui.row().classes('items-end gap-2'):
                email = ui.input('Founder’s email').classes('w-64').mark(f'override-email-{spec.key}')
                value = (
                    ui.select({True: 'On', False: 'Off'}, value=True, label='For them')
                    .classes('w-28')
                    .mark(f'override-value-{spec.key}')
                )
                ui.button('Add override', on_click=lambda: self._run(
                    f'Override for {email.value} saved', key=spec.key, email=email.value or '',
                    enabled=bool(value.value))).props('outline dense').mark(f'override-add-{spec.key}')  # fmt: skip
