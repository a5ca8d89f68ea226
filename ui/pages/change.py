"""Ask for a change (IT-2): `/projects/{id}/change`.

The founder types the change; a vague one gets one or two clarifying questions (answers saved as typed); then
the change request artifact: the version it changes, what will and will not change, how well it fits the MVP
(a coloured badge that says it in words, with the reason and a suggestion when it does not fit well) and
"Iteration N of M". Confirm starts the iteration build and opens its page. Past the plan's iteration limit the
founder is told why and what to do. Everything the founder typed is shown as text.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from core.builds.versions import list_versions
from core.errors import CofounderError
from core.journey import change_requests, interview
from core.journey.change_requests import REQUEST_MAX
from core.journey.interview import ANSWER_MAX, find_session
from core.models import Artifact, InterviewSession, Project, User
from core.services import Services
from ui.components.admin_flags import beta_badge
from ui.components.journey_steps import JourneySteps
from ui.pages.project import register_journey_page

BANDS = {  # band → (badge colour, words)
    'green': ('positive', 'Fits your MVP'),
    'yellow': ('warning', 'Adds something new'),
    'scope_creep': ('negative', 'Scope creep'),
}


class ChangePage:
    def __init__(self, svc: Services, user: User, project: Project, steps: JourneySteps) -> None:
        self.svc, self.user, self.project = svc, user, project
        self.answers: dict[str, ui.textarea] = {}
        self.saved: dict[str, str] = {}  # what the database holds of each answer
        self.talk: InterviewSession | None = None

    async def render(self) -> None:
        async with self.svc.sessions() as session:
            listed = await list_versions(session, user=self.user, project_id=self.project.id)
            number, limit = await change_requests.iteration_count(session, user=self.user, project_id=self.project.id)
            talk = await find_session(session, project_id=self.project.id, kind='change')
        with ui.row().classes('items-center gap-2'):
            ui.label('Ask for a change').classes('text-2xl font-semibold')
            beta_badge('iterations')  # AD-3: iteration builds are a beta feature
        if not listed:
            ui.label('Ask for a change once a version of your app is ready.').classes('text-slate-500').mark(
                'change-no-version'
            )
            return
        with ui.row().classes('items-center gap-2'):
            ui.label(f'You are changing {listed[0].label}, your current version.').classes('text-slate-600')
            ui.badge(f'Iteration {number} of {limit}', color='primary').props('outline').mark('change-count')
        if number > limit:
            with ui.card().classes('w-full p-5 gap-2 bg-amber-50 dark:bg-amber-950 border border-amber-300'):
                ui.label('No iterations left on your plan').classes('font-semibold')
                ui.label(change_requests.limit_reached(limit)).mark('change-limit')
                ui.link('Back to the project', f'/projects/{self.project.id}')
            return
        resume = talk if talk is not None and not talk.completed else None
        self.form = ui.column().classes('w-full gap-3')
        with self.form:
            ui.label(
                'One change at a time works best: name the page or the feature, and what a visitor should see.'
            ).classes('text-sm text-slate-500')
            self.request = (
                ui.textarea(
                    'What would you like to change?', value=(resume.answers.get('request', '') if resume else '')
                )
                .props(f'outlined autogrow autofocus maxlength={REQUEST_MAX}')
                .classes('w-full')
                .mark('change-request')
            )
            self.start_button = ui.button('Continue', icon='arrow_forward', on_click=self.start).mark('change-start')
            self.questions = ui.column().classes('w-full gap-3')
        self.error = ui.label().classes('text-negative').mark('change-error')
        self.draft_box = ui.column().classes('w-full gap-3')
        if resume is not None and len(resume.questions) > 1:
            self._show_questions(resume)

    async def start(self) -> None:
        self.error.set_text('')
        try:
            async with self.svc.sessions() as session:
                talk = await change_requests.start_change(
                    session, user=self.user, project_id=self.project.id, request=self.request.value or ''
                )
        except CofounderError as problem:
            self.error.set_text(str(problem))
            return
        if len(talk.questions) > 1:
            self._show_questions(talk)
        else:
            self.questions.clear()
            await self.draft()

    def _show_questions(self, talk: InterviewSession) -> None:
        self.talk = talk
        self.answers = {}
        self.saved = {q['key']: talk.answers.get(q['key'], '') for q in talk.questions[1:]}
        self.draft_box.clear()
        self.questions.clear()
        with self.questions:
            ui.label('A few words more, so the change is the one you mean:').classes('font-medium')
            for question in talk.questions[1:]:
                key = question['key']
                ui.label(question['text']).classes('text-slate-700 dark:text-slate-200').mark(f'change-question-{key}')
                field = (
                    ui.textarea(value=talk.answers.get(key, ''))
                    .props(f'outlined autogrow maxlength={ANSWER_MAX}')
                    .classes('w-full')
                    .mark(f'change-answer-{key}')
                )
                field.on('blur', lambda _, k=key: self._save(k))
                self.answers[key] = field
            ui.button('Draft the change request', icon='description', on_click=self.draft).mark('change-draft')

    async def _save(self, key: str) -> bool:
        field = self.answers.get(key)
        if field is None or (field.value or '') == self.saved.get(key, ''):
            return True
        try:
            async with self.svc.sessions() as session:
                await interview.save_answer(session, user=self.user, project_id=self.project.id, kind='change',
                                            key=key, text=field.value or '')  # fmt: skip
        except CofounderError as problem:
            self.error.set_text(str(problem))
            return False
        self.saved[key] = field.value or ''
        return True

    async def draft(self) -> None:
        self.error.set_text('')
        for key in self.answers:
            if not await self._save(key):
                return
        try:
            async with self.svc.sessions() as session:
                artifact = await change_requests.draft_change(session, user=self.user, project_id=self.project.id)
        except CofounderError as problem:
            self.error.set_text(str(problem))
            return
        self.draft_box.clear()
        with self.draft_box:
            change_request_card(artifact, confirm=lambda: self.confirm(artifact), edit=self.edit)
        self.form.set_visibility(False)

    def edit(self) -> None:
        self.draft_box.clear()
        self.form.set_visibility(True)

    async def confirm(self, artifact: Artifact) -> None:
        try:
            async with self.svc.sessions() as session:
                job = await change_requests.confirm_change(session, user=self.user, project_id=self.project.id,
                                                           artifact_id=artifact.id, queue=self.svc.queue,
                                                           events=self.svc.events)  # fmt: skip
        except CofounderError as problem:
            self.error.set_text(str(problem))
            return
        ui.navigate.to(f'/builds/{job.id}')


def _items(title: str, items: list[Any], marker: str) -> None:
    ui.label(title).classes('font-semibold')
    with ui.column().classes('gap-0 text-sm').mark(marker):
        for item in items or ['—']:
            ui.label(f'• {item}').classes('whitespace-pre-line break-words')


def change_request_card(artifact: Artifact, *, confirm: Any, edit: Any) -> ui.card:
    """The drafted change request, with Confirm and a way back to the request."""
    content = artifact.content
    fit = content.get('alignment') or {}
    colour, words = BANDS.get(str(fit.get('band')), ('grey', str(fit.get('band', ''))))
    with ui.card().classes('w-full p-5 gap-3').mark('change-artifact') as card:
        with ui.row().classes('w-full items-center justify-between'):
            ui.label(f'Change request for {content.get("version") or "your app"}').classes(
                'text-xl font-semibold'
            ).mark('change-version')
            ui.label(artifact.note).classes('text-slate-500').mark('change-iteration')
        _items('What will change', content.get('changes') or [], 'change-changes')
        _items('What will not change', content.get('unchanged') or [], 'change-unchanged')
        with ui.row().classes('items-center gap-2'):
            ui.label('Fit with your MVP').classes('font-semibold')
            ui.badge(f'{words} · {fit.get("score", "?")}/100', color=colour).classes('text-sm px-2 py-1').mark(
                'change-alignment'
            )
        if fit.get('reason'):
            ui.label(str(fit['reason'])).classes('text-sm').mark('change-reason')
        if fit.get('band') != 'green' and fit.get('suggestion'):
            ui.label(f'Suggestion: {fit["suggestion"]}').classes('text-sm text-amber-800 dark:text-amber-200').mark(
                'change-suggestion'
            )
        with ui.row().classes('gap-2'):
            ui.button('Confirm and build', icon='rocket_launch', on_click=confirm).props('unelevated').mark(
                'change-confirm'
            )
            ui.button('Change the request', icon='edit', on_click=edit).props('flat no-caps').mark('change-edit')
    return card


def register(svc: Services) -> None:
    register_journey_page(svc, 'change', 'Ask for a change', ChangePage, blocked_when_parked=True)
