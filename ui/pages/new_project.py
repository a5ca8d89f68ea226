"""New project (J-2): the founder describes the idea; "Continue" creates the project and opens onboarding."""

from __future__ import annotations

from nicegui import ui

from core.errors import CofounderError
from core.founder_text import measure
from core.journey.projects import IDEA_MAX, IDEA_MIN, TOO_LONG, TOO_SHORT, create_project
from core.models import User
from core.services import Services
from ui import auth, page_route, theme
from ui.components import fast_path

PLACEHOLDER = (
    'e.g. A booking tool for independent dog groomers so clients can pick a slot and pay a deposit. '
    'Who is it for, what problem does it solve?'
)


def length_hint(text: str) -> tuple[str, str]:
    """The live count and the core's message when the idea is out of bounds (empty until typed)."""
    size = len((text or '').strip())
    count = f'{size} / {IDEA_MAX}'
    if size > IDEA_MAX:
        return count, TOO_LONG
    if 0 < measure((text or '').strip()) < IDEA_MIN:
        return count, TOO_SHORT
    return count, ''


def register(svc: Services) -> None:
    @page_route.page('/projects/new', title='New project · Cofounder')
    async def new_project_page():  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, '/projects/new')
        if not isinstance(user, User):
            return user
        fast = await fast_path.enabled(svc, user)
        with theme.frame('New project', user, offline_model=svc.offline_model):
            _form(svc, user, fast=fast)
        return None


def _form(svc: Services, user: User, *, fast: bool = False) -> None:
    with ui.card().classes('w-full max-w-3xl mx-auto p-6 gap-3'):
        ui.label('What do you want to build?').classes('text-2xl font-semibold')
        ui.label(
            'Describe the idea in your own words, in any language. A few sentences are enough: '
            'I will ask a few questions next.'
        ).classes('text-slate-500')
        idea = ui.textarea(placeholder=PLACEHOLDER).props(f'outlined autogrow autofocus maxlength={IDEA_MAX}')
        idea.classes('w-full text-base').mark('idea-input')
        with ui.row().classes('w-full items-center justify-between'):
            hint = ui.label().classes('text-sm text-amber-700').mark('idea-hint')
            count = ui.label(f'0 / {IDEA_MAX}').classes('text-sm text-slate-500').mark('idea-count')
        error = ui.label().classes('text-negative').mark('idea-error')

        def on_change() -> None:
            shown, message = length_hint(idea.value)
            count.set_text(shown)
            hint.set_text(message)

        idea.on_value_change(on_change)
        with ui.row().classes('w-full items-center justify-between'):
            ui.label('Enter to continue · Shift+Enter for a new line').classes('text-xs text-slate-400')
            button = ui.button('Continue', icon='arrow_forward').props('unelevated').mark('idea-continue')
        if fast:  # the beta fast path, second to the recommended questions
            fast_path.FastPathButton(svc, user, idea, error, [button])

    async def submit() -> None:
        if not button.enabled:
            return  # a second Enter while the first one is saving
        error.set_text('')
        button.disable()
        try:
            async with svc.sessions() as session:
                project = await create_project(session, user=user, idea=idea.value or '')
        except CofounderError as problem:
            # the live hint already says when the idea is too short or too long: say it once
            error.set_text('' if str(problem) == hint.text else str(problem))
            button.enable()
            return
        ui.navigate.to(f'/projects/{project.id}/interview')

    button.on_click(submit)
    idea.on('keydown.enter.exact.prevent', submit)
    idea.on('keydown.enter.ctrl.prevent', submit)
    idea.on('keydown.enter.meta.prevent', submit)
