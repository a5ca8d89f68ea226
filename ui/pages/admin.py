"""Admin: users (AD-1) — search, tier, role, suspension; the retention settings in force (AD-5, read-only)."""

from __future__ import annotations

from datetime import UTC, datetime

from nicegui import ui
from nicegui.events import ValueChangeEventArguments
from sqlmodel import col, select

from core import accounts
from core.admin_settings import Retention, builds_enabled, retention_settings, set_setting
from core.builds.states import ENTERED_AT, BuildState
from core.errors import CofounderError
from core.models import BuildJob, Project, Tier, User, utcnow
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
            await _retention(svc)
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
            await _waiting_builds(svc)
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


async def _retention(svc: Services) -> None:
    """What the housekeeping jobs keep, in plain words. Read-only: editing comes with the admin settings."""
    async with svc.sessions() as session:
        retention = await retention_settings(session)  # get_setting('retention'), as the jobs apply it
    with ui.card().classes('w-full').mark('retention'):
        ui.label('Retention').classes('text-xl font-semibold')
        for line in retention_lines(retention):
            ui.label(line)
        ui.label('These settings are read-only here for now.').classes('text-sm text-slate-500')


def retention_lines(r: Retention) -> list[str]:
    return [
        f'Build activity stays in the database for {_count(r.event_hours, "hour")} after a build ends, '
        'then moves to file storage; it can still be replayed.',
        f"Screenshots are kept {_count(r.screenshot_days, 'day')}; those of each project's current version "
        'and of running builds stay.',
        f'The newest {_count(r.snapshots_kept, "snapshot")} of each project are kept.',
        f'Workspaces of finished builds are removed after {_count(r.workspace_days, "day")}; '
        "the current version's stays.",
        f'Previews nobody has viewed for {_count(r.preview_idle_minutes, "minute")} are paused; '
        'Resume starts them again.',
    ]


def _count(n: int, noun: str) -> str:
    return f'{n} {noun}' if n == 1 else f'{n} {noun}s'


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


# ── builds waiting (AG-8, BU-5) ──

WAITING = {BuildState.NEEDS_INPUT.value: 'Waiting for the founder’s decision', BuildState.SLEEPING.value: 'Resting'}


async def _waiting_builds(svc: Services) -> None:
    """Builds that hold no worker and wait on someone: a founder's decision, or the next day's budget (a wake-up)."""
    async with svc.sessions() as session:
        rows = (
            await session.exec(
                select(BuildJob, User.email, Project.title)
                .join(User, col(User.id) == col(BuildJob.user_id))
                .join(Project, col(Project.id) == col(BuildJob.project_id))
                .where(col(BuildJob.state).in_(list(WAITING)))
            )
        ).all()
    waiting = sorted(rows, key=lambda row: _since(row[0]))  # the longest waiting first
    with ui.card().classes('w-full gap-2').mark('builds-waiting'):
        ui.label('Builds waiting').classes('text-xl font-semibold')
        ui.label('Builds that hold no worker while they wait for their founder or for a new day of budget.').classes(
            'text-sm text-slate-500'
        )
        if not waiting:
            ui.label('No build is waiting.').classes('text-slate-500').mark('no-builds-waiting')
        for job, email, title in waiting:
            with ui.row().classes('w-full items-baseline gap-x-4 gap-y-0 border-t pt-2').mark('waiting-build'):
                ui.label(title).classes('font-medium')
                ui.label(email).classes('text-sm')
                ui.label(WAITING[job.state]).classes('text-sm text-amber-700')
                ui.label(f'since {_when(_since(job))}').classes('text-sm text-slate-500')
                if job.state == BuildState.SLEEPING.value:
                    wake = f'wakes {_when(job.wake_at)}' if job.wake_at else 'no wake-up planned'
                    ui.label(wake).classes('text-sm text-slate-500')


def _since(job: BuildJob) -> datetime:
    """When the build entered its state (the state machine's bookkeeping), else its last change."""
    entered = (job.stage_timings or {}).get(ENTERED_AT)
    return datetime.fromtimestamp(entered, UTC) if entered is not None else _utc(job.updated_at)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC times


def _when(at: datetime) -> str:
    at = _utc(at)
    seconds = int((at - utcnow()).total_seconds())
    minutes = abs(seconds) // 60
    days, hours = divmod(minutes // 60, 24)
    span = f'{days} d {hours} h' if days else f'{hours} h {minutes % 60} min'
    relative = f'in {span}' if seconds > 0 else f'{span} ago'
    return f'{at:%Y-%m-%d %H:%M} UTC ({relative})'
