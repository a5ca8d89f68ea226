"""The page frame: header, navigation (a menu on a phone), user menu, dark mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from core.models import User
from ui import auth, palette

NAV = (('Dashboard', '/'), ('New project', '/projects/new'))
OFFLINE_HINT = 'No model key is configured: the built-in offline model drives the agent.'


def _nav(user: User) -> tuple[tuple[str, str], ...]:
    return NAV + ((('Admin', '/admin'),) if user.is_admin else ())


def _marker(label: str) -> str:
    return label.lower().replace(' ', '-')


def _phone_menu(user: User, offline_model: bool) -> None:
    """Below 640 px the links would wrap the header onto two rows: they live behind one menu button instead."""
    with ui.button(icon='menu').props('flat round aria-label="Menu"').classes('sm:hidden').mark('nav-menu'):
        with ui.menu():
            for label, target in _nav(user):
                ui.menu_item(label, on_click=lambda t=target: ui.navigate.to(t)).mark(f'menu-nav-{_marker(label)}')
            if offline_model:
                ui.menu_item('Offline model').props('disable').tooltip(OFFLINE_HINT)


def _header(user: User, offline_model: bool, dark: ui.dark_mode) -> None:
    with ui.header().classes(
        # bg-[#fff], not bg-white: Quasar's bg-white is !important and would keep the header white in dark mode.
        'items-center justify-between no-wrap px-2 sm:px-4 py-1 bg-[#fff] text-slate-800 shadow-sm '
        'dark:bg-slate-800 dark:text-slate-100'
    ):
        with ui.row().classes('items-center gap-2 sm:gap-6 no-wrap min-w-0'):
            _phone_menu(user, offline_model)
            ui.link('Cofounder', '/').classes('text-xl font-bold text-primary no-underline')
            for label, target in _nav(user):
                ui.link(label, target).classes(
                    'max-sm:hidden text-slate-700 dark:text-slate-200 no-underline hover:text-primary'
                ).mark(f'nav-{_marker(label)}')
        with ui.row().classes('items-center gap-1 sm:gap-2 no-wrap'):
            if offline_model:
                ui.label('Offline model').classes(
                    'max-sm:hidden text-xs px-2 py-0.5 rounded border border-amber-600 text-amber-800 '
                    'dark:border-amber-400 dark:text-amber-200'
                ).tooltip(OFFLINE_HINT)

            def toggle_dark() -> None:
                dark.value = not dark.value
                app.storage.user['dark_mode'] = dark.value

            ui.button(icon='dark_mode', on_click=toggle_dark).props('flat round aria-label="Toggle dark mode"').tooltip(
                'Dark mode'
            ).mark('dark-toggle')
            with ui.button(icon='account_circle').props('flat round aria-label="Account"').mark('user-menu'):
                with ui.menu():
                    ui.menu_item(user.email).props('disable')
                    ui.menu_item('Your account', on_click=lambda: ui.navigate.to('/account')).mark('menu-account')
                    ui.menu_item('Log out', on_click=auth.sign_out).mark('logout')


@contextmanager
def frame(
    title: str, user: User, *, offline_model: bool = False, project_id: uuid.UUID | None = None, chat: bool = False
) -> Iterator[ui.column]:
    """Header + navigation + a centred content column; yields the column. The co-founder chat floats over the
    project's pages (`project_id`) and the dashboard (`chat`)."""
    dark = palette.apply()
    ui.page_title(f'{title} · Cofounder')
    _header(user, offline_model, dark)
    if project_id is not None or chat:
        from ui.components.chat import chat_button

        chat_button(user, project_id)  # UI-9, outside the content: it keeps its place over every page
    with ui.column().classes('w-full max-w-6xl mx-auto p-3 sm:p-4 gap-4 min-w-0') as content:
        yield content
