"""The founder's dashboard (J-7): one summary per project, one query per concern (no N+1).

MVP completion is verified progress: the features of the brief's MVP scope whose acceptance check passed
in the newest build that ran the checks, out of all of them (0 % until a check has run).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.journey.projects import STAGE_LABELS
from core.models import AcceptanceResult, Artifact, BuildJob, DecisionGate, Project, User

AGENT_STATE = {
    'SLEEPING': 'Resting',
    'NEEDS_INPUT': 'Needs your input',
    'FAILED': 'Error',
    'BUDGET_EXCEEDED': 'Budget exceeded',
    'READY': 'Idle',
    'CANCELLED': 'Idle',
}
DONE_STAGES = ('mvp_built', 'iterating', 'shipped')
# A pending decision besides the gates (their types): the latest build stopped to ask the founder (AG-8).
BUILD_DECISION = 'build_input'


class ArtifactRef(BaseModel):
    kind: str
    version: int


class ProjectSummary(BaseModel):
    """What the dashboard card shows; lists are always lists."""

    id: uuid.UUID
    title: str
    stage: str
    stage_label: str
    parked: bool = False
    artifacts: list[ArtifactRef] = Field(default_factory=list)
    pending_decisions: list[str] = Field(default_factory=list)  # gate types, then BUILD_DECISION
    risk_flags: list[str] = Field(default_factory=list)
    product_version: str | None = None
    mvp_completion_percent: int = 0  # features verified / features scoped
    features_verified: int = 0
    features_scoped: int = 0
    plan_chosen: bool = False
    latest_build_state: str | None = None
    agent_state: str = 'Idle'
    readiness: Literal['green', 'yellow', 'red'] | None = None  # IT-4: the newest deploy readiness verdict


def completion_percent(verified: int, scoped: int) -> int:
    """Verified features out of scoped ones, in percent (rounded down: 100 only when all are verified)."""
    return min(100, verified * 100 // scoped) if scoped else 0


def agent_state(build_state: str | None) -> str:
    """Building / Resting / Needs your input / Error / Budget exceeded / Idle."""
    if build_state is None:
        return 'Idle'
    return AGENT_STATE.get(build_state, 'Building')


async def _latest_artifacts(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ArtifactRef]]:
    rows = await session.exec(
        select(Artifact.project_id, Artifact.kind, func.max(Artifact.version))
        .where(col(Artifact.project_id).in_(ids))
        .group_by(col(Artifact.project_id), col(Artifact.kind))
        .order_by(col(Artifact.kind))
    )
    out: dict[uuid.UUID, list[ArtifactRef]] = {}
    for project_id, kind, version in rows.all():
        out.setdefault(project_id, []).append(ArtifactRef(kind=kind, version=version))
    return out


async def _newest_contents(session: AsyncSession, ids: list[uuid.UUID], kind: str) -> dict[uuid.UUID, Any]:
    """The content of each project's newest artifact of `kind`, in one query."""
    newest = (
        select(Artifact.project_id, func.max(Artifact.version).label('v'))
        .where(col(Artifact.project_id).in_(ids), Artifact.kind == kind)
        .group_by(col(Artifact.project_id))
        .subquery()
    )
    rows = await session.exec(
        select(Artifact.project_id, Artifact.content).join(
            newest,
            (col(Artifact.project_id) == newest.c.project_id)
            & (col(Artifact.version) == newest.c.v)
            & (col(Artifact.kind) == kind),
        )
    )
    return {pid: content or {} for pid, content in rows.all()}


async def _brief_risks(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    briefs = await _newest_contents(session, ids, 'idea_brief')
    return {pid: [str(r) for r in content.get('risks') or []] for pid, content in briefs.items()}


async def _readiness(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The verdict of each project's newest deploy readiness report (IT-4)."""
    reports = await _newest_contents(session, ids, 'deploy_report')
    verdicts = {pid: content.get('verdict') for pid, content in reports.items()}
    return {pid: v for pid, v in verdicts.items() if v in ('green', 'yellow', 'red')}


async def _verified(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """(verified, scoped) per project: the newest checked build's passing checks among the brief's features."""
    briefs = await _newest_contents(session, ids, 'idea_brief')
    newest = (
        select(AcceptanceResult.project_id, func.max(AcceptanceResult.id).label('last'))
        .where(col(AcceptanceResult.project_id).in_(ids))
        .group_by(col(AcceptanceResult.project_id))
        .subquery()
    )
    last_job = select(AcceptanceResult.job_id).join(newest, col(AcceptanceResult.id) == newest.c.last)
    rows = await session.exec(
        select(AcceptanceResult.project_id, AcceptanceResult.feature).where(
            col(AcceptanceResult.job_id).in_(last_job), AcceptanceResult.passed
        )
    )
    passed: dict[uuid.UUID, set[str]] = {}
    for project_id, feature in rows.all():
        passed.setdefault(project_id, set()).add(' '.join(feature.split()).casefold())
    out = {}
    for pid in ids:
        scope = {
            ' '.join(str(f.get('name', '')).split()).casefold() for f in briefs.get(pid, {}).get('core_features') or []
        }
        scope.discard('')
        out[pid] = (len(scope & passed.get(pid, set())), len(scope))
    return out


async def _pending(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    rows = await session.exec(
        select(DecisionGate.project_id, DecisionGate.gate_type)
        .where(col(DecisionGate.project_id).in_(ids), DecisionGate.status == 'pending')
        .order_by(col(DecisionGate.created_at))
    )
    out: dict[uuid.UUID, list[str]] = {}
    for project_id, gate_type in rows.all():
        out.setdefault(project_id, []).append(gate_type)
    return out


async def _latest_builds(session: AsyncSession, ids: list[uuid.UUID], *, ready_only: bool) -> dict[uuid.UUID, Any]:
    """The newest build (or newest READY build) per project, via a window function."""
    newest_first: list[Any] = [col(BuildJob.queued_at).desc(), col(BuildJob.id).desc()]
    if ready_only:  # the highest version wins; coalesce keeps NULLs last on both databases
        newest_first.insert(0, func.coalesce(col(BuildJob.version_number), -1).desc())
    rank = func.row_number().over(partition_by=col(BuildJob.project_id), order_by=newest_first)
    inner = select(BuildJob.project_id, BuildJob.state, BuildJob.version_label, rank.label('rank')).where(
        col(BuildJob.project_id).in_(ids)
    )
    if ready_only:
        inner = inner.where(BuildJob.state == 'READY')
    sub = inner.subquery()
    rows = await session.exec(select(sub.c.project_id, sub.c.state, sub.c.version_label).where(sub.c.rank == 1))
    return {pid: (state, label) for pid, state, label in rows.all()}


async def dashboard(session: AsyncSession, *, user: User) -> list[ProjectSummary]:
    """Every project of the user, most recently changed first, with its journey summary."""
    projects = list(
        (
            await session.exec(
                select(Project).where(Project.owner_id == user.id).order_by(col(Project.updated_at).desc())
            )
        ).all()
    )
    if not projects:
        return []
    ids = [p.id for p in projects]
    artifacts = await _latest_artifacts(session, ids)
    risks = await _brief_risks(session, ids)
    pending = await _pending(session, ids)
    latest = await _latest_builds(session, ids, ready_only=False)
    ready = await _latest_builds(session, ids, ready_only=True)
    verdicts = await _readiness(session, ids)
    verified = await _verified(session, ids)
    summaries = [_summary(p, artifacts, risks, pending, latest, ready) for p in projects]
    return [_with(s, verdicts.get(s.id), *verified.get(s.id, (0, 0))) for s in summaries]


async def verified_features(session: AsyncSession, project_id: uuid.UUID) -> tuple[int, int]:
    """(features of the brief's MVP scope whose newest check passed, features scoped) for one project."""
    return (await _verified(session, [project_id])).get(project_id, (0, 0))


def _with(summary: ProjectSummary, readiness: Any, verified: int, scoped: int) -> ProjectSummary:
    return summary.model_copy(update={'readiness': readiness, 'features_verified': verified, 'features_scoped': scoped,
                                      'mvp_completion_percent': completion_percent(verified, scoped)})  # fmt: skip


def _summary(p: Project, artifacts: dict, risks: dict, pending: dict, latest: dict, ready: dict) -> ProjectSummary:  # type: ignore[type-arg]
    state = latest.get(p.id, (None, None))[0]
    flags = list(risks.get(p.id, []))
    if state == 'FAILED':
        flags.append('Build failed')
    elif state == 'BUDGET_EXCEEDED':
        flags.append('Budget exceeded')
    return ProjectSummary(
        id=p.id,
        title=p.title,
        stage=p.stage,
        stage_label=STAGE_LABELS.get(p.stage, p.stage.replace('_', ' ').capitalize()),
        parked=p.parked,
        artifacts=artifacts.get(p.id, []),
        pending_decisions=[*pending.get(p.id, []), *([BUILD_DECISION] if state == 'NEEDS_INPUT' else [])],
        risk_flags=flags,
        product_version=ready.get(p.id, (None, None))[1],
        plan_chosen=p.selected_plan_id is not None,
        latest_build_state=state,
        agent_state=agent_state(state),
    )
