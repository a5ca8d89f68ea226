"""What the product needs from the outside world. Adapters in core/adapters implement these.

Only standard-library and pydantic types cross a port, so the core never sees an SDK object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from core.acceptance.spec import AcceptanceCheck, CheckRun

OutputCallback = Callable[[str], Awaitable[None] | None]  # receives one chunk of stdout/stderr text


# ── live updates ──────────────────────────────────────────────────────────────────────────────


class Listener(Protocol):
    """A subscription to one topic, opened *before* the follower reads the log (no gap)."""

    async def wait(self, timeout: float | None = None) -> int | None:
        """Latest seq announced since the last call, waiting if none yet; None on timeout."""
        ...

    def notes(self) -> list[str]:
        """The notes published since the previous call, oldest first. A hint only: the oldest are
        dropped when many pile up, and a publish may carry none."""
        ...

    async def close(self) -> None: ...


class Notifier(Protocol):
    """Wakes followers: "topic X has events up to seq N", with an optional note (the event log puts the
    events themselves in it, so a follower need not read them back; the log stays the truth)."""

    async def publish(self, topic: str, seq: int, note: str = '') -> None: ...

    async def listen(self, topic: str) -> Listener: ...

    async def ping(self) -> str:
        """Check the transport answers (Redis PING); returns what it is, raises when it does not."""
        ...

    async def close(self) -> None: ...


# ── blobs ─────────────────────────────────────────────────────────────────────────────────────


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        """Store immutably under key; returns the URL a browser uses to fetch it."""
        ...

    async def get(self, key: str) -> bytes:
        """Raises KeyError when missing."""
        ...

    async def open(self, key: str) -> tuple[bytes, str]:
        """Bytes and content type, for the app to serve; KeyError when missing."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def list(self, prefix: str) -> list[str]:
        """Keys under prefix, oldest first."""
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str, *, keep_newest: int = 0) -> int: ...

    def url(self, key: str) -> str: ...


# ── sandbox ───────────────────────────────────────────────────────────────────────────────────


@dataclass
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@dataclass(frozen=True)
class PackagesWarmed:
    """What a sandbox's package cache did before an install: a line for the build log, and environment for
    the install command (e.g. no index when every wheel is cached)."""

    note: str = ''
    env: dict[str, str] = field(default_factory=dict)


class SandboxError(Exception):
    """A sandbox operation failed (path outside the workspace, missing file, dead sandbox)."""


@runtime_checkable
class Sandbox(Protocol):
    """One build's isolated workspace. Paths are relative to the workspace root."""

    id: str

    async def write_file(self, path: str, data: str | bytes) -> None: ...

    async def read_file(self, path: str) -> bytes: ...

    async def list_files(self, path: str = '.', *, recursive: bool = True) -> list[str]: ...

    async def delete_file(self, path: str) -> None: ...

    async def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
        cwd: str = '.',
    ) -> CommandResult: ...

    async def start_app(self, *, on_output: OutputCallback | None = None) -> str:
        """Detect how the generated app starts, start it, wait until it answers; returns its URL."""
        ...

    async def app_url(self) -> str | None:
        """URL of the running app, or None when it is not running."""
        ...

    async def stop_app(self) -> None: ...

    async def kill_processes(self) -> None:
        """Stop every process the sandbox runs (cancel)."""
        ...

    async def archive(self) -> bytes:
        """The workspace as a gzipped tar (project snapshot)."""
        ...

    async def warm_packages(self, files: dict[str, str]) -> PackagesWarmed:
        """Prepare shared package caches for installing the manifest in `files` (package.json or
        requirements.txt by name); a sandbox without caches says nothing."""
        ...

    async def restore(self, archive: bytes) -> None: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def destroy(self) -> None: ...


class SandboxProvider(Protocol):
    name: str  # local | e2b
    apps_survive_restart: bool  # False: a restart stops every running preview (local processes die with us)
    limits_mode: str  # how one sandbox is kept from starving the others: cgroup v2 | cgroup v1 | uid | shared

    async def create(self, *, key: str) -> Sandbox: ...

    async def connect(self, sandbox_id: str) -> Sandbox | None:
        """Reattach to an existing sandbox (paused or running); None when it has expired."""
        ...

    async def probe(self) -> None:
        """Run `true` in a throwaway sandbox with the isolation builds get; raises SandboxError when it fails."""
        ...

    def isolation(self) -> str:
        """Human description of the isolation in force, for /readyz and the admin page."""
        ...

    async def close(self) -> None:
        """Stop the processes this provider started (shutdown); workspaces stay."""
        ...


@runtime_checkable
class PreviewGateway(Protocol):
    """A SandboxProvider whose apps sit behind a gateway that wants credentials (E2B's edge and the sandbox's
    traffic token). The preview proxy asks it where to send a preview's requests and which headers to add;
    a local sandbox is no gateway: its stored preview URL is reached as it is."""

    async def preview_upstream(self, sandbox_id: str) -> tuple[str, dict[str, str]]: ...


# ── LLM ───────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class LLMReply:
    """One assistant turn. `content` is the turn in Anthropic block form, kept in the history."""

    text: str
    tool_calls: list[ToolCall]
    stop_reason: str  # end_turn | tool_use | max_tokens
    usage: Usage
    model: str
    content: list[dict[str, Any]] = field(default_factory=list)


class LLMError(Exception):
    """The model provider failed after its own retries; `retryable` says whether to try later."""

    def __init__(
        self, message: str, *, retryable: bool = False, status: int | None = None, malformed: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.malformed = malformed  # the model's reply itself could not be read (a tool call's JSON): ask again


TextCallback = Callable[[str], Awaitable[None] | None]


class LLM(Protocol):
    """Messages use Anthropic's shape: {'role', 'content': str | [blocks]} with text, tool_use,
    tool_result blocks. Adapters for other providers translate."""

    name: str  # offline | anthropic | openai_compat
    offline: bool
    default_model: str

    async def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        max_tokens: int = 4096,
        tool_choice: str | None = None,  # force this tool (structured output)
        on_text: TextCallback | None = None,
    ) -> LLMReply: ...

    async def healthy(self) -> bool: ...

    async def aclose(self) -> None:
        """Release connections (shutdown)."""
        ...


# ── screenshots, queue ────────────────────────────────────────────────────────────────────────


class Screenshotter(Protocol):
    async def capture(self, url: str, *, width: int = 1280, height: int = 800) -> bytes | None:
        """A PNG, or None when the capture failed, was blank, or the breaker is open."""
        ...

    async def close(self) -> None: ...

    def status(self) -> str: ...

    async def probe(self) -> str:
        """Launch the browser if it is not running; returns the status, raises when it cannot start."""
        ...

    async def run_check(self, base_url: str, check: AcceptanceCheck, *, step_timeout_s: float = 5.0) -> CheckRun:
        """Run an acceptance check in the host's own browser against `base_url` (requests to any other
        origin are blocked). Never raises: a problem is a failed run with its reason."""
        ...


class JobQueue(Protocol):
    """Runs `jobs.runner.run_build(job_id)` somewhere: asyncio tasks of the web process or of `main.py worker`."""

    def bind(
        self,
        *,
        claim: Callable[[], Awaitable[UUID | None]],
        run: Callable[[UUID], Awaitable[object]],
        recover: Callable[[UUID], Awaitable[object]] | None = None,
    ) -> None:
        """Connect the queue to what claims the next build and what runs one (jobs.runner). A queue that
        redelivers a job whose worker died calls `recover(job_id)` first (the build goes back to QUEUED)."""
        ...

    async def enqueue(self, job_id: UUID) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LeaderLock(Protocol):
    """Elects the one process that runs scheduled jobs. `hold` takes the lock or renews it; it expires
    on its own when its holder stops renewing (a killed process), so another can take over."""

    name: str
    ttl_s: float

    async def hold(self) -> bool:
        """True while this process is the leader (taken now or renewed)."""
        ...

    async def release(self) -> None: ...


@dataclass
class Health:
    name: str
    ok: bool
    detail: str = ''
    extra: dict[str, Any] = field(default_factory=dict)
