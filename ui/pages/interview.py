"""Onboarding and the understanding interview (J-2, J-3): `/projects/{id}/interview`.

One conversation, one question per screen: onboarding's questions, then only the interview questions it did
not already ask, numbered as one run ("Question 5 of 6"). Every answer is saved as typed: a change
schedules a save a moment later (the newest text wins), leaving the field, Back, Next and closing the
tab save at once. The screen the founder is on is saved too, so a reload or a visit next week resumes
on the same question with the same text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import background_tasks, ui

from core.errors import CofounderError, InvalidInput, NotFound
from core.journey import interview, onboarding
from core.journey.interview import ANSWER_MAX
from core.models import InterviewSession, Project, User
from core.services import Services
from ui.components.journey_steps import JourneySteps
from ui.pages.project import ModelWork, owned_project, register_journey_page

DEBOUNCE_SECONDS = 0.4
TITLES = {'onboarding': 'Getting to know your idea', 'understanding': 'Getting to know your idea'}
INTROS = {
    'onboarding': 'Short answers are fine. Everything is saved as you type.',
    'understanding': 'A few more, one at a time: nothing you already answered is asked again. Everything is saved '
    'as you type.',
}


class AnswerSaver:
    """Debounced, serialised saves of the answers of one interview (the newest text of a key wins)."""

    def __init__(self, svc: Services, user: User, project: Project, kind: str, status: ui.label) -> None:
        self.svc, self.user, self.project, self.kind, self.status = svc, user, project, kind, status
        self.pending: dict[str, str] = {}
        self.generation = 0
        self.lock = asyncio.Lock()

    def changed(self, key: str, text: str) -> None:
        self.pending[key] = text
        self.generation += 1
        self.status.set_text('Saving…')
        background_tasks.create(self._later(self.generation), name='save interview answer')

    async def _later(self, generation: int) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        if generation == self.generation:  # typing went on: the newer call saves
            await self.flush()

    async def flush(self) -> bool:
        """Save what is pending now; False (and the reason shown) when the core refused it."""
        async with self.lock:
            while self.pending:
                key, text = next(iter(self.pending.items()))
                try:
                    async with self.svc.sessions() as session:
                        await interview.save_answer(
                            session, user=self.user, project_id=self.project.id, kind=self.kind, key=key, text=text
                        )
                except CofounderError as problem:
                    self.status.set_text(str(problem))
                    self.status.classes(replace='text-sm text-negative')
                    return False
                if self.pending.get(key) == text:
                    del self.pending[key]
            self.status.set_text('Saved')
            self.status.classes(replace='text-sm text-emerald-600')
            return True


class QuestionFlow:
    """The screens of one interview; `on_finished()` runs once it is completed."""

    def __init__(
        self,
        svc: Services,
        user: User,
        project: Project,
        row: InterviewSession,
        on_finished: Callable[[], Awaitable[None]],
        *,
        offset: int = 0,
        total: int | None = None,
    ) -> None:
        self.svc, self.user, self.project, self.on_finished = svc, user, project, on_finished
        self.offset, self.total = offset, total  # numbering across the whole conversation
        self.kind, self.questions = row.kind, list(row.questions)
        self.answers: dict[str, str] = dict(row.answers)
        self.index = max(0, min(row.current_index, len(self.questions) - 1))
        self.box = ui.column().classes('w-full max-w-3xl mx-auto gap-3').mark(f'flow-{self.kind}')
        self.saver: AnswerSaver | None = None
        ui.context.client.on_disconnect(self._flush)  # closing the tab mid-debounce keeps the text
        self.show()

    async def _flush(self) -> bool:
        return await self.saver.flush() if self.saver else True

    def show(self) -> None:
        self.box.clear()
        question = self.questions[self.index]
        total = max(self.total or 0, self.offset + len(self.questions))
        number = self.offset + self.index + 1
        with self.box, ui.card().classes('w-full p-6 gap-3'):
            ui.label(TITLES.get(self.kind, 'Questions')).classes('text-sm uppercase tracking-wide text-primary')
            ui.label(INTROS.get(self.kind, '')).classes('text-xs text-slate-500')
            with ui.row().classes('w-full items-center gap-3 no-wrap'):
                ui.linear_progress(number / total, show_value=False).props(
                    'rounded size=8px aria-label="Interview progress"'
                ).classes('grow')
                ui.label(f'Question {number} of {total}').classes('text-sm whitespace-nowrap').mark('question-progress')
            ui.label(question['text']).classes('text-xl font-medium').mark('question-text')
            answer = ui.textarea(placeholder=question.get('hint') or '', value=self.answers.get(question['key'], ''))
            answer.props(f'outlined autogrow autofocus maxlength={ANSWER_MAX}')
            answer.classes('w-full text-base').mark('answer')
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Enter for the next question · Shift+Enter for a new line').classes('text-xs text-slate-400')
                status = ui.label().classes('text-sm text-emerald-600').mark('saved-indicator')
            self.saver = AnswerSaver(self.svc, self.user, self.project, self.kind, status)
            self.missing = ui.column().classes('w-full gap-1').mark('missing-answers')
            with ui.row().classes('w-full justify-between'):
                back = ui.button('Back', icon='arrow_back', on_click=lambda: self.go(self.index - 1)).props('flat')
                back.mark('back')
                back.set_enabled(self.index > 0)
                last = self.index + 1 == len(self.questions)
                ui.button(
                    'Finish' if last else 'Next', icon='check' if last else 'arrow_forward', on_click=self.next
                ).props('unelevated').mark('finish' if last else 'next')
        saver = self.saver
        answer.on_value_change(lambda e: self._typed(saver, question['key'], e.value))
        answer.on('blur', saver.flush)
        answer.on('keydown.enter.exact.prevent', self.next)

    def _typed(self, saver: AnswerSaver, key: str, text: str | None) -> None:
        self.answers[key] = text or ''
        saver.changed(key, text or '')

    async def next(self) -> None:
        if self.index + 1 < len(self.questions):
            await self.go(self.index + 1)
        else:
            await self.finish()

    async def go(self, index: int) -> None:
        if not 0 <= index < len(self.questions) or not await self._flush():
            return
        self.index = index
        try:
            async with self.svc.sessions() as session:
                await interview.set_position(
                    session, user=self.user, project_id=self.project.id, kind=self.kind, index=index
                )
        except CofounderError as problem:
            ui.notify(str(problem), type='negative')
        self.show()

    async def finish(self) -> None:
        if not await self._flush():
            return
        try:
            async with self.svc.sessions() as session:
                if self.kind == 'onboarding':
                    await onboarding.complete_onboarding(session, user=self.user, project_id=self.project.id)
                else:
                    await interview.complete_interview(session, user=self.user, project_id=self.project.id)
        except InvalidInput as problem:
            self._show_missing(str(problem))
            return
        except CofounderError as problem:
            self._show_missing(str(problem), list_them=False)
            return
        await self.on_finished()

    def _show_missing(self, message: str, *, list_them: bool = True) -> None:
        self.missing.clear()
        with self.missing:
            ui.label(message).classes('text-negative font-medium').mark('missing-message')
            if not list_them:
                return
            for i, q in enumerate(self.questions):
                if not (self.answers.get(q['key']) or '').strip():
                    ui.link(f'Question {i + 1}: {q["text"]}').classes('text-sm cursor-pointer').on(
                        'click', lambda i=i: self.go(i)
                    ).mark('missing-question')


async def _session(svc: Services, user: User, project: Project, kind: str) -> InterviewSession | None:
    try:
        async with svc.sessions() as session:
            return await interview.get_interview(session, user=user, project_id=project.id, kind=kind)
    except NotFound:
        return None


class InterviewPage:
    """Onboarding first (questions from the model), then the understanding interview, then the brief."""

    def __init__(self, svc: Services, user: User, project: Project, steps: JourneySteps) -> None:
        self.svc, self.user, self.project, self.steps = svc, user, project, steps
        self.body = ui.column().classes('w-full gap-4')
        self.work = ModelWork('Reading your idea and preparing a few questions…', marker='questions')

    async def render(self) -> None:
        self.project = await owned_project(self.svc, self.user, str(self.project.id)) or self.project
        self.steps.set_stage(self.project.stage)
        self.body.clear()
        onboard = await _session(self.svc, self.user, self.project, 'onboarding')
        if onboard is None:
            self.work.label.set_text('Reading your idea and preparing a few questions…')
            await self.work.run(self._start_onboarding, self._started)
            return
        if not onboard.completed:
            total = len(onboard.questions) + len(interview.KEYS) - len(interview.covered(onboard, answered=False))
            with self.body:
                QuestionFlow(self.svc, self.user, self.project, onboard, self.render, total=total)
            return
        understanding = await _session(self.svc, self.user, self.project, 'understanding')
        if understanding is None:
            async with self.svc.sessions() as session:
                understanding = await interview.start_interview(session, user=self.user, project_id=self.project.id)
        if not understanding.completed:
            with self.body:
                QuestionFlow(self.svc, self.user, self.project, understanding, self._to_brief,
                             offset=len(onboard.questions))  # fmt: skip
            return
        with self.body:
            _completed(self.project, onboard, understanding)

    async def _start_onboarding(self) -> InterviewSession:
        async with self.svc.sessions() as session:
            return await onboarding.start_onboarding(
                session, user=self.user, project_id=self.project.id, llm=self.svc.llm_for(self.user.id, self.project.id)
            )

    async def _started(self, _: Any) -> None:
        await self.render()

    async def _to_brief(self) -> None:
        ui.navigate.to(f'/projects/{self.project.id}/brief')


def _completed(project: Project, *rows: InterviewSession) -> None:
    with ui.card().classes('w-full max-w-3xl mx-auto p-6 gap-3').mark('interview-complete'):
        ui.label('Interview complete').classes('text-xl font-semibold')
        ui.label('Thank you. This is what you told me; your Idea Brief is written from it.').classes('text-slate-500')
        for row in rows:
            for q in row.questions:
                ui.label(q['text']).classes('font-medium mt-2')
                ui.label(row.answers.get(q['key'], '')).classes(
                    'whitespace-pre-line text-slate-700 dark:text-slate-300'
                )
        ui.button(
            'Go to your Idea Brief',
            icon='arrow_forward',
            on_click=lambda: ui.navigate.to(f'/projects/{project.id}/brief'),
        ).props('unelevated autofocus').mark('to-brief')


def register(svc: Services) -> None:
    register_journey_page(svc, 'interview', 'Interview', InterviewPage, blocked_when_parked=True)
