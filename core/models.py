"""Database tables. One file while it stays readable; grouped by area.

Ids are UUIDs (safe to show in URLs, no guessable sequence). JSON columns hold small structured
values whose shape is owned by the core module that writes them. Timestamps are UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Float, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)  # aware UTC: sqlmodel's UTCDateTime refuses naive values


def _json(default: Any = None) -> Any:
    factory = (lambda: type(default)()) if default is not None else None
    if factory:
        return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))
    return Field(default=None, sa_column=Column(JSON, nullable=True))


def _text(nullable: bool = False) -> Any:
    return Field(default=None if nullable else '', sa_column=Column(Text, nullable=nullable))


# ── accounts ──────────────────────────────────────────────────────────────────────────────────


class Tier(SQLModel, table=True):
    __tablename__ = 'tiers'
    name: str = Field(primary_key=True, max_length=40)
    label: str = Field(max_length=80)
    token_allowance: int = Field(sa_column=Column(BigInteger, nullable=False))  # tokens per period
    # dollars per period, in millionths; None: tokens alone pace the founder (offline and local models cost $0)
    cost_allowance_microdollars: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    daily_token_cap: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # a tiny day
    period_days: int = 30
    day_seconds: int = 86_400  # a pacing day; shorter only for demo and trial tiers (sleep and wake in seconds)
    max_concurrent_user: int = 1
    max_concurrent_project: int = 1
    max_iterations: int = 3
    priority: int = 0  # higher runs first
    models: dict[str, str] = _json({})  # role → model id (architect, coder, reviewer, chat)


class User(SQLModel, table=True):
    __tablename__ = 'users'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    display_name: str = Field(default='', max_length=120)
    role: str = Field(default='founder', max_length=20)  # founder | admin
    tier: str = Field(default='bootstrapper', foreign_key='tiers.name', max_length=40)
    suspended: bool = False
    model_override: str | None = Field(default=None, max_length=100)
    period_started_at: datetime = Field(default_factory=utcnow)
    # An admin's top-up of one period's allowance (AD-4, core/admin_users.py); counted by core/pacing.py only
    # while the period that starts at `topup_period_start` lasts.
    topup_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    topup_microdollars: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    topup_period_start: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Preview capability links granted before this no longer open (logout, suspension: core/builds/preview.py).
    previews_revoked_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == 'admin'


class ApiToken(SQLModel, table=True):
    __tablename__ = 'api_tokens'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key='users.id', index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=128, unique=True, index=True)  # sha256 of the token
    prefix: str = Field(max_length=12)  # shown in the UI to tell tokens apart
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked: bool = False


# ── journey ───────────────────────────────────────────────────────────────────────────────────


class Project(SQLModel, table=True):
    __tablename__ = 'projects'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key='users.id', index=True)
    title: str = Field(max_length=120)
    idea: str = _text()
    # idea → onboarding → interview → brief → gate1 → plan → building → mvp_built → iterating → shipped
    stage: str = Field(default='idea', max_length=30)
    parked: bool = False
    selected_plan_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None  # hidden from the dashboard's main list until restored (journey/projects.py)


class InterviewSession(SQLModel, table=True):
    __tablename__ = 'interview_sessions'
    __table_args__ = (UniqueConstraint('project_id', 'kind'),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    kind: str = Field(max_length=20)  # onboarding | understanding | change
    questions: list[dict[str, Any]] = _json([])  # [{key, text, hint}]
    answers: dict[str, str] = _json({})  # key → answer, saved as typed
    current_index: int = 0
    completed: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class Artifact(SQLModel, table=True):
    """One version of a generated document; every edit or regeneration adds a row."""

    __tablename__ = 'artifacts'
    __table_args__ = (UniqueConstraint('project_id', 'kind', 'version'),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    kind: str = Field(max_length=30)  # idea_brief | mvp_scope | change_request | deploy_report
    version: int = 1
    content: dict[str, Any] = _json({})
    source: str = Field(default='model', max_length=20)  # model | founder
    note: str = Field(default='', max_length=300)  # why this version exists
    build_version: str | None = Field(default=None, max_length=20)  # change requests: v0.N referenced
    created_at: datetime = Field(default_factory=utcnow)


class DecisionGate(SQLModel, table=True):
    __tablename__ = 'decision_gates'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    gate_type: str = Field(max_length=20)  # direction | solidification
    status: str = Field(default='pending', max_length=20)  # pending | decided
    # "project_id:gate_type" while pending, NULL once decided: a portable partial-unique index.
    pending_key: str | None = Field(default=None, max_length=80, unique=True)
    options: list[str] = _json([])
    decision: str | None = Field(default=None, max_length=20)
    reason: str = _text()
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class PlanOption(SQLModel, table=True):
    __tablename__ = 'plan_options'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    key: str = Field(max_length=30)  # fast | balanced | robust
    title: str = Field(max_length=120)
    summary: str = _text()
    details: dict[str, Any] = _json({})  # time, cost, risk, stack, trade-offs
    selected: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class TimelineEvent(SQLModel, table=True):
    __tablename__ = 'timeline_events'
    id: int | None = Field(default=None, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    kind: str = Field(max_length=40)  # idea.created, brief.generated, gate.decided, build.ready, …
    title: str = Field(max_length=200)
    detail: str = _text()
    job_id: uuid.UUID | None = None
    at: datetime = Field(default_factory=utcnow, index=True)


# ── builds ────────────────────────────────────────────────────────────────────────────────────


class BuildJob(SQLModel, table=True):
    __tablename__ = 'build_jobs'
    __table_args__ = (Index('ix_build_jobs_state_priority', 'state', 'priority'),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    user_id: uuid.UUID = Field(foreign_key='users.id', index=True)
    kind: str = Field(default='initial', max_length=20)  # initial | iteration | retry | restore
    state: str = Field(default='QUEUED', max_length=20, index=True)
    priority: int = 0
    retry_of: uuid.UUID | None = None
    change_request_id: uuid.UUID | None = None
    restore_of: uuid.UUID | None = None  # kind 'restore': the READY build whose files become the next version
    plan_id: uuid.UUID | None = None
    version_number: int | None = None  # N of v0.N, set when READY
    version_label: str | None = Field(default=None, max_length=20)
    sandbox_id: str | None = Field(default=None, max_length=120)
    preview_url: str | None = Field(default=None, max_length=500)  # upstream URL, never shown raw
    preview_state: str = Field(default='none', max_length=20)  # none | running | paused | expired
    model: str | None = Field(default=None, max_length=100)  # fixed at session start (BU-7)
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    cancel_requested: bool = False
    wake_at: datetime | None = None
    error_summary: str = _text()  # founder-readable
    error_detail: str = _text()  # technical, behind an expander
    stage_timings: dict[str, float] = _json({})  # stage → seconds
    summary: dict[str, Any] = _json({})  # files, features, stack on READY
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    cost_microdollars: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    queued_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    # set once the events moved to the blob store (core.builds.archive); EventLog reads them from there
    events_archive_key: str | None = Field(default=None, max_length=300)
    preview_viewed_at: datetime | None = None  # the preview proxy's last view, written at most once a minute


class BuildEventRow(SQLModel, table=True):
    """The append-only event log of a build (B-3); `seq` is per job and gap-free."""

    __tablename__ = 'build_events'
    __table_args__ = (UniqueConstraint('job_id', 'seq'),)
    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key='build_jobs.id', index=True)
    seq: int
    type: str = Field(max_length=40)
    payload: dict[str, Any] = _json({})
    at: datetime = Field(default_factory=utcnow)


class AgentCheckpoint(SQLModel, table=True):
    """Everything needed to resume an agent run after a restart or a sleep (AG-6)."""

    __tablename__ = 'agent_checkpoints'
    job_id: uuid.UUID = Field(foreign_key='build_jobs.id', primary_key=True)
    messages: list[dict[str, Any]] = _json([])
    phase: str | None = Field(default=None, max_length=80)
    phases: list[dict[str, Any]] = _json([])  # [{name, status}] for the Kanban
    sandbox_id: str | None = Field(default=None, max_length=120)
    iteration: int = 0
    tool_calls: int = 0
    retry_counters: dict[str, int] = _json({})
    recent_calls: list[str] = _json([])  # fingerprints for the repetition guard
    updated_at: datetime = Field(default_factory=utcnow)


class ProjectSnapshot(SQLModel, table=True):
    __tablename__ = 'project_snapshots'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    job_id: uuid.UUID | None = None
    blob_key: str = Field(max_length=300)
    size: int = 0
    reason: str = Field(default='phase', max_length=30)  # phase | sleep | ready
    created_at: datetime = Field(default_factory=utcnow)


class BlobRecord(SQLModel, table=True):
    """Who owns a stored blob, so the app serves it to its owner only."""

    __tablename__ = 'blobs'
    key: str = Field(primary_key=True, max_length=300)
    owner_id: uuid.UUID | None = Field(default=None, index=True)
    project_id: uuid.UUID | None = Field(default=None, index=True)
    job_id: uuid.UUID | None = None
    kind: str = Field(default='file', max_length=20)  # screenshot | snapshot | log | archive
    content_type: str = Field(default='application/octet-stream', max_length=100)
    size: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)


# ── agent health and money ────────────────────────────────────────────────────────────────────


class UsageRecord(SQLModel, table=True):
    __tablename__ = 'usage_records'
    id: int | None = Field(default=None, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key='users.id', index=True)
    project_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = Field(default=None, index=True)
    role: str = Field(default='coder', max_length=20)
    model: str = Field(max_length=100)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_microdollars: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    at: datetime = Field(default_factory=utcnow, index=True)


class UsageDay(SQLModel, table=True):
    """A founder's spend per pacing day: what the pacer sums before every call (a period has at most a few
    dozen rows, where usage_records may have thousands)."""

    __tablename__ = 'usage_days'
    user_id: uuid.UUID = Field(foreign_key='users.id', primary_key=True)
    day_start: datetime = Field(primary_key=True)
    tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    cost_microdollars: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class ErrorSignature(SQLModel, table=True):
    __tablename__ = 'error_signatures'
    __table_args__ = (UniqueConstraint('project_id', 'signature'),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    job_id: uuid.UUID | None = None
    signature: str = Field(max_length=120)  # error_type:hash
    attempts: int = 0
    last_error: str = _text()
    approaches: list[str] = _json([])
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)


class AcceptanceResult(SQLModel, table=True):
    """The latest run of one feature's acceptance check in one build (verified progress), with evidence."""

    __tablename__ = 'acceptance_results'
    __table_args__ = (UniqueConstraint('job_id', 'feature'),)
    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key='build_jobs.id', index=True)
    project_id: uuid.UUID = Field(foreign_key='projects.id', index=True)
    feature: str = Field(max_length=120)
    in_scope: bool = True  # a feature of the brief's MVP scope (not an extra page of a change)
    passed: bool = False
    ran: bool = True  # False: the host could not run it (unverified, not failed)
    failed_step: int | None = None
    step: str = _text()
    problem: str = _text()
    screenshot_key: str | None = Field(default=None, max_length=300)
    seconds: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)


class LoginFailure(SQLModel, table=True):
    """Wrong passwords counted per account and per client address (core/login_throttle.py)."""

    __tablename__ = 'login_failures'
    key: str = Field(primary_key=True, max_length=320)  # account:<email> | address:<ip>
    failures: int = 0
    last_failure_at: datetime = Field(default_factory=utcnow)
    next_try_at: datetime = Field(default_factory=utcnow)


class Escalation(SQLModel, table=True):
    __tablename__ = 'escalations'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key='build_jobs.id', index=True)
    signature: str = Field(max_length=120)
    problem: str = _text()
    tried: list[str] = _json([])
    recommendation: str = _text()
    options: list[str] = _json([])
    status: str = Field(default='open', max_length=20)  # open | resolved
    decision: str | None = _text(nullable=True)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


# ── admin ─────────────────────────────────────────────────────────────────────────────────────


class FeatureFlag(SQLModel, table=True):
    __tablename__ = 'feature_flags'
    key: str = Field(primary_key=True, max_length=60)
    description: str = Field(default='', max_length=300)
    enabled: bool = False
    beta: bool = True


class FeatureFlagOverride(SQLModel, table=True):
    __tablename__ = 'feature_flag_overrides'
    __table_args__ = (UniqueConstraint('flag_key', 'user_id'),)
    id: int | None = Field(default=None, primary_key=True)
    flag_key: str = Field(foreign_key='feature_flags.key', max_length=60)
    user_id: uuid.UUID = Field(foreign_key='users.id', index=True)
    enabled: bool


class AuditEntry(SQLModel, table=True):
    """One change an admin made (AD-1…AD-5): who, when, what, and the values before and after (core/audit.py)."""

    __tablename__ = 'audit_log'
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key='users.id')
    actor_email: str = Field(default='', max_length=254)  # kept as it was when the change was made
    area: str = Field(max_length=20, index=True)  # users | models | tiers | flags | system
    action: str = Field(max_length=60)
    target: str = Field(default='', max_length=300)
    before: dict[str, Any] = _json({})
    after: dict[str, Any] = _json({})


class PasswordReset(SQLModel, table=True):
    """A single-use, expiring password reset link issued by an admin (core/password_reset.py); only its hash."""

    __tablename__ = 'password_resets'
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key='users.id', index=True)
    token_hash: str = Field(max_length=128, unique=True, index=True)  # sha256 of the token in the link
    issued_by: uuid.UUID | None = Field(default=None, foreign_key='users.id')
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class AdminSetting(SQLModel, table=True):
    __tablename__ = 'admin_settings'
    key: str = Field(primary_key=True, max_length=60)
    value: dict[str, Any] = _json({})
    updated_at: datetime = Field(default_factory=utcnow)


class SchedulerJob(SQLModel, table=True):
    """APScheduler's job store (wake-ups, housekeeping), declared here so Alembic owns its schema."""

    __tablename__ = 'scheduler_jobs'
    id: str = Field(primary_key=True, max_length=191)
    next_run_time: float | None = Field(default=None, sa_column=Column(Float(25), index=True, nullable=True))
    job_state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
