"""What the chat knows (UI-9): the founder's project state, read from the database on each question.

Everything is read as the founder (ownership checked by the same core functions as the pages), so another
founder's project is NotFound and never reaches the chat. `render` turns the state into the model's context
within a token budget, the parts most relevant to the question first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.acceptance.runs import results_of
from core.admin_settings import builds_enabled
from core.builds import jobs
from core.builds.escalations import open_escalation
from core.builds.readiness import latest_report, report_of
from core.builds.versions import list_versions
from core.event_log import EventLog
from core.events import Sleeping
from core.journey import brief as briefs
from core.journey.change_requests import iteration_count
from core.journey.gates import GATE_LABELS, list_gates
from core.journey.interview import qa_pairs
from core.journey.projects import STAGE_LABELS, list_projects, load_project
from core.models import AgentCheckpoint, BuildJob, PlanOption, Project, UsageRecord, User, utcnow
from core.pacing import allowance_for, as_utc

DASHBOARD_PROJECTS = 8  # the dashboard's chat knows this many of the founder's projects, most recently changed first
SLEEP_EVENTS_READ = 200  # how far back in a resting build's log its Sleeping event is looked for
CHARS_PER_TOKEN = 4

BUILD_STATE_LABELS = {
    'QUEUED': 'waiting to start',
    'STARTING': 'starting',
    'SCAFFOLD': 'setting up',
    'CODE': 'writing the code',
    'DEPS': 'installing',
    'CHECKS': 'checking the app',
    'READY': 'ready',
    'FAILED': 'failed',
    'CANCELLED': 'cancelled',
    'SLEEPING': 'resting',
    'NEEDS_INPUT': 'waiting for your decision',
    'BUDGET_EXCEEDED': 'stopped: budget exceeded',
}
RUNNING_STATES = frozenset({'QUEUED', 'STARTING', 'SCAFFOLD', 'CODE', 'DEPS', 'CHECKS', 'SLEEPING', 'NEEDS_INPUT'})
RETRYABLE_STATES = frozenset({'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED'})


@dataclass(frozen=True)
class Question:
    """The agent's open escalation (AG-8)."""

    problem: str
    tried: list[str]
    recommendation: str
    options: list[str]


@dataclass(frozen=True)
class Build:
    job_id: uuid.UUID
    state: str
    kind: str
    version_label: str | None
    phase: str | None
    phases_done: list[str]
    wake_at: datetime | None
    sleep_reason: str
    done_today: str
    error_summary: str
    question: Question | None
    tokens: int
    cost_microdollars: int
    queue_position: int | None

    @property
    def state_label(self) -> str:
        return BUILD_STATE_LABELS.get(self.state, self.state.lower())


@dataclass(frozen=True)
class Item:
    title: str
    detail: str = ''
    fix: str = ''


@dataclass(frozen=True)
class Readiness:
    verdict: str
    label: str
    build_version: str | None
    blockers: list[Item]
    warnings: list[Item]
    paths: list[str]


@dataclass(frozen=True)
class CheckResult:
    feature: str
    passed: bool
    ran: bool
    problem: str


@dataclass(frozen=True)
class VersionInfo:
    label: str
    job_id: uuid.UUID
    summary: str
    current: bool
    from_label: str = ''
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Brief:
    version: int
    problem: str
    features: list[str]
    left_out: list[str]
    risks: list[str]


@dataclass(frozen=True)
class ProjectState:
    id: uuid.UUID
    title: str
    stage: str
    parked: bool
    brief: Brief | None
    answers: list[tuple[str, str]]
    pending_gates: list[str]
    plan: str | None
    build: Build | None
    readiness: Readiness | None
    checks: list[CheckResult]
    versions: list[VersionInfo]
    iteration: tuple[int, int]

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    @property
    def current_version(self) -> VersionInfo | None:
        return next((v for v in self.versions if v.current), None)


@dataclass(frozen=True)
class Spending:
    today_tokens: int
    today_cost: int
    daily_tokens: int
    daily_cost: int | None
    week_tokens: int
    week_cost: int
    period_tokens: int
    period_cost: int
    period_allowance: int
    renews_at: datetime
    day_ends_at: datetime


@dataclass(frozen=True)
class ChatState:
    """What the chat knows when the founder asks: one project (a project page) or all of them (the dashboard)."""

    founder: str
    scope: uuid.UUID | None  # the project whose page the chat is on; None on the dashboard
    projects: list[ProjectState]
    spending: Spending
    builds_enabled: bool
    suspended: bool

    @property
    def project(self) -> ProjectState | None:
        return next((p for p in self.projects if p.id == self.scope), None)


# ── reading the state ─────────────────────────────────────────────────────────────────────────


async def chat_state(session: AsyncSession, events: EventLog, *, user: User, project_id: uuid.UUID | None) -> ChatState:
    """The founder's state now; `project_id` must be theirs (NotFound otherwise, like every page)."""
    if project_id is not None:
        owned = [await load_project(session, user=user, project_id=project_id)]
    else:
        owned = (await list_projects(session, user=user))[:DASHBOARD_PROJECTS]
    states = [await project_state(session, events, user=user, project=project) for project in owned]
    return ChatState(
        founder=user.display_name or user.email.split('@')[0],
        scope=project_id,
        projects=states,
        spending=await spending(session, user),
        builds_enabled=await builds_enabled(session),
        suspended=user.suspended,
    )


async def project_state(session: AsyncSession, events: EventLog, *, user: User, project: Project) -> ProjectState:
    gates = await list_gates(session, user=user, project_id=project.id)
    plan = await session.get(PlanOption, project.selected_plan_id) if project.selected_plan_id else None
    latest = await jobs.latest_build(session, user=user, project_id=project.id)
    versions = await _versions(session, user, project.id)
    return ProjectState(
        id=project.id,
        title=project.title,
        stage=project.stage,
        parked=project.parked,
        brief=await _brief(session, project.id),
        answers=await qa_pairs(session, project_id=project.id),
        pending_gates=[GATE_LABELS.get(g.gate_type, g.gate_type) for g in gates if g.status == 'pending'],
        plan=plan.title if plan else None,
        build=await _build(session, events, latest) if latest else None,
        readiness=await _readiness(session, user, project.id),
        checks=await _checks(session, latest, versions),
        versions=versions,
        iteration=await iteration_count(session, user=user, project_id=project.id),
    )


async def _brief(session: AsyncSession, project_id: uuid.UUID) -> Brief | None:
    row = await briefs.latest(session, project_id=project_id, kind='idea_brief')
    if row is None:
        return None
    scope = await briefs.latest(session, project_id=project_id, kind='mvp_scope')
    content, scoped = row.content, (scope.content if scope else {})
    features = _names(scoped.get('features')) or _names(content.get('core_features'))
    return Brief(
        version=row.version,
        problem=str(content.get('problem') or ''),
        features=features,
        left_out=[*_texts(scoped.get('out_of_scope')), *_texts(content.get('non_goals'))],
        risks=_texts(content.get('risks')),
    )


def _names(items: object) -> list[str]:
    return [str(i.get('name')) for i in items or [] if isinstance(i, dict) and i.get('name')]  # type: ignore[attr-defined]


def _texts(items: object) -> list[str]:
    return [str(i) for i in items or [] if str(i).strip()]  # type: ignore[attr-defined]


async def _build(session: AsyncSession, events: EventLog, job: BuildJob) -> Build:
    point = await session.get(AgentCheckpoint, job.id)
    escalation = await open_escalation(session, job.id) if job.state == 'NEEDS_INPUT' else None
    slept = await _last_sleep(events, job) if job.state == 'SLEEPING' else None
    question = None
    if escalation is not None:
        question = Question(escalation.problem, list(escalation.tried), escalation.recommendation,
                            list(escalation.options))  # fmt: skip
    return Build(
        job_id=job.id,
        state=job.state,
        kind=job.kind,
        version_label=job.version_label,
        phase=point.phase if point else None,
        phases_done=[str(p.get('name')) for p in (point.phases if point else []) if p.get('status') == 'done'],
        wake_at=as_utc(job.wake_at) if job.wake_at else None,
        sleep_reason=slept.reason if slept else '',
        done_today=slept.done_today if slept else '',
        error_summary=job.error_summary,
        question=question,
        tokens=job.input_tokens + job.output_tokens,
        cost_microdollars=job.cost_microdollars,
        queue_position=await jobs.queue_position(session, job=job),
    )


async def _last_sleep(events: EventLog, job: BuildJob) -> Sleeping | None:
    recent = await events.read(job.id, after_seq=max(job.last_seq - SLEEP_EVENTS_READ, 0))
    return next((e for e in reversed(recent) if isinstance(e, Sleeping)), None)


async def _readiness(session: AsyncSession, user: User, project_id: uuid.UUID) -> Readiness | None:
    row = await latest_report(session, user=user, project_id=project_id)
    report = report_of(row) if row else None
    if report is None:
        return None
    return Readiness(
        verdict=report.verdict,
        label=report.verdict_label,
        build_version=report.build_version,
        blockers=[Item(c.title, c.detail, c.fix) for c in report.blockers],
        warnings=[Item(c.title, c.detail, c.fix) for c in report.warnings],
        paths=[f'{p.name} ({p.cost}, {p.difficulty.lower()})' for p in report.deploy_paths],
    )


async def _checks(session: AsyncSession, latest: BuildJob | None, versions: list[VersionInfo]) -> list[CheckResult]:
    """The latest build's acceptance results, or the current version's when the latest has none yet."""
    for job_id in [latest.id if latest else None, *(v.job_id for v in versions if v.current)]:
        if job_id is None:
            continue
        rows = await results_of(session, job_id)
        if rows:
            return [CheckResult(r.feature, r.passed, r.ran, r.problem) for r in rows]
    return []


async def _versions(session: AsyncSession, user: User, project_id: uuid.UUID) -> list[VersionInfo]:
    out = []
    for version in await list_versions(session, user=user, project_id=project_id):
        job = await session.get(BuildJob, version.job_id)
        log = ((job.summary if job else None) or {}).get('changelog') or {}
        out.append(VersionInfo(version.label, version.job_id, version.summary, version.current,
                               str(log.get('from_version') or ''), list(log.get('added') or []),
                               list(log.get('changed') or []), list(log.get('removed') or [])))  # fmt: skip
    return out


async def spending(session: AsyncSession, user: User) -> Spending:
    """Today against today's allowance, the last seven days, and the period (all the founder's projects)."""
    allowance = await allowance_for(session, user)
    since = utcnow() - timedelta(days=7)
    week = (
        await session.exec(
            select(
                func.coalesce(func.sum(col(UsageRecord.input_tokens) + col(UsageRecord.output_tokens)), 0),
                func.coalesce(func.sum(UsageRecord.cost_microdollars), 0),
            ).where(UsageRecord.user_id == user.id, col(UsageRecord.at) >= since)
        )
    ).one()
    return Spending(
        today_tokens=allowance.spent_today.tokens,
        today_cost=allowance.spent_today.cost_microdollars,
        daily_tokens=allowance.daily_tokens,
        daily_cost=allowance.daily_cost,
        week_tokens=int(week[0]),
        week_cost=int(week[1]),
        period_tokens=allowance.spent_period.tokens,
        period_cost=allowance.spent_period.cost_microdollars,
        period_allowance=allowance.period_tokens,
        renews_at=allowance.period.end,
        day_ends_at=allowance.day.end,
    )
