"""The project page (J-7, J-8): where the project is, what to do next, its documents, builds and timeline.

The owner alone sees a project; anyone else gets "not found" (the same answer as a missing one).
Shared by the journey pages: `not_found`, `owned_project`, `parked_banner` and `ModelWork` (progress
while the model thinks, a friendly error with Retry when it fails).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from nicegui import ui

from core.builds import jobs, readiness
from core.errors import CofounderError, ModelUnavailable
from core.journey import brief, flow, gates, projects
from core.journey.dashboard import completion_percent, verified_features
from core.journey.gates import GATE_LABELS
from core.models import BuildJob, Project, User
from core.services import Services
from core.spending import SpendReport, spend_report
from ui import auth, page_route, theme
from ui.components.journey_steps import JourneySteps, journey_steps, next_step
from ui.components.project_manage import archived_banner, manage_card
from ui.components.readiness import readiness_section
from ui.components.spend_chart import SpendChart
from ui.components.timeline import timeline_list
from ui.components.versions import iteration_section, load_iteration

BUILD_LABELS = {
    'QUEUED': 'Waiting to start',
    'STARTING': 'Starting',
    'SCAFFOLD': 'Setting up',
    'CODE': 'Writing the code',
    'DEPS': 'Installing',
    'CHECKS': 'Checking',
    'READY': 'Ready',
    'FAILED': 'Failed',
    'CANCELLED': 'Cancelled',
    'SLEEPING': 'Resting',
    'NEEDS_INPUT': 'Needs your input',
    'BUDGET_EXCEEDED': 'Budget exceeded',
}


def not_found(what: str = 'Project') -> None:
    with ui.card().classes('w-full p-8').mark('not-found'):
        ui.label(f'{what} not found').classes('text-xl font-semibold')
        ui.label('It may have been removed, or the link is wrong.').classes('text-slate-500')
        ui.link('Back to your dashboard', '/')


async def owned_build(svc: Services, user: User, job_id: str) -> tuple[Project, BuildJob] | None:
    """The build and its project if the build belongs to `user`; otherwise None (same answer for both)."""
    try:
        async with svc.sessions() as session:
            job = await jobs.get_build(session, user=user, job_id=job_id)
            project = await session.get(Project, job.project_id)
    except CofounderError:
        return None
    return (project, job) if project is not None else None


async def owned_project(svc: Services, user: User, project_id: str) -> Project | None:
    """The project if it exists and belongs to `user`; otherwise None (same answer for both)."""
    try:
        pid = uuid.UUID(project_id)
    except ValueError:
        return None
    try:
        async with svc.sessions() as session:
            return await projects.get_project(session, user=user, project_id=pid)
    except CofounderError:
        return None


def parked_banner(svc: Services, user: User, project: Project) -> None:
    """A parked project says so plainly and offers Unpark (which reloads the page)."""

    async def unpark() -> None:
        try:
            async with svc.sessions() as session:
                await flow.unpark(session, user=user, project_id=project.id)
        except CofounderError as problem:
            ui.notify(str(problem), type='negative')
            return
        ui.navigate.reload()

    with ui.card().classes('w-full bg-amber-50 dark:bg-amber-950 border border-amber-300').mark('parked-banner'):
        with ui.row().classes('w-full items-center justify-between'):
            with ui.row().classes('items-center gap-2'):
                ui.icon('pause_circle', size='28px').classes('text-amber-600')
                with ui.column().classes('gap-0'):
                    ui.label('This project is parked').classes('font-semibold')
                    ui.label('Nothing moves until you unpark it. Your documents and answers are kept.').classes(
                        'text-sm text-slate-600 dark:text-slate-300'
                    )
            ui.button('Unpark', icon='play_arrow', on_click=unpark).mark('unpark')


class ModelWork:
    """One model call with a visible "thinking" line; on failure a friendly message and Retry.

    `run(work, on_done)` disables the given buttons while the model thinks. Nothing the founder typed
    lives in here, so a retry never loses it: inputs stay where they are.
    """

    def __init__(self, thinking: str, *, marker: str = 'model') -> None:
        with ui.row().classes('items-center gap-3 py-2') as self.progress:
            ui.spinner(size='md')
            self.label = ui.label(thinking).classes('text-slate-600').mark(f'{marker}-thinking')
        self.progress.visible = False
        with ui.card().classes('w-full bg-red-50 dark:bg-red-950 border border-red-200') as self.error_box:
            with ui.row().classes('w-full items-center justify-between'):
                self.error = ui.label().classes('text-red-800 dark:text-red-200').mark(f'{marker}-error')
                self.retry = ui.button('Retry', icon='refresh', on_click=self._retry).mark(f'{marker}-retry')
        self.error_box.visible = False
        self._last: tuple[Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]] | None = None
        self.buttons: list[ui.button] = []

    async def _retry(self) -> None:
        if self._last:
            await self.run(*self._last)

    async def run(self, work: Callable[[], Awaitable[Any]], on_done: Callable[[Any], Awaitable[None]]) -> None:
        self._last = (work, on_done)
        self.error_box.visible = False
        self.error.set_text('')
        self.progress.visible = True
        for button in self.buttons:
            button.disable()
        try:
            result = await work()
        except CofounderError as problem:
            self.error.set_text(str(problem))
            self.retry.visible = isinstance(problem, ModelUnavailable)
            self.error_box.visible = True
            return
        finally:
            self.progress.visible = False
            for button in self.buttons:
                button.enable()
        await on_done(result)


def _card(title: str, marker: str) -> ui.card:
    card = ui.card().classes('w-full p-4 gap-2').mark(marker)
    with card:
        ui.label(title).classes('text-sm uppercase tracking-wide text-slate-500')
    return card


def _documents(project: Project, brief_row: Any, scope_row: Any) -> None:
    with _card('Documents', 'project-artifacts'):
        if brief_row is None:
            ui.label('No Idea Brief yet: it is written after the interview.').classes('text-slate-500')
            return
        ui.link(f'Idea Brief v{brief_row.version}', f'/projects/{project.id}/brief').classes('font-medium')
        if scope_row is not None:
            ui.label(f'MVP scope v{scope_row.version}').classes('font-medium')
            for feature in scope_row.content.get('features') or []:
                ui.label(f'• {feature.get("name", "")}').classes('text-sm')


def _decisions(project: Project, pending: list[Any]) -> None:
    with _card('Decisions waiting for you', 'project-decisions'):
        if not pending:
            ui.label('None right now.').classes('text-slate-500')
        for gate in pending:
            where = '/build' if gate.gate_type == 'solidification' else '/brief'  # Gate 2 sits under the version
            ui.link(GATE_LABELS.get(gate.gate_type, gate.gate_type), f'/projects/{project.id}{where}').mark(
                'pending-decision'
            )


def _build(project: Project, job: BuildJob | None, version: str | None, verified: tuple[int, int]) -> None:
    with _card('Build', 'project-build'):
        if job is None:
            ui.label('Not started yet.').classes('text-slate-500')
            return
        ui.label(BUILD_LABELS.get(job.state, job.state.title())).classes('text-lg font-medium').mark('build-state')
        if version:
            ui.label(f'Product version {version}').mark('product-version')
        passed, scoped = verified
        if scoped:  # progress is features that passed their check in a browser, not phases done
            ui.label(f'MVP {completion_percent(passed, scoped)}%: {passed} of {scoped} features verified').classes(
                'text-sm text-slate-600 dark:text-slate-300'
            ).mark('project-verified')
        ui.link('Open the build', f'/projects/{project.id}/build').mark('build-link')


def _spending(report: SpendReport) -> None:
    with _card('Spent on this project this period', 'project-spending'):
        SpendChart(report)


async def _load(svc: Services, user: User, project: Project) -> dict[str, Any]:
    async with svc.sessions() as session:
        iteration = await load_iteration(session, user, project)  # first: it may offer Gate 2
        all_gates = await gates.list_gates(session, user=user, project_id=project.id)
        builds = await jobs.list_builds(session, user=user, project_id=project.id)
        return {
            'brief': await brief.latest(session, project_id=project.id, kind='idea_brief'),
            'scope': await brief.latest(session, project_id=project.id, kind='mvp_scope'),
            'pending': [g for g in all_gates if g.status == 'pending'],
            'job': builds[0] if builds else None,
            'version': next((b.version_label for b in builds if b.state == 'READY' and b.version_label), None),
            'events': await projects.list_timeline(session, user=user, project_id=project.id),
            'spend': await spend_report(session, user, project_id=project.id),
            'iteration': iteration,
            'readiness': await readiness.latest_report(session, user=user, project_id=project.id),
            'verified': await verified_features(session, project.id),
        }


def _project_body(svc: Services, user: User, project: Project, data: dict[str, Any]) -> None:
    step = next_step(project.stage, plan_chosen=project.selected_plan_id is not None)
    with ui.row().classes('w-full items-start justify-between gap-4'):
        with ui.column().classes('gap-1 grow'):
            ui.label(project.title).classes('text-2xl font-semibold').mark('project-title')
            ui.label(project.idea).classes('text-slate-600 dark:text-slate-300 whitespace-pre-line').mark(
                'project-idea'
            )
        if not project.parked:
            ui.button(
                step.label, icon='arrow_forward', on_click=lambda: ui.navigate.to(f'/projects/{project.id}{step.path}')
            ).props('autofocus unelevated').mark('continue')
    if project.archived_at is not None:
        archived_banner(svc, user, project)
    if project.parked:
        parked_banner(svc, user, project)
    journey_steps(project.id, project.stage)
    with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-3 gap-4'):  # not ui.grid: stacks on a phone
        _documents(project, data['brief'], data['scope'])
        _decisions(project, data['pending'])
        _build(project, data['job'], data['version'], data['verified'])
    iteration_section(svc, user, project, data['iteration'])  # IT-1, IT-2, IT-5: Gate 2, versions, downloads
    readiness_section(data['readiness'])  # IT-4: only once a build produced a report
    _spending(data['spend'])
    with _card('Timeline', 'project-timeline'):
        timeline_list(data['events'])
    manage_card(svc, user, project)  # J-7: rename, archive, delete


def register(svc: Services) -> None:
    @page_route.page('/projects/{project_id}', title='Project · Cofounder')
    async def project_page(project_id: str):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/projects/{project_id}')
        if not isinstance(user, User):
            return user
        project = await owned_project(svc, user, project_id)
        data = await _load(svc, user, project) if project else {}
        with theme.frame(
            project.title if project else 'Not found',
            user,
            offline_model=svc.offline_model,
            project_id=project.id if project else None,
        ):
            if project is None:
                not_found()
                return None
            _project_body(svc, user, project, data)
        return None


class JourneyPage(Protocol):
    def __init__(self, svc: Services, user: User, project: Project, steps: JourneySteps) -> None: ...

    async def render(self) -> None: ...


def register_journey_page(
    svc: Services, suffix: str, title: str, page: type[JourneyPage], *, blocked_when_parked: bool = False
) -> None:
    """`/projects/{id}/<suffix>` for the project's owner (anyone else sees "not found"): back link, stepper and
    parked banner, then `page(...).render()` once the page is shown (the model may take a while)."""

    @page_route.page(f'/projects/{{project_id}}/{suffix}', title=f'{title} · Cofounder')
    async def journey_page(project_id: str):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/projects/{project_id}/{suffix}')
        if not isinstance(user, User):
            return user
        project = await owned_project(svc, user, project_id)
        with theme.frame(
            title if project else 'Not found',
            user,
            offline_model=svc.offline_model,
            project_id=project.id if project else None,
        ):
            if project is None:
                not_found()
                return None
            ui.link(f'← {project.title}', f'/projects/{project.id}').classes('text-slate-500 no-underline')
            steps = JourneySteps(project.id, project.stage)
            if project.parked:
                parked_banner(svc, user, project)
                if blocked_when_parked:
                    return None
            ui.timer(0, page(svc, user, project, steps).render, once=True)
        return None
