"""Sign-up / log-in pages and the signed-in user of a page (J-1).

The session is NiceGUI's `app.storage.user` (server-side files in the data dir, keyed by a signed
browser cookie), so it survives a restart. Pages call `page_user` and return its response when it
is not a user: a redirect to the login page, or a refusal for non-admins.

Signing in gives the browser a new storage id (`/login/complete`), so a cookie planted before the login
does not ride into the signed-in session. A page of a signed-in user listens on `accounts.ended_topic` and on
its browser's topic: a suspension, or a logout in another tab of the same browser, sends it to the login page.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import Client, app, background_tasks, storage, ui

from core import accounts
from core.builds.preview import revoke_user_previews
from core.errors import InvalidInput
from core.models import User
from core.services import Services
from ui import page_route, palette

log = logging.getLogger(__name__)
PUBLIC_PATHS = ('/login', '/signup')
PENDING = 'pending_sign_in'  # in the storage of the browser id being replaced: who signs in, and the ticket's hash
PENDING_SECONDS = 60.0
CARRIED = ('dark_mode',)  # what the new storage keeps from the old one: preferences, never who is signed in


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
    _end_with_session(svc, ui.context.client, user.id)
    return user


def _end_with_session(svc: Services, client: Client, user_id: uuid.UUID) -> None:
    """Send this page to the login page when its account is suspended or its browser logs out in another tab
    (the notifier carries the news from whichever process it happened in); the task ends with the page."""
    task = background_tasks.create(_watch(svc, client, user_id), name=f'sessions of {user_id}')
    client.on_delete(lambda: task.cancel())


async def _watch(svc: Services, client: Client, user_id: uuid.UUID) -> None:
    browser = _browser_topic(client)
    suspended = asyncio.ensure_future(until_ended(svc, user_id))
    signed_out = asyncio.ensure_future(_until_signed_out(svc, browser, user_id)) if browser else None
    watches = [w for w in (suspended, signed_out) if w is not None]
    try:
        done, _ = await asyncio.wait(watches, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for watch in watches:
            watch.cancel()
    # after a suspension, a tab whose browser has since signed in as someone else is theirs now
    leave = (_true(suspended, done) and _signed_in_as(user_id)) or _true(signed_out, done)
    if leave:
        with client:  # a background task has no page context of its own
            ui.navigate.to('/login')


def _true(watch: asyncio.Future[bool] | None, done: set[asyncio.Future[bool]]) -> bool:
    return watch in done and watch is not None and watch.exception() is None and watch.result()


async def _until_signed_out(svc: Services, topic: str, user_id: uuid.UUID) -> bool:
    """Returns True once this browser's session no longer holds `user_id` (a logout in another of its tabs is
    announced on the browser's topic), False when the notifier shuts down first."""
    listener = await svc.notifier.listen(topic)
    try:
        while _signed_in_as(user_id):
            await listener.wait()
            if listener.closed:
                return False
        return True
    finally:
        await listener.close()


def _browser_topic(client: Client) -> str | None:
    """The notifier topic of this page's browser session (a digest: the session id itself stays a secret)."""
    browser_id = client.request.session.get('id') if 'session' in client.request.scope else None
    return f'browser:{hashlib.sha256(browser_id.encode()).hexdigest()[:32]}:signed-out' if browser_id else None


async def until_ended(svc: Services, user_id: uuid.UUID) -> bool:
    """Returns True once the account's sessions have ended (suspension, heard over the notifier from any
    process), or False when the notifier shuts down first. Pages and API event streams end on it."""
    listener = await svc.notifier.listen(accounts.ended_topic(user_id))
    try:
        # read after listening, so a suspension between the caller's check and here is not missed; any wake-up
        # (a Redis reconnect wakes every listener too) is only a reason to read the row again
        while await _still_active(svc, user_id):
            await listener.wait()
            if listener.closed:  # the notifier is shutting down
                return False
        return True
    finally:
        await listener.close()


def _signed_in_as(user_id: uuid.UUID) -> bool:
    """Whether the page's browser session (its request, copied into this task's context) is still `user_id`'s."""
    try:
        return app.storage.user.get('user_id') == str(user_id)
    except (RuntimeError, AssertionError):  # no storage for that browser any more: nothing of theirs to keep
        return True


async def _still_active(svc: Services, user_id: uuid.UUID) -> bool:
    async with svc.sessions() as session:
        return await accounts.active_user(session, user_id) is not None


def safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce a founder to another site."""
    if not target or not target.startswith('/') or target.startswith('//') or '\\' in target:
        return '/'
    return target


def sign_in(user: User, target: str | None) -> None:
    """Finish the login on `/login/complete`: a websocket event cannot give the browser a new cookie, an HTTP
    response can. The ticket travels in the URL to this browser only; another holder of the same (planted) cookie
    cannot complete the login without it."""
    ticket = secrets.token_urlsafe(32)
    app.storage.user[PENDING] = {'user_id': str(user.id), 'ticket': _digest(ticket),
                                 'until': time.time() + PENDING_SECONDS}  # fmt: skip
    ui.navigate.to(f'/login/complete?ticket={ticket}&next={quote(safe_next(target))}')


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


async def complete_sign_in(request: Request, ticket: str = '', next: str = '/') -> RedirectResponse:  # noqa: A002
    """Move the pending login to a new browser id (a new signed cookie in this response) and go on to `next`."""
    old = app.storage.user
    user_id = _redeem(old.pop(PENDING, None), ticket)
    if user_id is None:
        return RedirectResponse(f'/login?next={quote(safe_next(next))}', status_code=303)
    carried = {key: old[key] for key in CARRIED if key in old}
    old.clear()  # whoever else holds the old cookie holds an empty session
    new_id = str(uuid.uuid4())
    request.session['id'] = new_id  # NiceGUI keys `app.storage.user` by this id (nicegui/storage.py)
    await app.storage._create_user_storage(new_id)  # what its middleware does for an id it has not seen
    app.storage.user.update(carried)
    app.storage.user['user_id'] = user_id
    return RedirectResponse(safe_next(next), status_code=303)


def _redeem(pending: object, ticket: str) -> str | None:
    """The user id of a pending login whose ticket this is and that has not expired."""
    if not isinstance(pending, dict) or not pending.get('until', 0) > time.time():
        return None
    if not hmac.compare_digest(str(pending.get('ticket', '')), _digest(ticket)):
        return None
    return str(pending['user_id'])


async def sign_out() -> None:
    """Ends the session, revokes the founder's preview links (issue 29) and sends this browser's other tabs to
    the login page."""
    session = _page_storage()
    user_id = session.get('user_id')
    session.clear()
    svc: Services = app.state.services
    if user_id:
        await revoke_user_previews(svc.sessions, uuid.UUID(user_id))
    if topic := _browser_topic(ui.context.client):
        try:
            await svc.events.announce(topic)
        except Exception:  # noqa: BLE001 — the session is cleared; the other tabs' next action is refused
            log.warning('could not tell the other tabs of a logout', exc_info=True)
    ui.navigate.to('/login')


def _page_storage() -> Any:
    """The signed-in storage of this page's browser session. An event handler's request context is the one its
    element was made under, which need not be this page's (NiceGUI's simulated user builds a page reached by a
    redirect inside the previous page's context); the client's own request names the session that signed in."""
    token = storage.request_contextvar.set(ui.context.client.request)
    try:
        return app.storage.user
    finally:
        storage.request_contextvar.reset(token)


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
    accounts.set_announcer(svc.events.announce)  # core tells this process's pages of a suspension through it
    app.on_shutdown(lambda: accounts.set_announcer(None))
    app.add_api_route('/login/complete', complete_sign_in, methods=['GET'], include_in_schema=False)

    @page_route.page('/login', title='Log in · Cofounder')
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

    @page_route.page('/signup', title='Sign up · Cofounder')
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
