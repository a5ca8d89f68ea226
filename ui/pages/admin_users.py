"""Admin · Users (AD-1, AD-4): search, tier by its name, role, suspension (never one's own), spend this period,
builds, model override, a password reset link (shown once), a top-up of this period's allowance, and "wake
now" for a resting build; the builds waiting; the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from nicegui import ui
from sqlmodel import col, select

from core import accounts, admin_users, password_reset
from core.admin_users import UserRow
from core.builds.states import ENTERED_AT, BuildState
from core.errors import CofounderError
from core.models import BuildJob, Project, User
from core.services import Services
from ui import page_route
from ui.components.admin_audit import AuditLog
from ui.components.admin_frame import admin_frame, admin_user, attempt, dollars, utc, when

Refresh = Callable[[], Awaitable[None]]
WAITING = {BuildState.NEEDS_INPUT.value: 'Waiting for the founder’s decision', BuildState.SLEEPING.value: 'Resting'}


def register(svc: Services) -> None:
    @page_route.page('/admin', title='Admin · Cofounder')
    async def users_page():  # type: ignore[no-untyped-def]
        actor = await admin_user(svc, '/admin')
        if not isinstance(actor, User):
            return actor
        base = str(ui.context.client.request.base_url).rstrip('/')
        with admin_frame(svc, actor, 'Users'):
            await UsersPage(svc, actor, base).refresh()  # drawn before the page is sent
        return None


class UsersPage:
    def __init__(self, svc: Services, actor: User, base_url: str) -> None:
        self.svc, self.actor, self.base_url = svc, actor, base_url
        self.search = (
            ui.input('Search by email or name', on_change=self.refresh)
            .props('clearable')
            .classes('w-80')
            .mark('user-search')
        )
        self.reset_box = ui.column().classes('w-full')
        self.list = ui.column().classes('w-full gap-3')
        self.waiting = ui.column().classes('w-full')
        self.audit = AuditLog(svc, actor, 'users')

    async def refresh(self) -> None:
        async with self.svc.sessions() as session:
            rows = await admin_users.overview(session, actor=self.actor, search=self.search.value or '')
            tiers = await admin_users.tier_labels(session)
        self.list.clear()
        with self.list:
            if not rows:
                ui.label('No users match.').classes('text-slate-500')
            for row in rows:
                UserCard(self, row, tiers)
        self.waiting.clear()
        with self.waiting:
            await self._waiting_builds()
        await self.audit.refresh()

    async def change(self, action: Callable[..., Awaitable[object]], success: str, **kwargs: object) -> None:
        """One audited change through core, then the page and its audit log again."""

        async def run() -> None:
            async with self.svc.sessions() as session:
                await action(session, actor=self.actor, **kwargs)

        await attempt(run, success)
        await self.refresh()

    async def wake(self, job_id: uuid.UUID) -> None:
        async def run() -> None:
            async with self.svc.sessions() as session:
                await admin_users.wake_now(session, actor=self.actor, job_id=job_id, events=self.svc.events,
                                           queue=self.svc.queue)  # fmt: skip

        await attempt(run, 'The build is back in the queue.')
        await self.refresh()

    async def reset_link(self, row: UserRow) -> None:
        """The link is shown here once: only its hash is kept."""
        try:
            async with self.svc.sessions() as session:
                issued = await password_reset.issue(session, actor=self.actor, user_id=row.user.id)
        except CofounderError as problem:
            ui.notify(str(problem), type='negative')
            return
        self.reset_box.clear()
        with self.reset_box, ui.card().classes('w-full bg-amber-50 dark:bg-amber-950 gap-1').mark('reset-card'):
            ui.label(f'Password reset link for {issued.user.email}').classes('font-semibold')
            ui.label(f'{self.base_url}{issued.path()}').classes('font-mono text-sm break-all').mark('reset-link')
            ui.label(
                f'Shown once: copy it now and send it to them. It works once, until {when(issued.expires_at)}; '
                'a new link replaces it.'
            ).classes('text-sm text-slate-600 dark:text-slate-300')
            ui.button('Done', on_click=self.reset_box.clear).props('flat dense')
        await self.audit.refresh()

    async def _waiting_builds(self) -> None:
        """Builds that hold no worker while they wait: for the founder's decision, or for a new day of budget."""
        async with self.svc.sessions() as session:
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
            ui.label(
                'Builds that hold no worker while they wait for their founder or for a new day of budget.'
            ).classes('text-sm text-slate-500')
            if not waiting:
                ui.label('No build is waiting.').classes('text-slate-500').mark('no-builds-waiting')
            for job, email, title in waiting:
                with ui.row().classes('w-full items-baseline gap-x-4 gap-y-0 border-t pt-2').mark('waiting-build'):
                    ui.label(title).classes('font-medium')
                    ui.label(email).classes('text-sm')
                    ui.label(WAITING[job.state]).classes('text-sm text-amber-700')
                    ui.label(f'since {when(_since(job))}').classes('text-sm text-slate-500')
                    if job.state == BuildState.SLEEPING.value:
                        ui.label(f'wakes {when(job.wake_at)}' if job.wake_at else 'no wake-up planned').classes(
                            'text-sm text-slate-500'
                        )
                        ui.button('Wake now', on_click=lambda j=job.id: self.wake(j)).props('dense outline').mark(
                            f'wake-waiting-{job.id}'
                        )


class UserCard:
    """One account: who, tier, role, suspension; spend and builds; model, top-up, reset link."""

    def __init__(self, page: UsersPage, row: UserRow, tiers: dict[str, str]) -> None:
        self.page, self.row, user = page, row, row.user
        self.me = user.id == page.actor.id
        with ui.card().classes('w-full gap-2').mark(f'user-{user.email}'):
            self._head(tiers)
            self._spend()
            self._builds()
            self._tools()

    def _head(self, tiers: dict[str, str]) -> None:
        user, change = self.row.user, self.page.change

        async def tier(value: str) -> None:
            await change(admin_users.update_user, f'{user.email}: tier {tiers.get(value, value)}', user_id=user.id,
                         tier=value)  # fmt: skip

        async def role(value: str) -> None:
            await change(admin_users.update_user, f'{user.email}: {value}', user_id=user.id, role=value)

        async def suspend() -> None:
            done = 'unsuspended' if user.suspended else 'suspended'
            await change(admin_users.update_user, f'{user.email}: {done}', user_id=user.id,
                         suspended=not user.suspended)  # fmt: skip

        with ui.row().classes('w-full items-center justify-between gap-2'):
            with ui.column().classes('gap-0'):
                ui.label(user.email + (' (you)' if self.me else '')).classes('font-medium')
                status = 'Suspended' if user.suspended else 'Active'
                ui.label(f'{user.role.capitalize()} · {status} · {self.row.tier_label}').classes(
                    'text-sm text-slate-500'
                ).mark(f'status-{user.email}')
            with ui.row().classes('items-center gap-2'):
                ui.select(tiers, value=user.tier, label='Tier', on_change=lambda e: tier(e.value)).classes('w-40').mark(
                    f'tier-{user.email}'
                )
                roles = {name: name.capitalize() for name in accounts.ROLES}
                ui.select(roles, value=user.role, label='Role', on_change=lambda e: role(e.value)).classes('w-32').mark(
                    f'role-{user.email}'
                )
                if self.me:  # the core refuses it too; here the button is simply not offered
                    ui.label('You cannot suspend your own account.').classes('text-xs text-slate-500').mark(
                        'no-self-suspend'
                    )
                else:
                    ui.button('Unsuspend' if user.suspended else 'Suspend', on_click=suspend).props(
                        'outline' if user.suspended else 'color=negative outline'
                    ).mark(f'suspend-{user.email}')

    def _spend(self) -> None:
        row = self.row
        text = f'This period: {row.spent.tokens:,} of {row.allowance.tokens:,} tokens'
        if row.has_cost_allowance:
            text += f' ({dollars(row.spent.cost_microdollars)} of {dollars(row.allowance.cost_microdollars)})'
        extra = [f'{row.topup.tokens:,} tokens'] if row.topup.tokens else []
        extra += [dollars(row.topup.cost_microdollars)] if row.topup.cost_microdollars else []
        if extra:
            text += f', topped up by {" and ".join(extra)}'
        ui.label(f'{text}. Renews {when(row.period.end)}.').classes('text-sm').mark(f'spend-{row.user.email}')

    def _builds(self) -> None:
        row = self.row
        ui.label(f'Builds: {row.running} running · {len(row.sleeping)} resting · {row.waiting} waiting').classes(
            'text-sm'
        ).mark(f'builds-{row.user.email}')
        for build in row.sleeping:
            with ui.row().classes('items-center gap-2 text-sm'):
                ui.label(f'Resting: {build.project_title}, wakes {when(build.wake_at)}')
                ui.button('Wake now', on_click=lambda j=build.job_id: self.page.wake(j)).props('dense outline').mark(
                    f'wake-{build.job_id}'
                )

    def _tools(self) -> None:
        user, change = self.row.user, self.page.change
        with ui.row().classes('w-full items-end gap-2'):
            model = ui.input('Model override', value=user.model_override or '', placeholder='none: the tier decides')
            model.classes('w-56').mark(f'model-{user.email}')
            tokens = ui.number('Top-up tokens', min=0, format='%d').classes('w-36').mark(f'topup-tokens-{user.email}')
            money = ui.number('Top-up $', min=0).classes('w-28').mark(f'topup-dollars-{user.email}')

        async def save_model() -> None:
            await change(admin_users.set_model_override, f'{user.email}: model saved', user_id=user.id,
                         model=model.value or '')  # fmt: skip

        async def top_up() -> None:
            await change(admin_users.top_up, f'{user.email}: allowance topped up', user_id=user.id,
                         tokens=int(tokens.value or 0), dollars=float(money.value or 0))  # fmt: skip

        with ui.row().classes('gap-2'):
            ui.button('Save model', on_click=save_model).props('flat dense').mark(f'model-save-{user.email}')
            ui.button('Top up this period', on_click=top_up).props('flat dense').mark(f'topup-{user.email}')
            ui.button('Reset password link', on_click=lambda: self.page.reset_link(self.row)).props('flat dense').mark(
                f'reset-{user.email}'
            )


def _since(job: BuildJob) -> datetime:
    """When the build entered its state (the state machine's bookkeeping), else its last change."""
    entered = (job.stage_timings or {}).get(ENTERED_AT)
    return datetime.fromtimestamp(entered, UTC) if entered is not None else utc(job.updated_at)
