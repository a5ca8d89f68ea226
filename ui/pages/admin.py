"""Admin: users (AD-1) — search, tier, role, suspension."""

from __future__ import annotations

from nicegui import ui
from nicegui.events import ValueChangeEventArguments
from sqlmodel import select

from core import accounts
from core.admin_settings import builds_enabled, set_setting
from core.errors import CofounderError
from core.models import Tier, User
from core.services import Services
from ui import auth, theme


def register(svc: Services) -> None:
    @ui.page('/admin', title='Admin · Cofounder')
    async def admin_page():  # type: ignore[no-untyped-def]
        actor = await auth.page_user(svc, '/admin')
        if not isinstance(actor, User):
            return actor
        with theme.frame('Admin', actor, offline_model=svc.offline_model):
            if not actor.is_admin:
                with ui.card().classes('w-full p-8').mark('admin-refused'):
                    ui.label('This page is for administrators.').classes('text-lg')
                    ui.link('Back to your dashboard', '/')
                return None
            await _builds_switch(svc, actor)
            ui.label('Users').classes('text-2xl font-semibold')
            async with svc.sessions() as session:
                tiers = [t.name for t in (await session.exec(select(Tier))).all()]
            search = (
                ui.input('Search by email', on_change=lambda: users.refresh())
                .props('clearable')
                .classes('w-80')
                .mark('user-search')
            )

            @ui.refreshable
            async def users() -> None:
                async with svc.sessions() as session:
                    rows = await accounts.list_users(session, actor=actor, search=search.value or '')
                if not rows:
                    ui.label('No users match.').classes('text-slate-500')
                for row in rows:
                    _user_row(svc, actor, row, tiers, users.refresh)

            await users()
        return None


async def _builds_switch(svc: Services, actor: User) -> None:
    """AG-10: the kill switch for autonomous builds (running builds finish; new ones are refused)."""
    async with svc.sessions() as session:
        enabled = await builds_enabled(session)

    async def change(event: ValueChangeEventArguments) -> None:
        async with svc.sessions() as session:
            await set_setting(session, actor=actor, key='autonomous_builds', value={'enabled': bool(event.value)})
        ui.notify(
            'Autonomous builds are on' if event.value else 'Autonomous builds are off: new builds are refused',
            type='positive' if event.value else 'warning',
        )

    with ui.card().classes('w-full'):
        ui.label('Builds').classes('text-xl font-semibold')
        ui.switch('Autonomous builds allowed', value=enabled, on_change=change).mark('builds-switch')
        ui.label('When off, founders who press Build are told builds are paused; running builds finish.').classes(
            'text-sm text-slate-500'
        )


def _user_row(svc: Services, actor: User, row: User, tiers: list[str], refresh) -> None:  # type: ignore[no-untyped-def]
    async def update(**change: object) -> None:
        try:
            async with svc.sessions() as session:
                await accounts.update_user(session, actor=actor, user_id=row.id, **change)  # type: ignore[arg-type]
            ui.notify(f'Updated {row.email}', type='positive')
        except CofounderError as problem:
            ui.notify(str(problem), type='negative')
        refresh()

    with ui.card().classes('w-full').mark(f'user-{row.email}'):
        with ui.row().classes('w-full items-center justify-between'):
            with ui.column().classes('gap-0'):
                ui.label(row.email).classes('font-medium')
                status = 'Suspended' if row.suspended else 'Active'
                ui.label(f'{row.role.capitalize()} · {status}').classes('text-sm text-slate-500')
            with ui.row().classes('items-center'):
                ui.select(tiers, value=row.tier, label='Tier', on_change=lambda e: update(tier=e.value)).classes(
                    'w-40'
                ).mark(f'tier-{row.email}')
                ui.select(
                    list(accounts.ROLES), value=row.role, label='Role', on_change=lambda e: update(role=e.value)
                ).classes('w-32').mark(f'role-{row.email}')
                label = 'Unsuspend' if row.suspended else 'Suspend'
                ui.button(label, on_click=lambda: update(suspended=not row.suspended)).props(
                    'outline' if row.suspended else 'color=negative outline'
                ).mark(f'suspend-{row.email}')
