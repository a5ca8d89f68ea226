"""Typed build events: the contract between the agent, the UI and the API (B-3).

Each event is a small frozen model. `core.event_log.EventLog.append` assigns `seq`; readers parse rows
with `parse_event` and ignore types they don't know (they come back as `UnknownEvent`). How events are
stored and followed lives in `core.event_log`, so this contract imports nothing but pydantic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


def _now() -> datetime:
    return datetime.now(UTC)


class BuildEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra='forbid')
    job_id: UUID
    seq: int = 0  # assigned by EventLog.append
    at: datetime = Field(default_factory=_now)
    type: str

    def payload(self) -> dict[str, Any]:
        """The event minus its envelope, as stored in the `payload` column."""
        return self.model_dump(mode='json', exclude={'job_id', 'seq', 'at', 'type'})


class StageChanged(BuildEvent):
    type: Literal['build.stage.changed'] = 'build.stage.changed'
    from_state: str
    to_state: str
    reason: str = ''


class Narration(BuildEvent):
    type: Literal['agent.narration'] = 'agent.narration'
    text: str


class Thinking(BuildEvent):
    type: Literal['agent.thinking'] = 'agent.thinking'
    text: str


class ToolCalled(BuildEvent):
    type: Literal['agent.tool.called'] = 'agent.tool.called'
    call_id: str
    tool: str
    label: str  # "Wrote 47 lines to app/login.py"
    input: dict[str, Any] = {}


class ToolResult(BuildEvent):
    type: Literal['agent.tool.result'] = 'agent.tool.result'
    call_id: str
    tool: str
    ok: bool
    output: str = ''  # already truncated and redacted


class LogLines(BuildEvent):
    type: Literal['log.lines'] = 'log.lines'
    phase: str = ''
    stream: str = 'stdout'
    lines: list[str]


class SnapshotUpdated(BuildEvent):
    type: Literal['snapshot.updated'] = 'snapshot.updated'
    url: str
    key: str
    phase: str = ''


class DocumentationUpdated(BuildEvent):
    type: Literal['documentation.updated'] = 'documentation.updated'
    section: Literal['overview', 'features', 'getting_started', 'faq']
    title: str
    content: str  # founder-safe Markdown


class PhaseStarted(BuildEvent):
    type: Literal['gsd.phase.started'] = 'gsd.phase.started'
    phase: str
    planned: list[str] = []  # the whole plan, so a late Kanban knows every card


class PhaseCompleted(BuildEvent):
    type: Literal['gsd.phase.completed'] = 'gsd.phase.completed'
    phase: str


class BudgetUpdated(BuildEvent):
    type: Literal['budget.updated'] = 'budget.updated'
    input_tokens: int
    output_tokens: int
    cost_microdollars: int
    daily_allowance_microdollars: int | None = None


class Sleeping(BuildEvent):
    type: Literal['agent.sleeping'] = 'agent.sleeping'
    wake_at: datetime
    reason: str = ''
    done_today: str = ''  # what the founder reads on the Resting card about the day's work


class Waking(BuildEvent):
    type: Literal['agent.waking'] = 'agent.waking'


class Escalated(BuildEvent):
    type: Literal['agent.escalated'] = 'agent.escalated'
    escalation_id: UUID
    problem: str
    tried: list[str]
    recommendation: str
    options: list[str]


class Resumed(BuildEvent):
    type: Literal['agent.resumed'] = 'agent.resumed'
    decision: str = ''


class Healing(BuildEvent):
    type: Literal['agent.healing'] = 'agent.healing'
    signature: str
    attempt: int  # the attempt being made now (2 after the first failure)
    max_attempts: int = 3
    problem: str = ''  # what went wrong, in plain words
    next_step: str = ''  # what the agent does instead
    phase: str = ''


class CheckResult(BaseModel):
    """One feature's acceptance check as the founder sees it (the evidence is a blob URL)."""

    model_config = ConfigDict(frozen=True, extra='forbid')
    feature: str
    passed: bool
    ran: bool = True
    in_scope: bool = True
    step: str = ''  # the failed step in plain words
    problem: str = ''
    screenshot_url: str | None = None
    regressed_from: str | None = None  # the version where it last passed, when it broke in this one


class ChecksRun(BuildEvent):
    """The acceptance checks ran against the running app (verified progress)."""

    type: Literal['acceptance.checked'] = 'acceptance.checked'
    results: list[CheckResult]
    verified: int  # in-scope features whose check passed
    scoped: int  # features of the MVP scope


class BuildDone(BuildEvent):
    type: Literal['build.done'] = 'build.done'
    state: str  # READY | FAILED | CANCELLED | BUDGET_EXCEEDED
    version: str | None = None
    summary: str = ''


class UnknownEvent(BuildEvent):
    """A type this code does not know (newer writer): kept so seq stays continuous."""

    model_config = ConfigDict(frozen=True, extra='allow')


KnownEvent = Annotated[
    StageChanged
    | Narration
    | Thinking
    | ToolCalled
    | ToolResult
    | LogLines
    | SnapshotUpdated
    | DocumentationUpdated
    | PhaseStarted
    | PhaseCompleted
    | BudgetUpdated
    | Sleeping
    | Waking
    | Escalated
    | Resumed
    | Healing
    | ChecksRun
    | BuildDone,
    Field(discriminator='type'),
]
_known: TypeAdapter[Any] = TypeAdapter(KnownEvent)


def parse_event(*, job_id: UUID, seq: int, at: datetime, type: str, payload: dict[str, Any]) -> BuildEvent:
    """Rebuild a typed event from its stored parts; unknown or malformed types stay readable."""
    data = {**payload, 'job_id': job_id, 'seq': seq, 'at': at, 'type': type}
    try:
        return _known.validate_python(data)
    except ValidationError:
        return UnknownEvent(**data)
