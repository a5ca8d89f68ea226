"""Execution plans (J-6): `/projects/{id}/plan`. Two or three options; choose one; then Build."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from core.builds import jobs
from core.errors import CofounderError
from core.journey import plans
from core.journey.plans import DIRECTION_FIRST
from core.journey.projects import stage_index
from core.models import PlanOption, Project, User
from core.services import Services
from ui.components.journey_steps import JourneySteps
from ui.pages.project import ModelWork, owned_project, register_journey_page


def _facts(plan: PlanOption) -> None:
    details = plan.details or {}
    for key, label, icon in (
        ('time', 'Time', 'schedule'),
        ('cost', 'Cost', 'payments'),
        ('risk', 'Risk', 'warning'),
        ('stack', 'Stack', 'layers'),
        ('model', 'Built by', 'smart_toy'),
        ('pace', 'Pace', 'speed'),
    ):
        if details.get(key):
            with ui.row().classes('w-full items-start gap-2 no-wrap text-sm'):
                ui.icon(icon, size='18px').classes('text-slate-500 dark:text-slate-400 mt-0.5')
                ui.label(f'{label}:').classes('font-medium')
                ui.label(str(details[key])).classes('min-w-0 grow break-words').mark(f'plan-{key}')


def _list(title: str, items: list[Any], marker: str, *, numbered: bool = False) -> None:
    if not items:
        return
    ui.label(title).classes('text-xs uppercase tracking-wide text-slate-600 dark:text-slate-300 mt-2')
    for i, item in enumerate(items, start=1):
        ui.label(f'{i}. {item}' if numbered else f'• {item}').classes('text-sm').mark(marker)


class PlanPage:
    def __init__(self, svc: Services, user: User, project: Project, steps: JourneySteps) -> None:
        self.svc, self.user, self.project, self.steps = svc, user, project, steps
        self.work = ModelWork('Preparing your plan options…', marker='plans')
        self.body = ui.column().classes('w-full gap-4')

    async def render(self) -> None:
        fresh = await owned_project(self.svc, self.user, str(self.project.id))
        self.project = fresh or self.project
        self.steps.set_stage(self.project.stage)
        self.body.clear()
        if stage_index(self.project.stage) < stage_index('plan'):
            with self.body, ui.card().classes('w-full p-6').mark('direction-first'):
                ui.label(DIRECTION_FIRST).classes('text-lg')
                ui.button(
                    'Open the Idea Brief',
                    icon='arrow_forward',
                    on_click=lambda: ui.navigate.to(f'/projects/{self.project.id}/brief'),
                ).props('autofocus')
            return
        async with self.svc.sessions() as session:
            options = await plans.list_plans(session, user=self.user, project_id=self.project.id)
        if not options:
            if not self.project.parked:
                await self.work.run(self._generate, self._show)
            return
        await self._show(options)

    async def _generate(self) -> list[PlanOption]:
        llm = self.svc.llm_for(self.user.id, self.project.id)
        async with self.svc.sessions() as session:
            return await plans.generate_plans(session, user=self.user, project_id=self.project.id, llm=llm)

    async def _show(self, options: list[PlanOption]) -> None:
        self.body.clear()
        chosen = next((p for p in options if p.id == self.project.selected_plan_id), None)
        with self.body:
            ui.label('Choose how to build it').classes('text-2xl font-semibold')
            ui.label(
                'The plans differ in what is built (the must-haves, every feature, sign-in) and so in time and cost, '
                'estimated for the model that will build and your plan.'
            ).classes('text-slate-600 dark:text-slate-300')
            # Stacked on a phone: Tailwind's columns, since ui.grid(columns=…) sets an inline style that wins.
            columns = {1: 'md:grid-cols-1', 2: 'md:grid-cols-2'}.get(len(options), 'md:grid-cols-3')
            with ui.element('div').classes(f'w-full grid grid-cols-1 {columns} gap-4'):
                for option in options:
                    self._card(option, option is chosen)
            if chosen is not None:
                self._build_bar(chosen)

    def _card(self, plan: PlanOption, chosen: bool) -> None:
        border = 'border-2 border-primary' if chosen else ''
        with ui.card().classes(f'w-full p-5 gap-1 {border}').mark(f'plan-{plan.key}'):
            with ui.row().classes('w-full items-center justify-between no-wrap gap-2'):
                ui.label(plan.title).classes('text-lg font-semibold min-w-0 break-words')
                if chosen:
                    ui.label('Chosen').classes('text-xs px-2 rounded-full bg-primary text-white').mark('plan-chosen')
            ui.label(plan.summary).classes('text-slate-600 dark:text-slate-300')
            _facts(plan)
            _list('Builds', plan.details.get('features') or [], 'plan-feature')
            _list('Left for later', plan.details.get('left_out') or [], 'plan-left-out')
            _list('Trade-offs', plan.details.get('tradeoffs') or [], 'plan-tradeoff')
            _list('Phases', plan.details.get('phases') or [], 'plan-phase', numbered=True)
            if not chosen and not self.project.parked:
                ui.button('Choose this plan', icon='check', on_click=lambda p=plan: self.choose(p)).props(
                    'outline'
                ).classes('mt-2').mark(f'choose-{plan.key}')

    def _build_bar(self, plan: PlanOption) -> None:
        building = stage_index(self.project.stage) >= stage_index('building')
        with ui.card().classes('w-full p-5 items-center gap-2 bg-indigo-50 dark:bg-indigo-950').mark('build-bar'):
            ui.label(f'Ready to build with “{plan.title}”.').classes('text-lg')
            ui.label('The agent builds the MVP in a sandbox while you watch, and tells you when it is ready.').classes(
                'text-sm text-slate-600 dark:text-slate-300 text-center'
            )
            error = ui.label().classes('text-negative').mark('build-error')
            with ui.row().classes('gap-2'):
                if not self.project.parked:
                    ui.button('Build', icon='rocket_launch', on_click=lambda: self.build(error)).props(
                        'unelevated size=lg autofocus'
                    ).mark('build-button')
                if building:
                    ui.button(
                        'Watch the build',
                        icon='visibility',
                        on_click=lambda: ui.navigate.to(f'/projects/{self.project.id}/build'),
                    ).props('flat').mark('watch-build')

    async def choose(self, plan: PlanOption) -> None:
        try:
            async with self.svc.sessions() as session:
                await plans.select_plan(session, user=self.user, project_id=self.project.id, plan_id=plan.id)
        except CofounderError as problem:
            ui.notify(str(problem), type='negative')
            return
        await self.render()

    async def build(self, error: ui.label) -> None:
        error.set_text('')
        try:
            async with self.svc.sessions() as session:
                await jobs.start_build(
                    session, user=self.user, project_id=self.project.id, queue=self.svc.queue, events=self.svc.events
                )
        except CofounderError as problem:
            error.set_text(str(problem))
            return
        ui.navigate.to(f'/projects/{self.project.id}/build')


def register(svc: Services) -> None:
    register_journey_page(svc, 'plan', 'Plan', PlanPage)
