"""The founder's API tokens on their account page (OPS-4): create one with a name (its secret shown once, with a
copy button), see each token's start and when it was last used, revoke one at once."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from core import api_tokens
from core.errors import CofounderError
from core.models import User
from core.services import Services
from ui import page_route

ABOUT = (
    'Tokens let your scripts and other tools follow your builds through the API (/api/v1, documented at '
    '/openapi.json). A token sees exactly what you see. Send it as "Authorization: Bearer <token>".'
)


def _when(at: datetime | None) -> str:
    return at.strftime('%Y-%m-%d %H:%M UTC') if at else 'never'


async def api_tokens_section(svc: Services, user: User) -> None:
    """The section, drawn into the current container (await it while building the page)."""
    with ui.card().classes('w-full max-w-3xl p-4 gap-3').mark('api-tokens'):
        ui.label('API tokens').classes('text-lg font-semibold')
        ui.label(ABOUT).classes('text-sm text-slate-600 dark:text-slate-300')
        with ui.row().classes('w-full items-end gap-2'):
            name = ui.input('Token name', placeholder='e.g. Deploy script').props('maxlength=80').classes('grow')
            create = ui.button('Create token', icon='key').mark('create-token')
        error = ui.label().classes('text-negative text-sm').mark('token-error')
        shown = ui.column().classes('w-full')

        @ui.refreshable
        async def listing() -> None:
            async with svc.sessions() as session:
                tokens = await api_tokens.list_tokens(session, user=user)
            if not tokens:
                ui.label('No tokens yet.').classes('text-sm text-slate-500')
            for token in tokens:
                with ui.row().classes('w-full items-center gap-3').mark('token-row'):
                    ui.label(token.name).classes('font-medium')
                    ui.label(f'{token.prefix}…').classes('font-mono text-xs text-slate-500')
                    ui.label(f'created {_when(token.created_at)} · last used {_when(token.last_used_at)}').classes(
                        'text-xs text-slate-500 grow'
                    )
                    ui.button('Revoke', on_click=lambda t=token.id: revoke(t)).props('flat dense color=negative').mark(
                        'revoke-token'
                    )

        async def make() -> None:
            error.set_text('')
            try:
                async with svc.sessions() as session:
                    new = await api_tokens.create_token(session, user=user, name=name.value)
            except CofounderError as problem:
                error.set_text(str(problem))
                return
            name.set_value('')
            shown.clear()
            with shown, ui.card().classes('w-full bg-amber-50 dark:bg-slate-800 p-3 gap-2').mark('new-token'):
                ui.label(f'Your new token "{new.token.name}". Copy it now: it will not be shown again.').classes(
                    'text-sm font-medium'
                )
                with ui.row().classes('w-full items-center gap-2'):
                    ui.label(new.secret).classes('font-mono text-sm break-all grow').mark('token-secret')
                    ui.button(icon='content_copy', on_click=lambda: ui.clipboard.write(new.secret)).props(
                        'flat dense aria-label="Copy the token"'
                    )
            listing.refresh()

        async def revoke(token_id: object) -> None:
            try:
                async with svc.sessions() as session:
                    await api_tokens.revoke_token(session, user=user, token_id=str(token_id))
            except CofounderError as problem:
                error.set_text(str(problem))
            shown.clear()
            listing.refresh()
            ui.notify('Token revoked: it no longer works.')

        create.on_click(make)
        name.on('keydown.enter', make)
        with ui.column().classes('w-full gap-1'):
            await listing()


def register(svc: Services) -> None:
    """`/account/tokens`: the section on a page of its own (the account page, ui/pages/account.py, hosts it too)."""
    from ui import auth

    @page_route.page('/account/tokens', title='API tokens · Cofounder')
    async def tokens_page() -> object:
        user = await auth.page_user(svc, '/account/tokens')
        if not isinstance(user, User):
            return user
        with ui.column().classes('w-full items-center p-6 gap-4'):
            ui.link('← Your account', '/account').classes('self-start').mark('back-to-account')
            await api_tokens_section(svc, user)
        return None
