"""The founder's dashboard: every project with its stage (J-7)."""

from __future__ import annotations

from nicegui import ui
from sqlmodel import col, select

from core.models import Project
from core.services import Services
from ui import auth, theme


def register(svc: Services) -> None:
    @ui.page('/', title='Dashboard · Cofounder')
    async def dashboard_page():  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, '/')
        if not isinstance(user, auth.User):
            return user
        async with svc.sessions() as session:
            query = select(Project).where(Project.owner_id == user.id).order_by(col(Project.updated_at).desc())
            projects = list((await session.exec(query)).all())
        with theme.frame('Dashboard', user, offline_model=svc.offline_model):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Your projects').classes('text-2xl font-semibold')
                ui.button('New project', icon='add', on_click=lambda: ui.navigate.to('/projects/new')).mark(
                    'new-project')
            if not projects:
                _empty_state()
            for project in projects:
                with ui.card().classes('w-full cursor-pointer').on(
                        'click', lambda p=project: ui.navigate.to(f'/projects/{p.id}')).mark('project-card'):
                    ui.label(project.title).classes('text-lg font-medium')
                    ui.label(project.stage.replace('_', ' ').capitalize()).classes('text-sm text-slate-500')


def _empty_state() -> None:
    with ui.card().classes('w-full items-center p-10 text-center').mark('empty-state'):
        ui.icon('lightbulb', size='48px').classes('text-primary')
        ui.label('No projects yet').classes('text-xl font-semibold')
        ui.label('Describe your idea in a few sentences. I will interview you, write an Idea Brief and, '
                 'once you decide, build a working first version while you watch.').classes(
            'text-slate-500 max-w-lg')
        ui.button('Start your first project', on_click=lambda: ui.navigate.to('/projects/new')).mark(
            'first-project')
