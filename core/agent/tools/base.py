"""What every agent tool shares: the context the pipeline injects, the outcome, the Tool record.

A tool module defines `SPEC` (the JSON schema the model sees), `label(input)` (a human line for
the founder's verbose feed, e.g. "Wrote 47 lines to app/login.py") and `async run(ctx, input)`.
The loop, not the tools, emits `ToolCalled`/`ToolResult`; tools emit only their own domain
events (narration, documentation, phases).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from core.acceptance.spec import AcceptanceCheck, CheckRun
from core.events import BuildEvent
from core.ports import Sandbox, ToolSpec

EmitFn = Callable[[BuildEvent], Awaitable[BuildEvent]]
ScreenshotFn = Callable[[str], Awaitable[str | None]]
OutputFn = Callable[[str, str], Awaitable[None]]  # (chunk, stream) → build logs
CheckFn = Callable[[AcceptanceCheck], Awaitable[CheckRun]]  # runs a check against the running app


@dataclass
class ToolOutcome:
    """What a tool did: `output` goes back to the model, `label` is a human line."""

    ok: bool
    output: str
    label: str = ''


@dataclass
class ToolContext:
    """Everything a tool may touch, injected by the pipeline, plus the run's mutable state."""

    job_id: UUID
    sandbox: Sandbox
    emit: EmitFn
    screenshot: ScreenshotFn | None = None
    on_output: OutputFn | None = None
    run_check: CheckFn | None = None
    command_timeout: float = 120.0
    # run state (restored from / saved to the checkpoint by the loop)
    phase: str | None = None
    phases: list[dict[str, str]] = field(default_factory=list)  # [{name, status}] for the Kanban
    docs_written: set[str] = field(default_factory=set)


ToolRun = Callable[[ToolContext, dict[str, Any]], Awaitable[ToolOutcome]]


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    label: Callable[[dict[str, Any]], str]
    run: ToolRun

    @property
    def name(self) -> str:
        return self.spec.name


class ToolInputError(ValueError):
    """The model sent arguments that do not fit the tool's schema."""


def text_arg(data: dict[str, Any], key: str, *, default: str | None = None, allow_empty: bool = False) -> str:
    """A string argument, or ToolInputError with a message the model can act on."""
    value = data.get(key, default)
    if value is None:
        raise ToolInputError(f'Missing required argument "{key}".')
    if not isinstance(value, str):
        raise ToolInputError(f'Argument "{key}" must be a string, got {type(value).__name__}.')
    if not value and not allow_empty:
        raise ToolInputError(f'Argument "{key}" must not be empty.')
    return value


def failed(message: str, label: str = '') -> ToolOutcome:
    return ToolOutcome(ok=False, output=message, label=label)


def line_count(text: str) -> int:
    return text.count('\n') + (1 if text and not text.endswith('\n') else 0)


def schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {'type': 'object', 'properties': properties, 'required': required, 'additionalProperties': False}
