"""`/reset/{token}` (J-1): a founder sets a new password with the link an administrator gave them
(core/password_reset.py: single-use, expiring). Nobody needs to be signed in."""

from __future__ import annotations

from nicegui import ui

from core import accounts, password_reset
from core.errors import CofounderError
from core.services import Services
from ui import page_route


def register(svc: Services) -> None:
    @page_route.page('/reset/{token}', title='Choose a new password · Cofounder')
    async def reset_page(token: str) -> None:
        ui.query('body').classes('bg-slate-50 dark:bg-slate-900')
        with ui.column().classes('w-full items-center pt-16'):
            ui.label('Cofounder').classes('text-3xl font-bold text-primary')
            card = ui.card().classes('w-full max-w-sm p-6 gap-3')
        with card:
            ui.label('Choose a new password').classes('text-xl font-semibold').props('role=heading aria-level=1')
            try:
                async with svc.sessions() as session:
                    user = await password_reset.user_for(session, token)
            except CofounderError as problem:
                ui.label(str(problem)).classes('text-negative').mark('reset-error')
                ui.link('Log in', '/login')
                return
            ui.label(f'For {user.email}').classes('text-sm text-slate-500')
            form = ui.column().classes('w-full gap-2')
            with form:
                password = ui.input('New password', password=True).props('autocomplete=new-password').classes('w-full')
                password.mark('reset-password')
                again = ui.input('The same password again', password=True).props('autocomplete=new-password')
                again.classes('w-full').mark('reset-password-again')
                ui.label(f'At least {accounts.MIN_PASSWORD} characters.').classes('text-xs text-slate-500')
            error = ui.label().classes('text-negative text-sm').mark('reset-error')

            async def submit() -> None:
                if (password.value or '') != (again.value or ''):
                    error.set_text('The two passwords differ: type the same one twice.')
                    return
                try:
                    async with svc.sessions() as session:
                        await password_reset.reset(session, token=token, password=password.value or '')
                except CofounderError as problem:
                    error.set_text(str(problem))
                    return
                form.clear()
                error.set_text('')
                with form:
                    ui.label('Your new password is set.').classes('font-medium').mark('reset-done')
                    ui.link('Log in with it', '/login')

            with form:
                ui.button('Set the new password', on_click=submit).classes('w-full').mark('reset-submit')
