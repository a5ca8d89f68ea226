"""The live build page (UI-1 … UI-8, B-6, B-9): `/projects/{id}/build` (latest build) and `/builds/{id}`.

The page is drawn once from the job row, then every change arrives as a build event pushed by the
server (`ui.live.follow`). Clocks (elapsed time, countdown) tick in the browser; the one server timer
checks, from the local clock, whether the feed owes the founder a reassurance. Nothing polls the database.
"""

from __future__ import annotations

from nicegui import background_tasks, ui

from core.builds import jobs
from core.builds.escalations import STOP, answer_escalation
from core.builds.preview import auto_resume_due, preview_path, resume_preview
from core.builds.states import IllegalTransition
from core.errors import CofounderError
from core.events import BuildDone, BuildEvent, StageChanged
from core.models import BuildJob, Project, User
from core.services import Services
from ui import auth, live, page_route, theme
from ui.components.activity_feed import ActivityFeed
from ui.components.agent_card import AgentCard
from ui.components.budget_meter import BudgetMeter
from ui.components.build_result import failure_card, ready_summary
from ui.components.docs_panel import DocsPanel
from ui.components.gate2_card import Gate2Slot
from ui.components.kanban import Kanban
from ui.components.preview import PreviewPane
from ui.components.snapshot import LiveSnapshot
from ui.components.stage_bar import TERMINAL, StageBar
from ui.pages.project import not_found, owned_build, owned_project

REASSURANCE_CHECK_SECONDS = 5.0  # reassurance is due at 2 and 5 minutes: this is close enough


class BuildView:
    """One build, live: stage bar, agent card, Kanban, the three panels; when it ends, the result and the docs
    above the rest of the live view, folded into "Build history"."""

    def __init__(self, svc: Services, user: User, project: Project, job: BuildJob) -> None:
        self.svc, self.user, self.project, self.job = svc, user, project, job
        self.shown_state = ''

    async def render(self) -> None:
        job = self.job
        position = None
        if job.state == 'QUEUED':
            async with self.svc.sessions() as session:
                position = await jobs.queue_position(session, job=job)
        self._header()
        self.stage = StageBar(
            state=job.state, started_at=job.started_at, finished_at=job.finished_at, queue_position=position
        )
        self.result = ui.column().classes('w-full gap-4').mark('build-result')
        self.finished_docs = ui.column().classes('w-full')  # where the docs stay in view once the build ends
        self.history = ui.column().classes('w-full')
        with self.history, ui.column().classes('w-full gap-4') as self.live_box:
            self._board()
            self._panels()
        if job.state in TERMINAL:
            self._show_result(job)
        ui.timer(REASSURANCE_CHECK_SECONDS, self.feed.tick)  # clocks tick in the browser (ui.components.clock)
        live.follow(
            self.svc,
            job.id,
            after_seq=0,
            apply=[
                self.stage.apply,
                self.agent.apply,
                self.budget.apply,
                self.kanban.apply,
                self.feed.apply,
                self.snapshot.apply,
                self.docs.apply,
                self.apply,
            ],
        )

    def _header(self) -> None:
        with ui.row().classes('w-full items-center justify-between'):
            with ui.column().classes('gap-0'):
                ui.label(self.project.title).classes('text-2xl font-semibold').mark('build-title')
                ui.link('Back to the project', f'/projects/{self.project.id}').classes('text-sm')
            self.cancel_button = (
                ui.button('Cancel build', icon='stop_circle', on_click=self._confirm_cancel)
                .props('outline color=negative')
                .mark('cancel-build')
            )
            self.cancel_button.set_visibility(self.job.state not in TERMINAL)
        with ui.dialog() as self.cancel_dialog, ui.card().classes('p-5 gap-3').mark('cancel-dialog'):
            ui.label('Cancel this build?').classes('text-lg font-semibold')
            ui.label(
                'The agent stops and its workspace is closed. Your project stays as it is, and you can '
                'start again later.'
            ).classes('text-sm text-slate-600')
            with ui.row().classes('w-full justify-end gap-2'):
                ui.button('Keep building', on_click=self.cancel_dialog.close).props('flat').mark('keep-building')
                ui.button('Cancel build', on_click=self._cancel).props('color=negative').mark('confirm-cancel')

    def _board(self) -> None:
        job = self.job
        with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-4 gap-4 items-start'):
            with ui.column().classes('w-full gap-4'):
                self.agent = AgentCard(
                    state=job.state,
                    started_at=job.started_at,
                    wake_at=job.wake_at,
                    error=job.error_summary,
                    answer=self._answer,
                )
                # Until the build starts its model is not fixed yet (BU-7): the default is what it will most likely get.
                self.budget = BudgetMeter(
                    tokens=job.input_tokens + job.output_tokens,
                    cost_microdollars=job.cost_microdollars,
                    model=job.model or self.svc.model,
                )
            with ui.column().classes('w-full lg:col-span-3'):
                self.kanban = Kanban()

    def _panels(self) -> None:
        """Feed | snapshot | docs at ≥ 1024 px; snapshot, feed, then collapsed docs on small screens."""
        job = self.job
        with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-4 gap-4 items-start').mark('panels'):
            with ui.column().classes('w-full order-2 lg:order-1'):
                self.feed = ActivityFeed(state=job.state, started_at=job.started_at)
            with ui.column().classes('w-full lg:col-span-2 order-1 lg:order-2'):
                self.snapshot = LiveSnapshot(app_name=self.project.title)
            with ui.card().classes('w-full p-3 order-3') as self.docs_card:
                self.docs_toggle = (
                    ui.button('Documentation', icon='expand_more')
                    .props('flat no-caps')
                    .classes('w-full lg:hidden')
                    .mark('docs-toggle')
                )
                with ui.column().classes('w-full max-lg:hidden') as self.docs_box:
                    self.docs = DocsPanel(app_name=self.project.title)
                self.docs_toggle.on_click(lambda: self.docs_box.classes(toggle='max-lg:hidden'))

    # ── following the end of the build ──

    def apply(self, event: BuildEvent) -> None:
        state = (
            event.state if isinstance(event, BuildDone) else (event.to_state if isinstance(event, StageChanged) else '')
        )
        if state in TERMINAL and state != self.shown_state:
            self.shown_state = state  # set now: a StageChanged and a BuildDone for one end load once
            background_tasks.create(self._load_result(), name='build result', context=self.result)

    async def _load_result(self) -> None:
        async with self.svc.sessions() as session:
            job = await jobs.get_build(session, user=self.user, job_id=self.job.id)
        self.job = job
        self._show_result(job)

    def _show_result(self, job: BuildJob) -> None:
        self.shown_state = job.state
        self.cancel_button.set_visibility(False)
        self.result.clear()
        with self.result:
            if job.state == 'READY':
                ready_summary(job)
                PreviewPane(src=preview_path(job), running=job.preview_state == 'running', resume=self._resume,
                            auto_resume=auto_resume_due(job))  # fmt: skip
                Gate2Slot(self.svc, self.user, self.project, job)  # IT-1: seen running → iterate / ship / park
            else:
                failure_card(job, retry=self._retry)
        if not self.history.is_deleted and self.live_box.parent_slot.parent is self.history:
            self._keep_docs_in_view()
            with self.history:  # the rest of the live view folds away; open when the founder must find out why
                box = (
                    ui.expansion('Build history', icon='history', value=job.state != 'READY')
                    .classes('w-full')
                    .mark('build-history')
                )
            self.live_box.move(box)

    def _keep_docs_in_view(self) -> None:
        """The documentation the founder may be reading moves under the result, open at every width."""
        self.docs_card.move(self.finished_docs)
        self.docs_card.classes(remove='order-3')
        self.docs_box.classes(remove='max-lg:hidden')
        self.docs_toggle.set_visibility(False)

    # ── actions ──

    async def _confirm_cancel(self) -> None:
        self.cancel_dialog.open()

    async def _cancel(self) -> None:
        self.cancel_dialog.close()
        try:
            async with self.svc.sessions() as session:
                job = await jobs.request_cancel(session, user=self.user, job_id=self.job.id, events=self.svc.events)
        except CofounderError as problem:
            ui.notify(str(problem), type='warning')
            return
        if job.state == 'CANCELLED':  # it was waiting (queued, resting, asking): nothing to stop
            ui.notify('Build cancelled.')
        else:
            ui.notify('Cancelling: the agent stops after its current step.')

    async def _answer(self, choice: str) -> bool:
        """The founder's decision on the agent's question (AG-8): stored, given to the agent, the build resumed."""
        # The card draws itself again when the build resumes (an event that may come before this returns), and
        # the button that called this goes with it: notify through the page's client, not the button's slot.
        client = ui.context.client
        try:
            async with self.svc.sessions() as session:
                await answer_escalation(
                    session,
                    user=self.user,
                    job_id=self.job.id,
                    choice=choice,
                    queue=self.svc.queue,
                    events=self.svc.events,
                    sessions=self.svc.sessions,
                )
        except (CofounderError, IllegalTransition) as problem:  # IllegalTransition: cancelled at the same moment
            with client:
                ui.notify(
                    str(problem) if isinstance(problem, CofounderError) else 'This build is not waiting any more.',
                    type='warning',
                )
            return False
        with client:
            ui.notify(
                'Stopping the build, as you decided.' if choice == STOP else 'Thanks — back to work with your decision.'
            )
        return True

    async def _retry(self) -> None:
        try:
            async with self.svc.sessions() as session:
                new = await jobs.retry_build(
                    session, user=self.user, job_id=self.job.id, queue=self.svc.queue, events=self.svc.events
                )
        except CofounderError as problem:
            ui.notify(str(problem), type='warning')
            return
        ui.navigate.to(f'/builds/{new.id}')

    async def _resume(self) -> str:
        async with self.svc.sessions() as session:
            self.job = await resume_preview(session, user=self.user, job_id=self.job.id, sandboxes=self.svc.sandboxes)
        return preview_path(self.job)


def _no_build(svc: Services, user: User, project: Project) -> None:
    with ui.card().classes('w-full items-center p-10 text-center gap-3').mark('no-build'):
        ui.icon('construction', size='48px').classes('text-primary')
        ui.label('No build yet').classes('text-xl font-semibold')
        ui.label('Once you have chosen an execution plan, start a build and watch your app take shape here.').classes(
            'text-slate-500 max-w-lg'
        )
        error = ui.label().classes('text-negative text-sm').mark('build-error')

        async def start() -> None:
            try:
                async with svc.sessions() as session:
                    job = await jobs.start_build(
                        session, user=user, project_id=project.id, queue=svc.queue, events=svc.events
                    )
            except CofounderError as problem:
                error.set_text(str(problem))
                return
            ui.navigate.to(f'/builds/{job.id}')

        with ui.row().classes('gap-2'):
            ui.button('Start build', icon='rocket_launch', on_click=start).mark('start-build')
            ui.button('Back to the project', on_click=lambda: ui.navigate.to(f'/projects/{project.id}')).props(
                'flat'
            ).mark('back-to-project')


def register(svc: Services) -> None:
    @page_route.page('/projects/{project_id}/build', title='Build · Cofounder')
    async def project_build_page(project_id: str):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/projects/{project_id}/build')
        if not isinstance(user, User):
            return user
        project = await owned_project(svc, user, project_id)
        job = None
        if project is not None:
            async with svc.sessions() as session:
                job = await jobs.latest_build(session, user=user, project_id=project.id)
        with theme.frame(
            f'Build · {project.title}' if project else 'Not found',
            user,
            offline_model=svc.offline_model,
            project_id=project.id if project else None,
        ):
            if project is None:
                not_found()
            elif job is None:
                _no_build(svc, user, project)
            else:
                await BuildView(svc, user, project, job).render()
        return None

    @page_route.page('/builds/{job_id}', title='Build · Cofounder')
    async def build_page(job_id: str):  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, f'/builds/{job_id}')
        if not isinstance(user, User):
            return user
        found = await owned_build(svc, user, job_id)
        with theme.frame(
            f'Build · {found[0].title}' if found else 'Not found',
            user,
            offline_model=svc.offline_model,
            project_id=found[0].id if found else None,
        ):
            if found is None:
                not_found('Build')
            else:
                await BuildView(svc, user, *found).render()
        return None
