"""The founder's own account (J-1): `/account` (change the password, API tokens) and `/forgot` (a reset link by
mail when a mail server is configured, else where to get one)."""

from __future__ import annotations

from fastapi import Request
from nicegui import background_tasks, ui

from core import accounts, password_reset
from core.errors import CofounderError
from core.mail import MailServer
from core.models import User
from core.services import Services
from ui import auth, page_route, theme
from ui.components.api_tokens import api_tokens_section

NO_MAIL = (
    'Ask your administrator for a password reset link: they can make one for your account on their admin page. '
    'It works once, for 24 hours.'
)


def register(svc: Services) -> None:
    @page_route.page('/account', title='Your account · Cofounder')
    async def account_page(request: Request):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, '/account')
        if not isinstance(user, User):
            return user
        address = request.client.host if request.client else None
        with theme.frame('Your account', user, offline_model=svc.offline_model):
            ui.label('Your account').classes('text-2xl font-semibold').props('role=heading aria-level=1')
            ui.label(f'Signed in as {user.email}').classes('text-slate-600 dark:text-slate-300').mark('account-email')
            password_card(svc, user, address)
            await api_tokens_section(svc, user)
        return None

    @page_route.page('/forgot', title='Forgot your password · Cofounder')
    async def forgot_page() -> None:
        forgot_form(svc)


def password_card(svc: Services, user: User, address: str | None) -> None:
    """Current password, the new one twice; the core checks the current one and the new one's strength."""
    with ui.card().classes('w-full max-w-3xl p-4 gap-2').mark('change-password'):
        ui.label('Change your password').classes('text-lg font-semibold').props('role=heading aria-level=2')
        current = ui.input('Current password', password=True).props('autocomplete=current-password')
        current.classes('w-full max-w-sm').mark('current-password')
        new = ui.input('New password', password=True).props('autocomplete=new-password').classes('w-full max-w-sm')
        new.mark('new-password')
        again = ui.input('The new password again', password=True).props('autocomplete=new-password')
        again.classes('w-full max-w-sm').mark('new-password-again')
        ui.label(f'At least {accounts.MIN_PASSWORD} characters.').classes('text-xs text-slate-600 dark:text-slate-300')
        message = ui.label().classes('text-sm').props('role=status aria-live=polite').mark('password-message')

        def say(text: str, *, ok: bool) -> None:
            message.set_text(text)
            message.classes(replace='text-sm ' + ('text-positive' if ok else 'text-negative'))

        async def submit() -> None:
            if (new.value or '') != (again.value or ''):
                say('The two new passwords differ: type the same one twice.', ok=False)
                return
            try:
                async with svc.sessions() as session:
                    await accounts.change_password(
                        session, user=user, current=current.value or '', new=new.value or '', address=address
                    )
            except CofounderError as problem:
                say(str(problem), ok=False)
                return
            for field in (current, new, again):
                field.set_value('')
            say('Your password is changed. Use the new one next time you log in.', ok=True)

        again.on('keydown.enter', submit)
        ui.button('Change password', on_click=submit).mark('change-password-button')


def forgot_form(svc: Services) -> None:
    """The same answer for every address, shown at once: the mail goes out in the background, so neither the
    words nor the time taken tell whether an account exists."""
    server = MailServer.from_settings(svc.settings)
    with auth._card('Forgot your password?').classes('gap-3'):  # the log-in page's frame and colours
        if server is None:
            ui.label(NO_MAIL).classes('text-sm').mark('forgot-no-mail')
            ui.link('Back to log in', '/login')
            return
        form = ui.column().classes('w-full gap-2')
        with form:
            ui.label('Enter the email of your account and we will mail you a link to choose a new one.').classes(
                'text-sm text-slate-600 dark:text-slate-300'
            )
            email = ui.input('Email').props('type=email autocomplete=username autofocus').classes('w-full')
            email.mark('forgot-email')

        async def send() -> None:
            address = (email.value or '').strip()
            if not address:
                return
            background_tasks.create(_mail_link(svc, address, server), name='mail a reset link')
            form.clear()
            with form:
                ui.label(password_reset.ASKED).classes('text-sm').props('role=status').mark('forgot-sent')

        email.on('keydown.enter', send)
        with form:
            ui.button('Mail me a link', on_click=send).classes('w-full').mark('forgot-submit')
        ui.link('Back to log in', '/login')


async def _mail_link(svc: Services, email: str, server: MailServer) -> None:
    async with svc.sessions() as session:
        await password_reset.mail_link(session, email=email, server=server)
