"""Admin · System (AD-5, AG-10, OPS-3): every integration and its health, the scheduler's leader and jobs, the
queue in order, the builds under way with their owners, the kill switch, the retention settings (editable),
the latest failures; the audit log."""

from __future__ import annotations

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from core import admin_system
from core.admin_settings import (
    RETENTION_FLOORS,
    RETENTION_LABELS,
    Retention,
    builds_enabled,
    egress_allowlist,
    retention_settings,
    set_egress_allowlist,
    set_retention,
    set_setting,
)
from core.models import User
from core.services import Services
from ui import page_route
from ui.components.admin_audit import AuditLog
from ui.components.admin_frame import admin_frame, admin_user, attempt, when

HEALTH_NAMES = {
    'database': 'Database',
    'events': 'Live updates (notifier)',
    'storage': 'Blob store',
    'sandbox': 'Sandbox',
    'llm': 'Model provider',
    'browser': 'Browser (screenshots, checks)',
}


def register(svc: Services) -> None:
    @page_route.page('/admin/system', title='Admin · System · Cofounder')
    async def system_page():  # type: ignore[no-untyped-def]
        actor = await admin_user(svc, '/admin/system')
        if not isinstance(actor, User):
            return actor
        with admin_frame(svc, actor, 'System'):
            await SystemPage(svc, actor).load()  # drawn before the page is sent
        return None


class SystemPage:
    def __init__(self, svc: Services, actor: User) -> None:
        self.svc, self.actor = svc, actor
        with ui.card().classes('w-full gap-1').mark('health'):
            ui.label('Integrations').classes('text-xl font-semibold')
            self.health = ui.column().classes('w-full gap-0')
            with self.health:
                ui.label('Checking every integration…').classes('text-slate-500')
        self.switch_box = ui.column().classes('w-full')
        self.retention_box = ui.column().classes('w-full')
        self.egress_box = ui.column().classes('w-full')
        self.builds_box = ui.column().classes('w-full gap-3')
        self.audit = AuditLog(svc, actor, 'system')
        ui.timer(0.05, self.check_health, once=True)  # the checks may take seconds: the rest shows first

    async def load(self) -> None:
        async with self.svc.sessions() as session:
            enabled = await builds_enabled(session)
            retention = await retention_settings(session)
            egress = await egress_allowlist(session)
        self.switch_box.clear()
        with self.switch_box:
            self._builds_switch(enabled)
        self.retention_box.clear()
        with self.retention_box:
            self._retention(retention)
        self.egress_box.clear()
        with self.egress_box:
            self._egress(egress)
        await self.refresh_builds()
        await self.audit.refresh()

    async def check_health(self) -> None:
        report = await self.svc.health.report()
        self.health.clear()
        with self.health:
            for check in report.checks:
                with (
                    ui.row().classes('w-full gap-x-3 gap-y-0 border-t py-1 items-baseline').mark(f'health-{check.name}')
                ):
                    ui.icon('check_circle' if check.ok else 'error', color='positive' if check.ok else 'negative')
                    ui.label(HEALTH_NAMES.get(check.name, check.name)).classes('font-medium w-56')
                    extra = ', '.join(f'{key}: {value}' for key, value in check.extra.items() if key != 'ms')
                    ui.label(f'{check.detail} ({extra})' if extra else check.detail).classes('text-sm grow')
                    needed = 'required' if check.name in report.required else 'optional'
                    ui.label(f'{needed} · {check.extra.get("ms", "?")} ms').classes('text-xs text-slate-500')
            with ui.row().classes('w-full gap-x-3 border-t py-1 items-baseline').mark('health-leader'):
                ui.icon('schedule')
                ui.label('Scheduler leader').classes('font-medium w-56')
                ui.label(await self._leader()).classes('text-sm')

    async def _leader(self) -> str:
        """Who runs the scheduled jobs: this one process, or the holder of the Redis lock."""
        lock = self.svc.leader
        holder = getattr(lock, 'holder', None)  # only the Redis lock has a holder to name
        if holder is None:
            return f'{lock.name}: this process runs the scheduler'
        try:
            name = await holder()
        except Exception as error:  # noqa: BLE001 - Redis down: say so rather than fail the page
            return f'{lock.name}: unknown ({type(error).__name__})'
        return f'{lock.name}: {name or "nobody holds the lock right now"}'

    def _builds_switch(self, enabled: bool) -> None:
        """AG-10: the kill switch for autonomous builds (running builds finish; new ones are refused)."""

        async def change(event: ValueChangeEventArguments) -> None:
            async def run() -> None:
                async with self.svc.sessions() as session:
                    await set_setting(session, actor=self.actor, key='autonomous_builds',
                                      value={'enabled': bool(event.value)})  # fmt: skip

            words = 'Autonomous builds are on' if event.value else 'Autonomous builds are off: new builds are refused'
            await attempt(run, words)
            await self.audit.refresh()

        with ui.card().classes('w-full'):
            ui.label('Builds').classes('text-xl font-semibold')
            ui.switch('Autonomous builds allowed', value=enabled, on_change=change).mark('builds-switch')
            ui.label('When off, founders who press Build are told builds are paused; running builds finish.').classes(
                'text-sm text-slate-500'
            )

    def _retention(self, retention: Retention) -> None:
        inputs: dict[str, ui.number] = {}
        with ui.card().classes('w-full gap-2').mark('retention'):
            ui.label('Retention').classes('text-xl font-semibold')
            for line in retention_lines(retention):
                ui.label(line).classes('text-sm')
            with ui.row().classes('w-full items-end gap-3'):
                for name in RETENTION_FLOORS:
                    inputs[name] = (
                        ui.number(RETENTION_LABELS[name], value=getattr(retention, name), min=RETENTION_FLOORS[name])
                        .classes('w-56')
                        .mark(f'retention-{name}')
                    )

            async def save() -> None:
                async def run() -> None:
                    async with self.svc.sessions() as session:
                        await set_retention(session, actor=self.actor,
                                            values={name: box.value for name, box in inputs.items()})  # fmt: skip

                if await attempt(run, 'Retention settings saved; the next housekeeping run applies them.'):
                    await self.load()
                else:
                    await self.audit.refresh()

            ui.button('Save retention', on_click=save).mark('retention-save')

    def _egress(self, hosts: list[str]) -> None:
        """The hosts an isolated sandbox may reach through the egress proxy (the package registries by default)."""
        with ui.card().classes('w-full gap-2').mark('egress'):
            ui.label('Sandbox network').classes('text-xl font-semibold')
            ui.label('Workspaces reach only these hosts, through a proxy; a name that points to a private or '
                     'local address is refused even when listed.').classes('text-sm text-slate-500')  # fmt: skip
            box = ui.input('Allowed hosts (host or host:port, separated by commas)', value=', '.join(hosts))
            box.classes('w-full').mark('egress-hosts')

            async def save() -> None:
                async def run() -> None:
                    async with self.svc.sessions() as session:
                        await set_egress_allowlist(session, actor=self.actor, text=str(box.value or ''))

                if await attempt(run, 'Allowed hosts saved; sandboxes use them within seconds.'):
                    await self.load()
                else:
                    await self.audit.refresh()

            ui.button('Save allowed hosts', on_click=save).mark('egress-save')

    async def refresh_builds(self) -> None:
        async with self.svc.sessions() as session:
            queued = await admin_system.queue(session, actor=self.actor)
            under_way = await admin_system.under_way(session, actor=self.actor)
            jobs = await admin_system.scheduled_jobs(session, actor=self.actor)
            failures = await admin_system.recent_failures(session, actor=self.actor)
        self.builds_box.clear()
        with self.builds_box:
            with ui.card().classes('w-full gap-1').mark('queue'):
                ui.label(f'Queue: {len(queued)} waiting for a worker').classes('text-xl font-semibold')
                for position, line in enumerate(queued, 1):
                    ui.label(f'{position}. {line.project} · {line.owner} · queued {when(line.since)}').classes(
                        'text-sm'
                    ).mark('queue-line')
            with ui.card().classes('w-full gap-1').mark('builds-under-way'):
                ui.label('Builds under way').classes('text-xl font-semibold')
                if not under_way:
                    ui.label('No build is running, resting or waiting.').classes('text-sm text-slate-500')
                for line in under_way:
                    wake = f' · wakes {when(line.wake_at)}' if line.wake_at else ''
                    ui.label(f'{line.state_label}: {line.project} · {line.owner}{wake}').classes('text-sm').mark(
                        'under-way-line'
                    )
            with ui.card().classes('w-full gap-1').mark('scheduler-jobs'):
                ui.label('Scheduled jobs').classes('text-xl font-semibold')
                if not jobs:
                    ui.label('No job is scheduled (the scheduler plans its jobs when it takes the lead).').classes(
                        'text-sm text-slate-500'
                    )
                for job in jobs:
                    next_run = when(job.next_run) if job.next_run else 'paused'
                    ui.label(f'{job.id}: next run {next_run}').classes('text-sm font-mono').mark('scheduler-job')
            with ui.card().classes('w-full gap-1').mark('recent-errors'):
                ui.label('Recent errors').classes('text-xl font-semibold')
                if not failures:
                    ui.label('No build failed recently.').classes('text-sm text-slate-500')
                for failure in failures:
                    with ui.column().classes('w-full gap-0 border-t py-1').mark('recent-error'):
                        ui.label(f'{failure.project} · {failure.owner} · {when(failure.at)}').classes('text-sm')
                        ui.label(failure.summary).classes('text-sm text-slate-600 dark:text-slate-300')


def retention_lines(r: Retention) -> list[str]:
    """What the housekeeping jobs keep, in plain words."""
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
