"""The project page's iterate-and-ship part (IT-1, IT-2, IT-5, B-8): Gate 2 while it waits, "Ask for a change",
every version (date, summary, screenshot) with its files, zip, changelog and "Restore as next version", and
"Download everything (Markdown)".

`load_iteration` reads what the section shows inside the page's session (and offers Gate 2 when the preview
proxy recorded that the founder opened the current version's preview in a tab of its own); `iteration_section`
draws it. Summaries hold founder text (the change asked for): they are labels, never HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nicegui import ui
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds import jobs, versions
from core.builds.versions import Version
from core.errors import CofounderError
from core.journey import change_requests, gate2
from core.models import DecisionGate, Project, User
from core.services import Services
from ui.components.gate2_card import ask_for_a_change, gate2_card


@dataclass
class IterationData:
    versions: list[Version] = field(default_factory=list)
    gate: DecisionGate | None = None
    iteration: tuple[int, int] = (1, 3)  # the next iteration's number, the tier's limit


async def load_iteration(session: AsyncSession, user: User, project: Project) -> IterationData:
    """Versions newest first, the pending Gate 2 (offered now if the current preview was viewed), the count."""
    listed = await versions.list_versions(session, user=user, project_id=project.id)
    gate = await gate2.pending_gate2(session, user=user, project_id=project.id)
    if gate is None and listed and not project.parked:
        current = await jobs.get_build(session, user=user, job_id=listed[0].job_id)
        if current.preview_viewed_at is not None:
            gate = await gate2.offer_gate2(session, user=user, job=current)
    iteration = await change_requests.iteration_count(session, user=user, project_id=project.id)
    return IterationData(listed, gate, iteration)


def iteration_section(svc: Services, user: User, project: Project, data: IterationData) -> None:
    current = data.versions[0] if data.versions else None
    if data.gate is not None and not project.parked:
        gate2_card(svc, user, project, data.gate, current.label if current else None)
    with ui.card().classes('w-full p-4 gap-3').mark('project-versions'):
        with ui.row().classes('w-full items-center justify-between gap-2'):
            with ui.column().classes('gap-0'):
                ui.label('Versions').classes('text-sm uppercase tracking-wide text-slate-500')
                if current is not None:
                    number, limit = data.iteration
                    used = min(number - 1, limit)
                    ui.label(f'{used} of {limit} iterations used').classes('text-xs text-slate-500').mark(
                        'iterations-used'
                    )
            with ui.row().classes('items-center gap-2'):
                if current is not None and not project.parked:
                    ask_for_a_change(project)
                if current is not None:
                    ui.button(
                        'Browse the code',
                        icon='code',
                        on_click=lambda: ui.navigate.to(f'/builds/{current.job_id}/files'),
                    ).props('flat no-caps').mark('browse-code')
                ui.button(
                    'Download everything (Markdown)',
                    icon='description',
                    on_click=lambda: ui.download.from_url(f'/projects/{project.id}/export.md'),
                ).props('flat no-caps').mark('download-bundle')
        if not data.versions:
            ui.label('No version yet: the first build that is ready becomes v0.1.').classes('text-slate-500')
        for version in data.versions:
            VersionRow(svc, user, project, version, next_label=f'v0.{data.versions[0].number + 1}')


class VersionRow(ui.row):
    """One version: screenshot, label, date, summary, and what the founder can do with it."""

    def __init__(self, svc: Services, user: User, project: Project, version: Version, *, next_label: str) -> None:
        super().__init__()
        self.svc, self.user, self.project, self.version = svc, user, project, version
        self.classes('w-full items-start gap-4 py-2 border-t border-slate-200 dark:border-slate-700 flex-nowrap')
        self.mark(f'version-{version.label}')
        with self:
            if version.screenshot_key:
                ui.image(f'/blobs/{version.screenshot_key}').props(f'alt="Screenshot of {version.label}"').classes(
                    'w-40 shrink-0 rounded border border-slate-200'
                ).mark('version-screenshot')
            else:
                with ui.element('div').classes('w-40 h-24 shrink-0 rounded bg-slate-100 flex items-center'):
                    ui.icon('image_not_supported').classes('mx-auto text-slate-400')
            with ui.column().classes('gap-1 grow min-w-0'):
                with ui.row().classes('items-center gap-2'):
                    ui.label(version.label).classes('text-lg font-semibold').mark('version-label')
                    if version.current:
                        ui.badge('Current', color='primary').props('outline')
                    if version.date:
                        ui.label(f'{version.date:%Y-%m-%d %H:%M} UTC').classes('text-xs text-slate-500')
                ui.label(version.summary).classes('text-sm break-words').mark('version-summary')
                with ui.row().classes('gap-1 flex-wrap'):
                    job = version.job_id
                    ui.button(
                        'Files', icon='folder_open', on_click=lambda: ui.navigate.to(f'/builds/{job}/files')
                    ).props('flat dense no-caps').mark('version-files')
                    ui.button(
                        'Download zip', icon='download', on_click=lambda: ui.download.from_url(f'/builds/{job}/zip')
                    ).props('flat dense no-caps').mark('version-zip')
                    if version.has_changelog:
                        ui.button(
                            'Changelog', icon='difference', on_click=lambda: ui.navigate.to(f'/builds/{job}/changelog')
                        ).props('flat dense no-caps').mark('version-changelog')
                    if not version.current and not project.parked:
                        ui.button('Restore as next version', icon='restore', on_click=lambda: self.dialog.open()).props(
                            'flat dense no-caps'
                        ).mark('version-restore')
        if not version.current and not project.parked:
            self._restore_dialog(next_label)

    def _restore_dialog(self, next_label: str) -> None:
        label = self.version.label
        with ui.dialog() as self.dialog, ui.card().classes('p-5 gap-3 max-w-md').mark('restore-dialog'):
            ui.label(f'Restore {label} as the next version?').classes('text-lg font-semibold')
            ui.label(
                f'The files of {label} are installed and checked again and become {next_label}. '
                'Nothing is lost: every version stays as it is, and you can come back to any of them.'
            ).classes('text-sm text-slate-600 dark:text-slate-300')
            self.error = ui.label().classes('text-negative text-sm').mark('restore-error')
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('Keep things as they are', on_click=self.dialog.close).props('flat no-caps')
                ui.button(f'Restore as {next_label}', icon='restore', on_click=self._restore).props(
                    'unelevated no-caps'
                ).mark('confirm-restore')

    async def _restore(self) -> None:
        try:
            async with self.svc.sessions() as session:
                build = await versions.restore_version(
                    session, user=self.user, job_id=self.version.job_id, queue=self.svc.queue, events=self.svc.events
                )
        except CofounderError as problem:
            self.error.set_text(str(problem))
            return
        self.dialog.close()
        ui.navigate.to(f'/builds/{build.id}')
