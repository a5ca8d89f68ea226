"""Managing a project from its page (J-7): rename, archive / restore, and delete after typing its name.

Deleting is final, so its dialog names the project, says what goes, and enables its button only once the
founder typed the name; the core checks the name again and refuses while a build is under way
(core/project_removal.py), and that refusal is shown in the dialog as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from core.errors import CofounderError
from core.journey import projects
from core.models import Project, User
from core.project_removal import delete_project
from core.services import Services

WHAT_GOES = (
    'Its idea, answers, Idea Brief, plans, decisions, builds, versions, previews, screenshots and files are '
    'removed, and its build workspaces are deleted. This cannot be undone. Your spending history stays.'
)


async def _attempt(work: Callable[[], Awaitable[object]], error: ui.label | None = None) -> bool:
    try:
        await work()
    except CofounderError as problem:
        if error is not None:
            error.set_text(str(problem))
        else:
            ui.notify(str(problem), type='negative', multi_line=True)
        return False
    return True


def archived_banner(svc: Services, user: User, project: Project) -> None:
    """An archived project says so and offers Restore (back on the dashboard's main list)."""

    async def restore() -> None:
        async def work() -> None:
            async with svc.sessions() as session:
                await projects.restore_project(session, user=user, project_id=project.id)

        if await _attempt(work):
            ui.navigate.reload()

    with ui.card().classes('w-full bg-slate-100 dark:bg-slate-800 border border-slate-300').mark('archived-banner'):
        with ui.row().classes('w-full items-center justify-between gap-2'):
            with ui.row().classes('items-center gap-2 no-wrap min-w-0'):
                ui.icon('inventory_2', size='28px').classes('text-slate-500')
                with ui.column().classes('gap-0 min-w-0'):
                    ui.label('This project is archived').classes('font-semibold')
                    ui.label('It is hidden from your dashboard’s main list. Nothing was removed.').classes(
                        'text-sm text-slate-600 dark:text-slate-300'
                    )
            ui.button('Restore', icon='unarchive', on_click=restore).mark('restore-project')


def manage_card(svc: Services, user: User, project: Project) -> None:
    """Rename, archive (or restore) and delete, each behind its own button."""
    with ui.card().classes('w-full p-4 gap-2').mark('project-manage'):
        ui.label('Manage this project').classes('text-sm uppercase tracking-wide text-slate-500')
        with ui.row().classes('gap-2 flex-wrap'):
            rename = _rename_dialog(svc, user, project)
            ui.button('Rename', icon='edit', on_click=rename.open).props('outline').mark('rename-project')
            if project.archived_at is None:
                ui.button('Archive', icon='archive', on_click=lambda: _archive(svc, user, project)).props(
                    'outline'
                ).mark('archive-project')
            remove = _delete_dialog(svc, user, project)
            ui.button('Delete…', icon='delete_forever', on_click=remove.open).props('outline color=negative').mark(
                'delete-project'
            )


async def _archive(svc: Services, user: User, project: Project) -> None:
    async def work() -> None:
        async with svc.sessions() as session:
            await projects.archive_project(session, user=user, project_id=project.id)

    if await _attempt(work):
        ui.navigate.reload()


def _rename_dialog(svc: Services, user: User, project: Project) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes('w-full max-w-md p-5 gap-3').mark('rename-dialog'):
        ui.label('Rename the project').classes('text-lg font-semibold').props('role=heading aria-level=2')
        name = ui.input('Name', value=project.title).props(f'maxlength={projects.TITLE_MAX} autofocus')
        name.classes('w-full').mark('rename-input')
        error = ui.label().classes('text-negative text-sm').mark('rename-error')

        async def save() -> None:
            async def work() -> None:
                async with svc.sessions() as session:
                    await projects.rename_project(session, user=user, project_id=project.id, title=name.value or '')

            if await _attempt(work, error):
                dialog.close()
                ui.navigate.reload()

        name.on('keydown.enter', save)
        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Cancel', on_click=dialog.close).props('flat')
            ui.button('Save', on_click=save).mark('rename-save')
    return dialog


def _delete_dialog(svc: Services, user: User, project: Project) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes('w-full max-w-md p-5 gap-3').mark('delete-dialog'):
        with ui.row().classes('items-baseline gap-1 no-wrap'):  # the founder's title, as text, in the question
            ui.label('Delete').classes('text-lg font-semibold shrink-0')
            ui.label(f'“{project.title}”').classes('text-lg font-semibold break-all').mark('delete-name')
            ui.label('for good?').classes('text-lg font-semibold shrink-0')
        ui.label(WHAT_GOES).classes('text-sm text-slate-600 dark:text-slate-300')
        typed = ui.input('Type the project’s name to confirm').classes('w-full').mark('delete-confirm-input')
        error = ui.label().classes('text-negative text-sm').props('role=alert').mark('delete-error')

        async def remove() -> None:
            async def work() -> None:
                async with svc.sessions() as session:
                    await delete_project(session, user=user, project_id=project.id, confirm_title=typed.value or '',
                                         blobs=svc.blobs, sandboxes=svc.sandboxes)  # fmt: skip

            confirm.props('loading')
            done = await _attempt(work, error)
            confirm.props(remove='loading')
            if done:
                dialog.close()
                ui.navigate.to('/')

        with ui.row().classes('w-full justify-end gap-2'):
            ui.button('Keep it', on_click=dialog.close).props('flat').mark('delete-cancel')
            confirm = ui.button('Delete for good', on_click=remove).props('color=negative').mark('delete-confirm')
        confirm.disable()
        typed.on_value_change(lambda e: confirm.set_enabled(_same(e.value, project.title)))
    return dialog


def _same(typed: str | None, title: str) -> bool:
    return ' '.join((typed or '').split()) == ' '.join(title.split())
