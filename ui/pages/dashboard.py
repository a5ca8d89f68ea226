"""The founder's dashboard (J-7): one card per project from `core.journey.dashboard`."""

from __future__ import annotations

from nicegui import ui

from core.journey.dashboard import BUILD_DECISION, ProjectSummary, dashboard
from core.journey.gates import GATE_LABELS
from core.journey.projects import archived_ids
from core.models import User
from core.services import Services
from core.spending import SpendReport, spend_report
from ui import auth, page_route, theme
from ui.components.journey_steps import next_step
from ui.components.readiness import traffic_light
from ui.components.spend_chart import SpendChart
from ui.pages.project import BUILD_LABELS

ARTIFACT_LABELS = {'idea_brief': 'Idea Brief', 'mvp_scope': 'MVP scope', 'deploy_report': 'Deploy readiness'}


def register(svc: Services) -> None:
    @page_route.page('/', title='Dashboard · Cofounder')
    async def dashboard_page():  # type: ignore[no-untyped-def]
        user = await auth.page_user(svc, '/')
        if not isinstance(user, User):
            return user
        async with svc.sessions() as session:
            summaries = await dashboard(session, user=user)
            archived = await archived_ids(session, user=user)
            spending = await spend_report(session, user)
        shelved = [summary for summary in summaries if summary.id in archived]
        summaries = [summary for summary in summaries if summary.id not in archived]
        with theme.frame('Dashboard', user, offline_model=svc.offline_model, chat=True):
            with ui.row().classes('w-full items-center justify-between'):
                ui.label('Your projects').classes('text-2xl font-semibold')
                ui.button('New project', icon='add', on_click=lambda: ui.navigate.to('/projects/new')).mark(
                    'new-project'
                )
            if not summaries and not shelved:
                _empty_state()
            # Tailwind's columns, not ui.grid(columns=…): its inline style would keep two columns on a phone.
            with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4'):
                for summary in summaries:
                    project_card(summary)
            if shelved:
                _archived_section(shelved)
            spending_card(spending)
        return None


def _archived_section(shelved: list[ProjectSummary]) -> None:
    """Archived projects, folded away under their count; each card opens its project, where Restore is."""
    label = f'Archived ({len(shelved)})'
    with ui.expansion(label, icon='inventory_2').classes('w-full').mark('archived-projects'):
        with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 gap-4 pt-2'):
            for summary in shelved:
                project_card(summary)


def spending_card(report: SpendReport) -> None:
    """The founder's period so far, all projects together (BU-2)."""
    with ui.card().classes('w-full p-4 gap-2').mark('spending'):
        ui.label('Spending').classes('text-sm uppercase tracking-wide text-slate-500')
        SpendChart(report)


def _chip(text: str, *, colour: str = 'slate', marker: str | None = None, limit: int | None = None) -> None:
    short = _shorten(text, limit) if limit else text
    label = ui.label(short).classes(
        f'text-xs px-2 py-0.5 rounded-full bg-{colour}-100 text-{colour}-800 '
        f'dark:bg-{colour}-900 dark:text-{colour}-100'
    )
    if marker:
        label.mark(marker)
    if short != text:
        label.tooltip(text)


def _build_decision(path: str) -> None:
    """The build is waiting for the founder: straight to the question on the build page."""
    with (
        ui.link(target=path)
        .classes(
            'flex items-center gap-1 text-xs px-2 py-0.5 rounded-full no-underline bg-amber-100 text-amber-900 '
            'hover:bg-amber-200 dark:bg-amber-900 dark:text-amber-100'
        )
        .props('onclick="event.stopPropagation()"')
        .mark('pending-decision', 'build-decision')
    ):
        ui.icon('help', size='14px')
        ui.label('The agent needs your decision')


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, so a chip never ends mid-word."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(' ', 1)[0].rstrip(',;:') + '…'


def project_card(s: ProjectSummary) -> None:
    """One project: stage, progress, documents, decisions, risks, build and agent state."""
    target = f'/projects/{s.id}'
    with (
        ui.card()
        .classes('w-full cursor-pointer gap-2 hover:shadow-md')
        .on('click', lambda: ui.navigate.to(target))
        .mark('project-card')
    ):
        with ui.row().classes('w-full items-start justify-between no-wrap gap-2'):
            ui.label(s.title).classes('text-lg font-medium min-w-0 break-words').mark('card-title')
            if s.product_version:
                _chip(s.product_version, colour='emerald', marker='product-version')
        with ui.row().classes('items-center gap-2'):
            ui.label(s.stage_label).classes('text-sm text-slate-600 dark:text-slate-300').mark('stage-label')
            if s.parked:
                _chip('Parked', colour='amber', marker='parked')
        with ui.row().classes('w-full items-center gap-2 no-wrap'):
            ui.linear_progress(s.mvp_completion_percent / 100, show_value=False).props(
                'rounded size=8px aria-label="MVP completion"'
            ).classes('grow').mark('mvp-progress')
            ui.label(f'{s.mvp_completion_percent}%').classes('text-sm text-slate-600 dark:text-slate-300').mark(
                'mvp-percent'
            )
        if s.features_scoped:
            ui.label(f'{s.features_verified} of {s.features_scoped} features verified').classes(
                'text-xs text-slate-500 dark:text-slate-400'
            ).mark('features-verified')
        with ui.row().classes('gap-1 flex-wrap'):
            for ref in s.artifacts:
                _chip(f'{ARTIFACT_LABELS.get(ref.kind, ref.kind)} v{ref.version}', marker='artifact')
            for kind in s.pending_decisions:
                if kind == BUILD_DECISION:
                    _build_decision(f'{target}/build')
                else:
                    _chip(f'Decide: {GATE_LABELS.get(kind, kind)}', colour='indigo', marker='pending-decision')
            for flag in s.risk_flags[:3]:
                _chip(flag, colour='rose', marker='risk-flag', limit=60)
        with ui.row().classes('w-full items-center justify-between text-sm text-slate-500'):
            build = BUILD_LABELS.get(s.latest_build_state or '', 'No build yet')
            ui.label(f'Build: {build}').mark('build-state')
            ui.label(f'Agent: {s.agent_state}').mark('agent-state')
        if s.readiness:  # IT-4: the newest deploy readiness verdict
            traffic_light(s.readiness, compact=True)
        if not s.parked:
            step = next_step(s.stage, plan_chosen=s.plan_chosen)
            ui.link(f'{step.label} →', f'{target}{step.path}').classes('text-sm').props(
                'onclick="event.stopPropagation()"'
            ).mark('card-continue')


def _empty_state() -> None:
    with ui.card().classes('w-full items-center p-10 text-center').mark('empty-state'):
        ui.icon('lightbulb', size='48px').classes('text-primary')
        ui.label('No projects yet').classes('text-xl font-semibold')
        ui.label(
            'Describe your idea in a few sentences. I will interview you, write an Idea Brief and, '
            'once you decide, build a working first version while you watch.'
        ).classes('text-slate-500 max-w-lg')
        ui.button('Start your first project', on_click=lambda: ui.navigate.to('/projects/new')).mark('first-project')
