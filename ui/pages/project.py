"""The project page (J-2 … J-8). The owner alone sees it; anyone else gets "not found"."""

from __future__ import annotations

import uuid

from nicegui import ui

from core.models import Project, User
from core.services import Services
from ui import auth, theme


def not_found(what: str = 'Project') -> None:
    with ui.card().classes('w-full p-8').mark('not-found'):
        ui.label(f'{what} not found').classes('text-xl font-semibold')
        ui.label('It may have been removed, or the link is wrong.').classes('text-slate-500')
        ui.link('Back to your dashboard', '/')


async def owned_project(svc: Services, user: User, project_id: str) -> Project | None:
    """The project if it exists and belongs to `user`; otherwise None (same answer for both)."""
    try:
        pid = uuid.UUID(project_id)
    except ValueError:
        return None
    async with svc.sessions() as session:
        project = await session.get(Project, pid)
    return project if project and project.owner_id == user.id else None


def register(svc: Services) -> None:
    @ui.page('/projects/{project_id}', title='Project · Cofounder')
    async def project_page(project_id: str):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/projects/{project_id}')
        if not isinstance(user, User):
            return user
        project = await owned_project(svc, user, project_id)
        with theme.frame(project.title if project else 'Not found', user, offline_model=svc.offline_model):
            if project is None:
                not_found()
                return None
            ui.label(project.title).classes('text-2xl font-semibold')
            ui.label(project.idea).classes('text-slate-600')
        return None
