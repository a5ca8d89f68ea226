"""The page frame: header, navigation, user menu, dark mode."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from core.models import User
from ui import auth

NAV = (('Dashboard', '/'), ('New project', '/projects/new'))


@contextmanager
def frame(title: str, user: User, *, offline_model: bool = False) -> Iterator[ui.column]:
    """Header + navigation + a centred content column; yields the column."""
    dark = ui.dark_mode(app.storage.user.get('dark_mode', False))
    ui.page_title(f'{title} · Cofounder')
    ui.colors(primary='#4f46e5')
    with ui.header().classes(
        'items-center justify-between bg-white text-slate-800 shadow-sm dark:bg-slate-900 dark:text-slate-100'
    ):
        with ui.row().classes('items-center gap-6'):
            ui.link('Cofounder', '/').classes('text-xl font-bold text-primary no-underline')
            for label, target in NAV + ((('Admin', '/admin'),) if user.is_admin else ()):
                ui.link(label, target).classes(
                    'text-slate-600 dark:text-slate-300 no-underline hover:text-primary'
                ).mark(f'nav-{label.lower().replace(" ", "-")}')
        with ui.row().classes('items-center gap-2'):
            if offline_model:
                ui.badge('Offline model', color='amber').props('outline').tooltip(
                    'No model key is configured: the built-in offline model drives the agent.'
                )

            def toggle_dark() -> None:
                dark.value = not dark.value
                app.storage.user['dark_mode'] = dark.value

            ui.button(icon='dark_mode', on_click=toggle_dark).props('flat round').tooltip('Dark mode')
            with ui.button(icon='account_circle').props('flat round').mark('user-menu'):
                with ui.menu():
                    ui.menu_item(user.email).props('disable')
                    ui.menu_item('Log out', on_click=auth.sign_out).mark('logout')
    with ui.column().classes('w-full max-w-6xl mx-auto p-4 gap-4') as content:
        yield content
