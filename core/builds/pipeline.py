"""One build from STARTING to READY (B-1, B-5, B-7, B-8, B-9, B-10, AG-1, AG-6).

STARTING → SCAFFOLD (sandbox, context) → CODE (agent loop) → DEPS → CHECKS (dev server, screenshot,
snapshot) → READY, or FAILED / CANCELLED. The run is idempotent: a re-delivered job resumes from
its agent checkpoint and reattaches (or restores) its sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from core import metrics
from core.acceptance.runs import Outcome, load_checks, record, run_all
from core.acceptance.spec import AcceptanceCheck, CheckRun
from core.agent import checkpoint
from core.agent.healing import MAX_ATTEMPTS, PLAIN_PROBLEMS, failure_kind, guidance, signature
from core.agent.loop import FINISH_CALL, MALFORMED_CALL, AgentOutcome, AgentRunContext, FailureAdvice, run_agent
from core.agent.safety import founder_safe
from core.agent.tools import default_tools
from core.agent.tools.base import ToolContext
from core.builds.changelog import changelog
from core.builds.context import built_features, system_prompt_for
from core.builds.escalations import (
    Failure,
    bump_provider_waits,
    escalate,
    founder_skipped,
    record_failure,
    send_back_to_agent,
)
from core.builds.holds import HoldContext, done_today_sentence, put_to_sleep, spend_sentence, stop_for_budget
from core.builds.jobs import cancel_topic
from core.builds.logs import LogBuffer, Redactor
from core.builds.pacer import BuildPacer
from core.builds.readiness import record_readiness
from core.builds.screenshots import capture_and_publish
from core.builds.snapshots import restore_latest, restore_version, save_snapshot
from core.builds.states import BuildState, transition
from core.builds.verify import home_page_problem
from core.builds.versions import assign_version
from core.db import SessionFactory, transaction
from core.event_log import EventLog
from core.events import BudgetUpdated, BuildEvent, Healing, PhaseCompleted, ToolCalled
from core.journey import timeline
from core.metering import model_for, record_usage
from core.models import Artifact, BuildJob, User, utcnow
from core.observability import bind_log_context
from core.ports import (
    LLM,
    BlobStore,
    Notifier,
    Sandbox,
    SandboxError,
    SandboxProvider,
    Screenshotter,
    ToolCall,
    Usage,
)

logger = logging.getLogger(__name__)
HEARTBEAT_S = 10.0
CHANGES_FILES = {'write_file', 'edit_file', 'bash'}  # tools after which a running app may be stale
PROVIDER_RETRY_MAX_S = 30 * 60
STAGE_SENTENCES = {
    BuildState.SCAFFOLD: 'Setting up a fresh workspace for your app',
    BuildState.CODE: 'Writing the code',
    BuildState.DEPS: 'Installing what the app needs',
    BuildState.CHECKS: 'Starting the app and checking it works',
}


@dataclass
class BuildDeps:
    """Everything a build needs from the outside, chosen once by core.services."""

    sessions: SessionFactory
    events: EventLog
    notifier: Notifier
    sandboxes: SandboxProvider
    blobs: BlobStore
    screenshotter: Screenshotter
    llm: LLM
    model: str
    secrets: list[str] = field(default_factory=list)
    max_tool_calls: int = 150
    max_tokens: int = 4096
    command_timeout: float = 120.0
    model_retry_s: float = 60.0  # the first wait for a model provider that stayed down; doubles each time


class BuildFailure(Exception):
    def __init__(self, summary: str, detail: str = '') -> None:
        super().__init__(summary)
        self.summary, self.detail = summary, detail


async def run_build(deps: BuildDeps, job_id: uuid.UUID) -> str:
    """Advance a claimed (STARTING) build as far as it goes; returns the state it ended in."""
    async with deps.sessions() as session:
        job = await session.get(BuildJob, job_id)
    if job is None or job.state != BuildState.STARTING:
        return job.state if job else 'missing'
    bind_log_context(build_id=job.id, user_id=job.user_id)  # this build's log lines name it (OPS-3)
    return await BuildRun(deps, job).execute()


class BuildRun:
    def __init__(self, deps: BuildDeps, job: BuildJob) -> None:
        self.deps, self.job = deps, job
        self.events = deps.events
        self.redactor = Redactor(deps.secrets)
        self.logs = LogBuffer(deps.events, job.id, phase='starting', redactor=self.redactor)
        self.sandbox: Sandbox | None = None
        self.cancel_reason: str | None = None
        self.tool_ctx: ToolContext | None = None
        self.pacer: BuildPacer | None = None
        self.failure: Failure | None = None  # the failure an escalating run stopped on
        self.app_stale = True  # files changed since the app last started: restart it before a check
        self.checks: Outcome | None = None  # the last run of the acceptance checks

    async def execute(self) -> str:
        task = asyncio.current_task()
        watcher = asyncio.create_task(self._watch_cancel(task))
        try:
            return await self._stages()
        except asyncio.CancelledError:
            if self.cancel_reason is None:
                raise  # the worker is shutting down: recovery re-queues the build at the next start
            return await self._cancelled()
        except BuildFailure as failure:
            return await self._fail(failure.summary, failure.detail)
        except Exception:  # noqa: BLE001 - any bug must end the build in a clear state, not leave it stuck
            logger.exception('build %s crashed', self.job.id)
            return await self._fail('Something went wrong on our side while building.', traceback.format_exc())
        finally:
            watcher.cancel()
            await asyncio.shield(self.logs.close())

    async def _stages(self) -> str:
        await self._enter(BuildState.SCAFFOLD)
        system = await self._scaffold()
        code = self.job.restore_of is None  # a restored version is installed and checked as it is, not coded
        while True:  # the fix loop: a failed install or check goes back to the agent with what failed
            if code:
                await self._enter(BuildState.CODE)
                outcome = await self._code(system)
                if outcome.status != 'done':
                    return await self._end_early(outcome)
            code = True
            await self._enter(BuildState.DEPS)
            failure = await self._install()
            if failure is None:
                await self._enter(BuildState.CHECKS)
                result = await self._checks()
                if isinstance(result, str):
                    return await self._ready(result)
                failure = result
            if failure.attempts >= MAX_ATTEMPTS:
                return await self._escalate(failure)

    async def _enter(self, state: BuildState) -> None:
        if self.cancel_reason:
            raise asyncio.CancelledError
        self.logs.set_phase(state.value.lower())
        await self.logs.flush()
        self.job = await transition(self.events, self.job.id, state, reason=STAGE_SENTENCES.get(state, ''))

    # ── stages ──

    async def _scaffold(self) -> str:
        saved = await checkpoint.load(self.deps.sessions, self.job.id)
        for sandbox_id in {s for s in (saved.sandbox_id if saved else None, self.job.sandbox_id) if s}:
            self.sandbox = await self.deps.sandboxes.connect(sandbox_id)
            if self.sandbox:
                break
        if self.sandbox is None:
            self.sandbox = await self.deps.sandboxes.create(key=str(self.job.id))
            if self.job.restore_of and not saved:  # a restore starts from that version's files
                await self._restore_version(self.job.restore_of)
            elif saved or self.job.kind != 'initial':  # a lost sandbox or a retry: bring back the files
                restored = await restore_latest(
                    sandbox=self.sandbox,
                    blobs=self.deps.blobs,
                    sessions=self.deps.sessions,
                    project_id=self.job.project_id,
                )
                if restored is not None:
                    await self.logs.write(f'Restored the project files saved at {restored.created_at:%H:%M:%S} '
                                          f'({restored.reason}) into a fresh workspace.\n')  # fmt: skip
        async with transaction(self.deps.sessions) as session:
            job = await session.get(BuildJob, self.job.id)
            assert job is not None
            job.sandbox_id = self.sandbox.id
            if job.model is None:  # BU-7: resolved once, when the build first starts, and kept
                owner = await session.get(User, job.user_id)
                assert owner is not None
                job.model = await model_for(session, owner, 'builder', self.deps.model)
            self.job.model = job.model
            system = await system_prompt_for(session, job)
        return system

    async def _restore_version(self, job_id: uuid.UUID) -> None:
        assert self.sandbox is not None
        restored = await restore_version(sandbox=self.sandbox, blobs=self.deps.blobs, sessions=self.deps.sessions,
                                         job_id=job_id)  # fmt: skip
        if restored is None:
            raise BuildFailure('The files of that version are no longer stored, so it cannot be restored.')
        saved = f'{restored.created_at:%Y-%m-%d %H:%M} UTC'
        await self.logs.write(f'Restored the files of the version you chose (saved {saved}) into a fresh workspace.\n')

    async def _code(self, system: str) -> AgentOutcome:
        assert self.sandbox is not None
        state = await checkpoint.load(self.deps.sessions, self.job.id) or checkpoint.CheckpointState()
        state.sandbox_id = self.sandbox.id
        model = self.job.model or self.deps.model
        self.pacer = BuildPacer(self.deps.sessions, user_id=self.job.user_id, model=model, provider=self.deps.llm.name)
        self.tool_ctx = ToolContext(
            job_id=self.job.id,
            sandbox=self.sandbox,
            emit=self._emit,
            screenshot=self._screenshot,
            on_output=self._output,
            run_check=self._run_check,
            command_timeout=self.deps.command_timeout,
        )
        ctx = AgentRunContext(
            llm=self.deps.llm,
            model=model,
            tools=default_tools(),
            tool_ctx=self.tool_ctx,
            save_checkpoint=lambda s: checkpoint.save(self.deps.sessions, self.job.id, s),
            should_stop=self._should_stop,
            on_usage=self._record_usage,
            on_tool_failure=self._on_failure,
            pacer=self.pacer,
            max_tool_calls=self.deps.max_tool_calls,
            max_tokens=self.deps.max_tokens,
            redact=self.redactor.redact,
        )
        return await run_agent(ctx, system=system, state=state)

    async def _install(self) -> Failure | None:
        assert self.sandbox is not None
        files = set(await self.sandbox.list_files('.', recursive=False))
        command = _install_command(files, await self._read_optional('requirements.txt'))
        if command is None:
            await self.logs.write('Nothing to install: the app needs no extra packages.\n')
            return None
        command = await self._with_package_cache(files, command)
        running = self.sandbox.run(command, timeout=600, on_stdout=self._stdout, on_stderr=self._stderr)
        result = await metrics.timed_command('install', running)
        if not result.ok:
            tail = '\n'.join(self.logs.tail(40))
            return await self._send_back('command', f"Installing the app's packages failed:\n{tail}",
                                         'Installed the packages the app lists')  # fmt: skip
        return None

    async def _with_package_cache(self, files: set[str], command: str) -> str:
        """The install command, after the sandbox's shared caches were filled for the app's manifest."""
        assert self.sandbox is not None
        name = 'package.json' if 'package.json' in files else 'requirements.txt'
        manifest = await self._read_optional(name)
        if manifest is None:
            return command
        warmed = await self.sandbox.warm_packages({name: manifest})
        if warmed.note:
            await self.logs.write(warmed.note)
        return ' '.join([*(f'{key}={shlex.quote(value)}' for key, value in warmed.env.items()), command])

    async def _checks(self) -> str | Failure:
        """The app's URL once it starts and shows every feature; otherwise the failure, sent back to the agent."""
        assert self.sandbox is not None
        await self.sandbox.stop_app()  # restart so the checked app runs the final code
        try:
            url = await self.sandbox.start_app(on_output=self._stdout)
        except SandboxError as error:
            return await self._send_back('app', f'The app did not start: {error}', 'Started the app')
        self.app_stale = False
        scope = await self._feature_names()
        if problem := await home_page_problem(url, scope):
            return await self._send_back('app', problem, 'Checked the home page')
        self.checks = await self._acceptance(url, scope)
        if self.checks.failures and not await founder_skipped(self.deps.sessions, self.job.id, 'check'):
            return await self._send_back('check', self.checks.failures, 'Ran the acceptance checks')
        await self._screenshot('Ready', url=url)
        await self._snapshot('ready')
        return url

    async def _acceptance(self, url: str, scope: list[str]) -> Outcome:
        """Every check in the workspace, run in the host's browser; results and evidence stored and shown."""
        assert self.sandbox is not None
        checks, problems = await load_checks(self.sandbox)
        runs = await run_all(self.deps.screenshotter, url, checks, scope)
        outcome = await record(sessions=self.deps.sessions, blobs=self.deps.blobs, job=self.job, runs=runs,
                               scope=scope, problems=problems)  # fmt: skip
        await self.events.append(outcome.event)
        return outcome

    async def _run_check(self, check: AcceptanceCheck) -> CheckRun:
        """The agent's acceptance_check tool: run one check against the app as the files are now."""
        assert self.sandbox is not None
        url = await self.sandbox.app_url()
        if self.app_stale or not url:
            await self.sandbox.stop_app()
            try:
                url = await self.sandbox.start_app(on_output=self._stdout)
            except SandboxError as error:
                return CheckRun(feature=check.feature, passed=False, step='start the app', problem=str(error))
            self.app_stale = False
        return await self.deps.screenshotter.run_check(url, check)

    async def _ready(self, url: str) -> str:
        async with transaction(self.deps.sessions) as session:
            job = await session.get(BuildJob, self.job.id)
            assert job is not None
            version = await assign_version(session, job)
            job.summary = summary = await self._summary()
        changes = await self._changelog(version)
        # IT-4: this version's deploy readiness report, stored before the founder is told; never fails the build
        verified = (self.checks.event.verified, self.checks.event.scoped) if self.checks else None
        await record_readiness(self.deps.sessions, self.sandbox, project_id=self.job.project_id, build_version=version,
                               verified=verified)  # fmt: skip
        # The terminal transition also appends build.done (with the version) in the same write.
        self.job = await transition(
            self.events,
            self.job.id,
            BuildState.READY,
            reason=f'Your app {version} is ready to try.',
            preview_url=url,
            preview_state='running',
            summary={**summary, 'changelog': changes} if changes else summary,
        )
        return BuildState.READY.value

    async def _changelog(self, version: str) -> dict | None:
        """IT-3: what this version changed against the previous one (None for a first version)."""
        assert self.sandbox is not None
        async with self.deps.sessions() as session:
            asked = await session.get(Artifact, self.job.change_request_id) if self.job.change_request_id else None
        request = str(asked.content.get('summary', '')) if asked else ''
        try:
            return await changelog(self.deps.sessions, self.deps.blobs, self.sandbox, self.job, version=version,
                                   request=request)  # fmt: skip
        except Exception:  # noqa: BLE001 - a missing changelog must not fail a working version
            logger.exception('changelog of build %s failed', self.job.id)
            return None

    # ── endings ──

    async def _end_early(self, outcome: AgentOutcome) -> str:
        if outcome.status == 'cancelled':
            return await self._cancelled()
        if outcome.status == 'sleep' and outcome.wake_at is not None:
            return await self._sleep(outcome)
        if outcome.status == 'budget':
            return await self._budget_exceeded()
        if outcome.status == 'escalate' and self.failure is not None:
            return await self._escalate(self.failure)
        if outcome.status == 'guard':  # going in circles or out of steps: the founder decides, not a failure
            kind = outcome.failure_kind or 'repeat'
            return await self._escalate(Failure(f'{kind}:guard', kind, MAX_ATTEMPTS, [outcome.reason]))
        if outcome.status == 'error' and outcome.retryable:
            return await self._wait_for_the_model(outcome)
        if outcome.status == 'guard':
            return await self._fail(
                outcome.reason or 'The agent stopped itself to avoid going in circles.', outcome.detail
            )
        return await self._fail(outcome.reason or 'The AI model could not be reached.', outcome.detail)

    # ── self-healing (AG-7, AG-8) ──

    async def _on_failure(self, call: ToolCall, output: str, label: str) -> FailureAdvice:
        """A failed step: count its signature, tell the founder we are fixing it, or ask them after 3."""
        kind = {FINISH_CALL: 'incomplete', MALFORMED_CALL: 'input'}.get(call.name) or failure_kind(call.name, output)
        failure = await self._count_failure(kind, output, label)
        if failure.attempts >= MAX_ATTEMPTS:
            self.failure = failure
            return FailureAdvice(escalate=True, reason=PLAIN_PROBLEMS[kind])
        return FailureAdvice(guidance=guidance(failure.attempts, failure.tried))

    async def _count_failure(self, kind: str, text: str, approach: str) -> Failure:
        failure = await record_failure(self.deps.sessions, project_id=self.job.project_id, job_id=self.job.id,
                                       sig=signature(kind, text), error=text, approach=approach)  # fmt: skip
        if failure.attempts < MAX_ATTEMPTS:
            await self._emit(Healing(job_id=self.job.id, signature=failure.signature, attempt=failure.attempts + 1,
                                     max_attempts=MAX_ATTEMPTS, problem=PLAIN_PROBLEMS[kind],
                                     next_step="I'm trying a different approach.", phase=self._phase()))  # fmt: skip
        return failure

    async def _send_back(self, kind: str, problem: str, approach: str) -> Failure:
        """A failure found after the agent's turn (install, start, home page): back to it with the problem."""
        failure = await self._count_failure(kind, problem, approach)
        if failure.attempts < MAX_ATTEMPTS:
            await self.logs.write(f'{problem}\n', 'stderr')
            await send_back_to_agent(self.deps.sessions, self.job.id,
                                     f'{problem}\n{guidance(failure.attempts, failure.tried)}')  # fmt: skip
        return failure

    async def _escalate(self, failure: Failure) -> str:
        self.job = await escalate(self._hold(), failure=failure, phase=self._phase())
        return BuildState.NEEDS_INPUT.value

    def _phase(self) -> str:
        return (self.tool_ctx.phase if self.tool_ctx else None) or ''

    async def _feature_names(self) -> list[str]:
        async with self.deps.sessions() as session:  # the plan's scope: a Fast MVP is checked on its must-haves
            return await built_features(session, self.job)

    def _hold(self) -> HoldContext:
        d = self.deps
        return HoldContext(d.sessions, d.events, d.notifier, d.blobs, self.job, self.sandbox)

    async def _sleep(self, outcome: AgentOutcome) -> str:
        assert outcome.wake_at is not None
        allowance = self.pacer.last if self.pacer else None
        done = done_today_sentence(self.tool_ctx.phases if self.tool_ctx else [], allowance)
        self.job = await put_to_sleep(self._hold(), wake_at=outcome.wake_at, reason=outcome.reason, done_today=done)
        return BuildState.SLEEPING.value

    async def _wait_for_the_model(self, outcome: AgentOutcome) -> str:
        """The provider stayed down through the SDK's retries: sleep until a scheduled retry, with backoff."""
        waits = await bump_provider_waits(self.deps.sessions, self.job.id)
        wake_at = utcnow() + timedelta(seconds=min(self.deps.model_retry_s * 2 ** (waits - 1), PROVIDER_RETRY_MAX_S))
        reason = f'The AI model is not answering right now, so I will try again at {wake_at:%H:%M} UTC.'
        await self.logs.write(f'{outcome.detail}\n', 'stderr')
        self.job = await put_to_sleep(self._hold(), wake_at=wake_at, reason=reason, done_today=reason)
        return BuildState.SLEEPING.value

    async def _budget_exceeded(self) -> str:
        async with self.deps.sessions() as session:
            job = await session.get(BuildJob, self.job.id)
        spent = spend_sentence(self.pacer.last if self.pacer else None, job or self.job)
        self.job = await stop_for_budget(self._hold(), spent=spent)
        return BuildState.BUDGET_EXCEEDED.value

    async def _cancelled(self) -> str:
        if self.sandbox is not None:
            await asyncio.shield(self.sandbox.kill_processes())
        self.job = await asyncio.shield(
            transition(
                self.events,
                self.job.id,
                BuildState.CANCELLED,
                reason='Build cancelled.',
            )
        )
        return BuildState.CANCELLED.value

    async def _fail(self, summary: str, detail: str) -> str:
        if self.sandbox is not None:
            await self.sandbox.kill_processes()
        summary = founder_safe(summary)
        self.job = await transition(
            self.events,
            self.job.id,
            BuildState.FAILED,
            reason=summary,
            error_summary=summary,
            error_detail=self.redactor.redact(detail)[-20000:],
        )
        async with transaction(self.deps.sessions) as session:
            timeline.record(
                session,
                project_id=self.job.project_id,
                kind='build.failed',
                title='Build failed',
                detail=summary,
                job_id=self.job.id,
            )
        return BuildState.FAILED.value

    # ── callbacks given to the agent and the sandbox ──

    async def _emit(self, event: BuildEvent) -> BuildEvent:
        stored = await self.events.append(event)
        if isinstance(event, ToolCalled) and event.tool in CHANGES_FILES:
            self.app_stale = True
        if isinstance(event, PhaseCompleted) and self.sandbox is not None:  # B-10: snapshot at phase commits
            await self._snapshot('phase')
        return stored

    async def _snapshot(self, reason: str) -> None:
        assert self.sandbox is not None
        await save_snapshot(sandbox=self.sandbox, blobs=self.deps.blobs, sessions=self.deps.sessions,
                            project_id=self.job.project_id, owner_id=self.job.user_id, job_id=self.job.id,
                            reason=reason)  # fmt: skip

    async def _screenshot(self, phase: str, url: str | None = None) -> str | None:
        assert self.sandbox is not None
        url = url or await self.sandbox.app_url() or await self.sandbox.start_app(on_output=self._stdout)
        return await capture_and_publish(
            shooter=self.deps.screenshotter,
            blobs=self.deps.blobs,
            sessions=self.deps.sessions,
            emit=self.events.append,
            job_id=self.job.id,
            project_id=self.job.project_id,
            owner_id=self.job.user_id,
            url=url,
            phase=phase,
        )

    async def _output(self, chunk: str, stream: str) -> None:
        await self.logs.write(chunk, stream)

    async def _stdout(self, chunk: str) -> None:
        await self.logs.write(chunk, 'stdout')

    async def _stderr(self, chunk: str) -> None:
        await self.logs.write(chunk, 'stderr')

    async def _should_stop(self) -> str | None:
        return self.cancel_reason

    async def _record_usage(self, usage: Usage, model: str) -> None:
        """BU-2: every model call's tokens and cost, per build and per founder."""
        day = self.pacer.last.day if self.pacer and self.pacer.last else None
        async with transaction(self.deps.sessions) as session:
            recorded = await record_usage(session, user_id=self.job.user_id, project_id=self.job.project_id,
                                        job_id=self.job.id, role='builder', model=model, provider=self.deps.llm.name,
                                        usage=usage, day=day)  # fmt: skip
            job = await session.get(BuildJob, self.job.id)
            assert job is not None
            job.input_tokens += usage.input_tokens
            job.output_tokens += usage.output_tokens
            job.cost_microdollars += recorded.record.cost_microdollars
            totals = (job.input_tokens, job.output_tokens, job.cost_microdollars)
        if self.pacer is not None:
            self.pacer.note(recorded)  # the allowance after this call, for the breaker and the next call
        await self._emit(
            BudgetUpdated(
                job_id=self.job.id, input_tokens=totals[0], output_tokens=totals[1], cost_microdollars=totals[2]
            )
        )

    async def _watch_cancel(self, task: asyncio.Task | None) -> None:  # type: ignore[type-arg]
        """Stop the build the moment the founder cancels (pushed), and beat the heart every
        HEARTBEAT_S so recovery in another process can tell a live build from an orphan."""
        listener = await self.deps.notifier.listen(cancel_topic(self.job.id))
        try:
            while True:
                async with transaction(self.deps.sessions) as session:
                    job = await session.get(BuildJob, self.job.id)
                    if job is not None:
                        job.updated_at = utcnow()
                if job is not None and job.cancel_requested:
                    self.cancel_reason = 'Cancelled by the founder'
                    if task is not None:
                        task.cancel()
                    return
                await listener.wait(HEARTBEAT_S)
        finally:
            await listener.close()

    async def _read_optional(self, path: str) -> str | None:
        assert self.sandbox is not None
        try:
            return (await self.sandbox.read_file(path)).decode('utf-8', 'replace')
        except SandboxError:
            return None

    async def _summary(self) -> dict:
        assert self.sandbox is not None
        files = sorted(f for f in await self.sandbox.list_files('.') if not f.startswith(('data/', '.')))
        phases = [p['name'] for p in (self.tool_ctx.phases if self.tool_ctx else [])]
        features = await self._feature_names()
        stack = (
            'Python (standard library)'
            if 'app.py' in files
            else ('Node.js' if 'package.json' in files else 'Static site')
        )
        return {
            'files': files[:200],
            'file_count': len(files),
            'features': features,
            'phases': phases,
            'stack': stack,
            'docs': sorted(self.tool_ctx.docs_written) if self.tool_ctx else [],
            'checks': self._checks_summary(),
        }

    def _checks_summary(self) -> dict:
        """'4 of 5 features verified' and what failed, in plain words, for the success summary."""
        if self.checks is None:
            return {'verified': 0, 'scoped': 0, 'failed': []}
        event = self.checks.event
        failed = [
            {'feature': r.feature, 'step': r.step, 'problem': r.problem, 'regressed_from': r.regressed_from}
            for r in event.results
            if not r.passed
        ]
        return {'verified': event.verified, 'scoped': event.scoped, 'failed': failed}


def _install_command(files: set[str], requirements: str | None) -> str | None:
    """How to install the generated app's packages, or None when it needs none."""
    if 'package.json' in files:
        return 'npm install --no-audit --no-fund'
    wanted = [line for line in (requirements or '').splitlines() if line.strip() and not line.strip().startswith('#')]
    if wanted:
        return 'python3 -m pip install --user --break-system-packages --no-input -r requirements.txt'
    return None
