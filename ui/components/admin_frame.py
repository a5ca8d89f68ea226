"""The frame of every admin page (AD-1…AD-5): admins only (anyone else gets a 403 page), a heading, the
sections' navigation, and helpers the sections share (dates, a notify for refused changes)."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import ui

from core.errors import CofounderError
from core.models import User, utcnow
from core.services import Services
from ui import auth, theme

SECTIONS = (
    ('Users', '/admin'),
    ('Models', '/admin/models'),
    ('Tiers and budgets', '/admin/tiers'),
    ('Feature flags', '/admin/flags'),
    ('System', '/admin/system'),
)
REFUSED = 'This page is for administrators.'
_REFUSED_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not allowed · Cofounder</title>
<style>body{{font-family:system-ui,sans-serif;background:#f8fafc;color:#1e293b;display:grid;place-items:center;
min-height:100vh;margin:0}}main{{background:#fff;padding:2rem 2.5rem;border-radius:.75rem;
box-shadow:0 1px 3px #0002;max-width:28rem}}h1{{color:#4f46e5;margin-top:0}}a{{color:#4f46e5}}</style></head>
<body><main><h1>403 · Not allowed</h1><p data-testid="admin-refused">{html.escape(REFUSED)}</p>
<p><a href="/">Back to your dashboard</a></p></main></body></html>"""


async def admin_user(svc: Services, path: str) -> User | HTMLResponse | RedirectResponse:
    """The signed-in admin; a redirect to log in, or the 403 page for anyone who is not an admin."""
    actor = await auth.page_user(svc, path)
    if isinstance(actor, User) and not actor.is_admin:
        return HTMLResponse(_REFUSED_PAGE, status_code=403)
    return actor


@contextmanager
def admin_frame(svc: Services, actor: User, section: str) -> Iterator[ui.column]:
    """The page frame with the "Admin" heading and the sections' navigation, `section` marked current."""
    with theme.frame(f'Admin · {section}', actor, offline_model=svc.offline_model) as content:
        with ui.row().classes('w-full items-baseline justify-between gap-2'):
            ui.label(f'Admin · {section}').classes('text-3xl font-bold').props('role=heading aria-level=1').mark(
                'admin-heading'
            )
        with ui.row().classes('gap-1 flex-wrap').props('role=navigation aria-label="Admin sections"'):
            for label, target in SECTIONS:
                current = label == section
                link = ui.link(label, target).classes(
                    'px-3 py-1 rounded-full no-underline text-sm '
                    + ('bg-primary text-white' if current else 'text-slate-600 dark:text-slate-300 hover:bg-slate-100')
                )
                link.mark(f'admin-nav-{target.rsplit("/", 1)[-1]}')
                if current:
                    link.props('aria-current=page')
        yield content


async def attempt(change: Callable[[], Awaitable[object]], success: str) -> bool:
    """Run one change: a positive notice, or the refusal's own message (nothing was changed)."""
    try:
        await change()
    except CofounderError as problem:
        ui.notify(str(problem), type='negative', multi_line=True)
        return False
    ui.notify(success, type='positive')
    return True


def utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC times


def when(at: datetime | None) -> str:
    """'2026-12-03 14:05 UTC (in 3 h 10 min)'."""
    if at is None:
        return '—'
    at = utc(at)
    seconds = int((at - utcnow()).total_seconds())
    minutes = abs(seconds) // 60
    days, hours = divmod(minutes // 60, 24)
    span = f'{days} d {hours} h' if days else f'{hours} h {minutes % 60} min'
    return f'{at:%Y-%m-%d %H:%M} UTC ({f"in {span}" if seconds > 0 else f"{span} ago"})'


def dollars(microdollars: int) -> str:
    return f'${microdollars / 1_000_000:,.2f}'
