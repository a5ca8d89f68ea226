"""The fast path's button under the idea (J-2, beta `fast_path`): "Skip the questions — assume and build".

It saves the idea as a project, has the model write the brief with its assumptions (core/journey/fast_path.py)
and opens the brief, where the founder checks the assumptions and decides at Gate 1. The interview stays the
default: this button is secondary and says so.
"""

from __future__ import annotations

import uuid

from nicegui import ui

from core import flags
from core.errors import CofounderError
from core.journey import fast_path
from core.journey.projects import create_project
from core.models import User
from core.services import Services
from ui.components.admin_flags import beta_badge

LABEL = 'Skip the questions — assume and build'


async def enabled(svc: Services, user: User) -> bool:
    async with svc.sessions() as session:
        return await flags.is_enabled(session, user, fast_path.FLAG)


class FastPathButton:
    """The secondary button, its Beta badge and a line saying the questions are recommended."""

    def __init__(self, svc: Services, user: User, idea: ui.textarea, error: ui.label, others: list[ui.button]) -> None:
        self.svc, self.user, self.idea, self.error, self.others = svc, user, idea, error, others
        self.saved: tuple[str, uuid.UUID] | None = None  # the idea already saved by a try the model failed
        with ui.row().classes('w-full items-center gap-2 flex-wrap'):
            self.button = ui.button(LABEL, icon='bolt', on_click=self.run).props('outline no-caps')
            self.button.mark('fast-path')
            beta_badge(fast_path.FLAG)
            ui.label('The questions are recommended: they make a better brief. Skipping lists what I assumed.').classes(
                'text-xs text-slate-600 dark:text-slate-300'
            )

    async def run(self) -> None:
        if not self.button.enabled:
            return
        self.error.set_text('')
        self._busy(True)
        try:
            project_id = await self._assume()
        except CofounderError as problem:
            self.error.set_text(str(problem))
            self._busy(False)
            return
        ui.navigate.to(f'/projects/{project_id}/brief')

    async def _assume(self) -> uuid.UUID:
        text = self.idea.value or ''
        async with self.svc.sessions() as session:
            if self.saved is None or self.saved[0] != text:
                project = await create_project(session, user=self.user, idea=text)
                self.saved = (text, project.id)
            project_id = self.saved[1]
            llm = self.svc.llm_for(self.user.id, project_id)
            await fast_path.assume_brief(session, user=self.user, project_id=project_id, llm=llm)
        return project_id

    def _busy(self, busy: bool) -> None:
        if busy:
            self.button.props('loading')
        else:
            self.button.props(remove='loading')
        for button in (self.button, *self.others):
            button.set_enabled(not busy)
