"""Sign-up / log-in pages and the signed-in user of a page (J-1).

The session is NiceGUI's `app.storage.user` (server-side files in the data dir, keyed by a signed
browser cookie), so it survives a restart. Pages call `page_user` and return its response when it
is not a user: a redirect to the login page, or a refusal for non-admins.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from core import accounts
from core.builds.preview import revoke_user_previews
from core.errors import InvalidInput
from core.models import User
from core.services import Services
from ui import palette

PUBLIC_PATHS = ('/login', '/signup')


async def current_user(svc: Services) -> User | None:
    async with svc.sessions() as session:
        user = await accounts.active_user(session, app.storage.user.get('user_id'))
    if user is None:
        app.storage.user.pop('user_id', None)
    return user


async def page_user(svc: Services, path: str) -> User | RedirectResponse:
    """The signed-in user, or a redirect to the login page that comes back to `path` (to sign-up while nobody
    has an account yet: the first visitor of a fresh install has nothing to log in with)."""
    user = await current_user(svc)
    if user is None:
        async with svc.sessions() as session:
            entry = '/login' if await accounts.has_accounts(session) else '/signup'
        return RedirectResponse(f'{entry}?next={quote(path)}', status_code=303)
    return user


def safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce a founder to another site."""
    if not target or not target.startswith('/') or target.startswith('//') or '\\' in target:
        return '/'
    return target


def sign_in(user: User, target: str | None) -> None:
    app.storage.user['user_id'] = str(user.id)
    ui.navigate.to(safe_next(target))


async def sign_out() -> None:
    """Ends the session and revokes the founder's preview links (issue 29)."""
    user_id = app.storage.user.get('user_id')
    app.storage.user.clear()
    if user_id:
        await revoke_user_previews(app.state.services.sessions, uuid.UUID(user_id))
    ui.navigate.to('/login')


def _card(title: str) -> ui.card:
    palette.apply()  # the same colours and dark mode as the app behind the door
    with ui.element('main').classes('w-full flex flex-col items-center px-4 pt-10 sm:pt-16'):
        ui.label('Cofounder').classes('text-3xl font-bold text-primary')
        ui.label('Your AI co-founder: from idea to a running MVP.').classes(
            'text-slate-600 dark:text-slate-300 mb-4 text-center'
        )
        card = ui.card().classes('w-full max-w-sm p-6')
    with card:
        ui.label(title).classes('text-xl font-semibold').props('role=heading aria-level=1')
    return card


def register(svc: Services) -> None:
    @ui.page('/login', title='Log in · Cofounder')
    async def login_page(request: Request, next: str = '/') -> None:  # noqa: A002 - the query parameter is called next
        address = request.client.host if request.client else None
        with _card('Log in'):
            email = ui.input('Email').props('type=email autocomplete=username autofocus').classes('w-full')
            password = ui.input('Password', password=True).props('autocomplete=current-password').classes('w-full')
            error = ui.label().classes('text-negative text-sm').mark('auth-error')

            async def submit() -> None:
                try:
                    async with svc.sessions() as session:
                        user = await accounts.log_in(
                            session, email=email.value, password=password.value, address=address
                        )
                except InvalidInput as problem:
                    error.set_text(str(problem))
                    return
                sign_in(user, next)

            password.on('keydown.enter', submit)
            ui.button('Log in', on_click=submit).classes('w-full').mark('login-button')
            with ui.row().classes('text-sm'):
                ui.label('New here?')
                ui.link('Create an account', f'/signup?next={quote(next)}')
            ui.link('Forgot password?', '/forgot').classes('text-sm').mark('forgot-link')

    @ui.page('/signup', title='Sign up · Cofounder')
    async def signup_page(next: str = '/') -> None:  # noqa: A002
        with _card('Create your account'):
            email = ui.input('Email').props('type=email autocomplete=username autofocus').classes('w-full')
            password = ui.input('Password', password=True).props('autocomplete=new-password').classes('w-full')
            ui.label(f'At least {accounts.MIN_PASSWORD} characters.').classes(
                'text-xs text-slate-600 dark:text-slate-300'
            )
            error = ui.label().classes('text-negative text-sm').mark('auth-error')

            async def submit() -> None:
                try:
                    async with svc.sessions() as session:
                        user = await accounts.sign_up(
                            session, email=email.value, password=password.value, admin_email=svc.settings.ADMIN_EMAIL
                        )
                except InvalidInput as problem:
                    error.set_text(str(problem))
                    return
                sign_in(user, next)

            password.on('keydown.enter', submit)
            ui.button('Create account', on_click=submit).classes('w-full').mark('signup-button')
            with ui.row().classes('text-sm'):
                ui.label('Already have an account?')
                ui.link('Log in', f'/login?next={quote(next)}')
