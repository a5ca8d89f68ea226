"""A version's files and its changelog (IT-3, IT-5): `/builds/{id}/files` and `/builds/{id}/changelog`.

The files are those of the version's READY snapshot, read-only: a list and the chosen file with syntax
highlighting. The changelog shows the plain summary, both versions' screenshots side by side, and each file
added, changed or removed with its unified diff behind an expander. The owner alone sees them; anyone else
gets "not found", as for a missing build.
"""

from __future__ import annotations

import posixpath

from nicegui import ui

from core.builds import versions
from core.errors import CofounderError
from core.models import BuildJob, Project, User
from core.services import Services
from ui import auth, page_route, theme
from ui.components.code_view import as_text, code_view, language_for
from ui.pages.project import not_found, owned_build

SELECTED = 'bg-indigo-50 dark:bg-indigo-950 font-bold'
MAX_SHOWN_CHARS = 400_000  # a bigger text file is cut in the browser; the zip has it whole


async def _own_version(svc: Services, user: User, job_id: str) -> tuple[Project, BuildJob] | None:
    """The founder's build, if it is a version (READY with its label)."""
    found = await owned_build(svc, user, job_id)
    if found is None or found[1].state != 'READY' or not found[1].version_label:
        return None
    return found


def _header(project: Project, job: BuildJob, title: str) -> None:
    with ui.row().classes('w-full items-center justify-between'):
        with ui.column().classes('gap-0'):
            ui.label(title).classes('text-2xl font-semibold').mark('version-page-title')
            with ui.row().classes('gap-3 text-sm'):
                ui.link(f'← {project.title}', f'/projects/{project.id}')
                ui.link(f'The build of {job.version_label}', f'/builds/{job.id}')
        ui.button(
            'Download zip', icon='download', on_click=lambda: ui.download.from_url(f'/builds/{job.id}/zip')
        ).props('outline no-caps').mark('files-zip')


class FileBrowser:
    """The file list on the left, the chosen file on the right."""

    def __init__(self, files: dict[str, bytes], selected: str) -> None:
        self.files = files
        self.items: dict[str, ui.button] = {}
        with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-4 gap-4 items-start'):
            with ui.card().classes('w-full p-2 gap-0').mark('file-list'):
                for path in files:
                    depth = path.count('/')
                    self.items[path] = (
                        ui.button(path, on_click=lambda p=path: self.show(p))
                        .props('flat dense no-caps align=left')
                        .classes(f'w-full justify-start font-mono text-xs pl-{min(depth, 4) * 2 + 1}')
                        .mark(f'file-{path}')
                    )
            with ui.card().classes('w-full p-3 gap-2 md:col-span-3').mark('file-view'):
                self.view = ui.column().classes('w-full gap-2')
        self.show(selected)

    def show(self, path: str) -> None:
        data = self.files.get(path, b'')
        for name, item in self.items.items():  # the file shown stands out in the list
            if name == path:
                item.classes(add=SELECTED)
            else:
                item.classes(remove=SELECTED)
        self.view.clear()
        with self.view:
            with ui.row().classes('items-center gap-2'):
                ui.icon('description').classes('text-slate-500')
                ui.label(path).classes('font-mono text-sm font-semibold').mark('file-path')
                ui.label(f'{len(data):,} bytes · read-only').classes('text-xs text-slate-500')
            text = as_text(data)
            if text is None:
                ui.label('A binary file: download the zip to get it.').classes('text-slate-500').mark('file-binary')
                return
            if len(text) > MAX_SHOWN_CHARS:
                ui.label('A long file: its beginning is shown here; the zip has all of it.').classes('text-slate-500')
                text = text[:MAX_SHOWN_CHARS]
            code_view(text, language=language_for(path)).mark('file-code')


def _first_file(files: dict[str, bytes], wanted: str) -> str:
    if wanted in files:
        return wanted
    for name in ('README.md', 'app.py', 'index.html', 'package.json', 'main.py'):
        if name in files:
            return name
    return next(iter(files), '')


def _screenshot(label: str, key: str | None, marker: str) -> None:
    with ui.column().classes('w-full gap-1').mark(marker):
        ui.label(label).classes('font-semibold')
        if key:
            ui.image(f'/blobs/{key}').props(f'alt="Screenshot of {label}"').classes('w-full rounded border')
        else:
            ui.label('No screenshot kept for this version.').classes('text-slate-500 text-sm')


def changelog_view(changes: versions.Changes) -> None:
    ui.label(changes.summary).classes('text-slate-700 dark:text-slate-200').mark('changelog-summary')
    with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4').mark('changelog-screenshots'):
        _screenshot(changes.from_label or 'Before', changes.previous_screenshot_key, 'screenshot-before')
        _screenshot(changes.label, changes.screenshot_key, 'screenshot-after')
    groups = (('Added', changes.added, 'add_circle'), ('Changed', changes.changed, 'edit'),
              ('Removed', changes.removed, 'remove_circle'))  # fmt: skip
    for title, paths, icon in groups:
        ui.label(f'{title} ({len(paths)})').classes('text-lg font-semibold mt-2')
        if not paths:
            ui.label('None.').classes('text-slate-500 text-sm')
        for path in paths:
            with ui.expansion(path, icon=icon).classes('w-full font-mono text-sm').mark(f'diff-{path}'):
                diff = changes.diffs.get(path) or ''
                if diff:
                    code_view(diff, language='diff').mark('diff-code')
                else:
                    ui.label('No text differences to show (a binary file, or the changelog was cut).').classes(
                        'text-slate-500 font-sans'
                    )


def register(svc: Services) -> None:
    @page_route.page('/builds/{job_id}/files', title='Files · Cofounder')
    async def files_page(job_id: str, path: str = ''):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/builds/{job_id}/files')
        if not isinstance(user, User):
            return user
        found = await _own_version(svc, user, job_id)
        files: dict[str, bytes] | None = None
        problem = ''
        if found is not None:
            try:
                async with svc.sessions() as session:
                    files = await versions.version_files(session, svc.blobs, user=user, job_id=found[1].id)
            except CofounderError as error:
                problem = str(error)
        with theme.frame(
            f'Files · {found[0].title}' if found else 'Not found',
            user,
            offline_model=svc.offline_model,
            project_id=found[0].id if found else None,
        ):
            if found is None:
                not_found('Version')
                return None
            project, job = found
            _header(project, job, f'Files of {job.version_label}')
            if files is None or not files:
                ui.label(problem or 'This version has no files to show.').classes('text-slate-500').mark(
                    'files-missing'
                )
                return None
            FileBrowser(files, _first_file(files, posixpath.normpath(path) if path else ''))
        return None

    @page_route.page('/builds/{job_id}/changelog', title='Changelog · Cofounder')
    async def changelog_page(job_id: str):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/builds/{job_id}/changelog')
        if not isinstance(user, User):
            return user
        found = await _own_version(svc, user, job_id)
        changes = None
        if found is not None:
            try:
                async with svc.sessions() as session:
                    changes = await versions.changes_of(session, user=user, job_id=found[1].id)
            except CofounderError:
                changes = None
        with theme.frame(
            f'Changelog · {found[0].title}' if found else 'Not found',
            user,
            offline_model=svc.offline_model,
            project_id=found[0].id if found else None,
        ):
            if found is None:
                not_found('Version')
                return None
            project, job = found
            _header(project, job, f'What changed in {job.version_label}')
            if changes is None:
                ui.label(
                    f'{job.version_label} is the first version: there is nothing before it to compare with.'
                ).classes('text-slate-500').mark('changelog-missing')
                return None
            changelog_view(changes)
        return None
