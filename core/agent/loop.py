"""The agent loop (AG-1): think → act → observe → repeat, with whatever brain implements the LLM port.

One turn: ask the model → keep its reply in the history → run each tool call it made (guards first)
→ give all results back in one user turn → checkpoint. The loop emits `Thinking`, `ToolCalled` and
`ToolResult`; tools emit their own domain events (narration, docs, phases). It ends when the model
ends its turn without tool calls ('done'), the build is cancelled, a guard stops it, or the model fails.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from core.agent import guards
from core.agent.checkpoint import CheckpointState
from core.agent.safety import founder_safe
from core.agent.tools import ToolRegistry, tool_specs
from core.agent.tools.base import Tool, ToolContext, ToolInputError, ToolOutcome
from core.events import Thinking, ToolCalled, ToolResult
from core.pacing import Decision
from core.ports import LLM, LLMError, LLMReply, TextCallback, ToolCall, Usage

START_MESSAGE = 'Build the MVP described above.'
CONTINUE_MESSAGE = 'Your reply was cut off. Please continue where you stopped.'
MAX_CONTINUATIONS = 2
EVENT_INPUT_CHARS = 200  # longer string arguments appear in events as a size, not the content
CHARS_PER_TOKEN = 4  # for estimates before the provider reports the real count


class Pacer(Protocol):
    """Budget pacing (BU-4, BU-6), asked around every model call."""

    async def before_call(self, *, input_tokens: int, max_tokens: int) -> Decision: ...

    async def after_call(self) -> Decision:
        """Once the call's usage is recorded: 'stop' when today's spend went past the breaker."""
        ...


@dataclass
class FailureAdvice:
    """What the healing logic says about a failed step (AG-7): guidance for the model, or ask the founder."""

    guidance: str = ''
    escalate: bool = False
    reason: str = ''  # for the founder, when escalating


OnFailure = Callable[[ToolCall, str, str], Awaitable['FailureAdvice | None']]  # (call, output, label)
FINISH_CALL = 'finish'  # the pseudo-call a premature end of turn is counted under


class BudgetBreak(Exception):
    """A streamed reply outgrew what today's budget allows: the call is abandoned mid-stream."""


async def _never_stop() -> str | None:
    return None


async def _save_nothing(_state: CheckpointState) -> None:
    return None


def _identity(text: str) -> str:
    return text


@dataclass
class AgentRunContext:
    """What one run needs, injected by the build pipeline."""

    llm: LLM
    model: str
    tools: ToolRegistry
    tool_ctx: ToolContext
    save_checkpoint: Callable[[CheckpointState], Awaitable[None]] = _save_nothing
    should_stop: Callable[[], Awaitable[str | None]] = _never_stop  # a reason when cancelled
    on_usage: Callable[[Usage, str], Awaitable[None]] | None = None  # BU-2: every call's tokens
    on_tool_failure: OnFailure | None = None  # AG-7: count the failure, advise the model or escalate
    pacer: Pacer | None = None
    max_tool_calls: int = 150
    max_tokens: int = 4096
    max_result_tokens: int = 1000
    redact: Callable[[str], str] = _identity


@dataclass
class AgentOutcome:
    """How a run ended. `reason` is for the founder; `detail` is technical (an expander, logs)."""

    status: Literal['done', 'cancelled', 'guard', 'error', 'sleep', 'budget', 'escalate']
    reason: str = ''
    failure_kind: str = ''  # 'guard': repeat | cap
    wake_at: datetime | None = None  # 'sleep': when today's budget refreshes
    detail: str = ''
    retryable: bool = False
    summary: str = ''  # the model's closing words, founder-safe
    iterations: int = 0
    tool_calls: int = 0


@dataclass
class _Turn:
    results: list[dict[str, Any]] = field(default_factory=list)
    stop: AgentOutcome | None = None


async def run_agent(ctx: AgentRunContext, *, system: str, state: CheckpointState) -> AgentOutcome:
    """Run (or resume) the agent until it finishes, is cancelled, is stopped by a guard, or fails."""
    _restore_run_state(ctx.tool_ctx, state)
    if not state.messages:
        state.messages.append({'role': 'user', 'content': START_MESSAGE})
    pending = _pending_calls(state.messages)
    if pending is None and state.messages[-1]['role'] == 'assistant':
        return _outcome(state, 'done', summary=_last_text(state.messages))  # finished before a restart
    specs = tool_specs(ctx.tools)
    while True:
        if pending is None:
            if reason := await ctx.should_stop():
                return _outcome(state, 'cancelled', reason=reason)
            decision = await _pace(ctx, state, system)
            if decision.action != 'go':
                return _paused(state, decision)
            try:
                reply = await ctx.llm.complete(
                    system=system, messages=state.messages, tools=specs, model=ctx.model,
                    max_tokens=decision.max_tokens, on_text=_stream_guard(decision),
                )  # fmt: skip
            except LLMError as exc:
                if not exc.malformed:
                    return _model_failed(state, exc)
                if stop := await _unreadable_reply(ctx, state, str(exc)):
                    return stop
                continue
            except BudgetBreak:
                return _outcome(state, 'budget', reason=BREAKER_REASON, detail='stopped mid-stream')
            _remember_usage(state, reply.usage)
            state.retry_counters.pop('provider_waits', None)  # the model answers again
            if ctx.on_usage:
                await ctx.on_usage(reply.usage, reply.model)
            state.messages.append({'role': 'assistant', 'content': _content(reply)})
            if ctx.pacer and (await ctx.pacer.after_call()).action == 'stop':
                await _checkpoint(ctx, state)
                return _outcome(state, 'budget', reason=BREAKER_REASON, detail='over the breaker after a call')
            await _think(ctx, reply.text)
            if not reply.tool_calls:
                if reply.stop_reason == 'max_tokens' and _continue(state):
                    await _checkpoint(ctx, state)
                    continue
                if stop := await _finished_too_early(ctx, state):
                    await _checkpoint(ctx, state)
                    if stop is not _KEEP_GOING:
                        return stop
                    continue
                await _checkpoint(ctx, state)
                return _outcome(state, 'done', summary=founder_safe(reply.text, fallback=''))
            pending = reply.tool_calls
        turn = await _run_calls(ctx, state, pending)
        state.messages.append({'role': 'user', 'content': turn.results})
        state.iteration += 1
        await _checkpoint(ctx, state)
        if turn.stop:
            turn.stop.iterations, turn.stop.tool_calls = state.iteration, state.tool_calls
            return turn.stop
        pending = None


BREAKER_REASON = "Today's spending went past the safety limit, so I stopped at once."


async def _pace(ctx: AgentRunContext, state: CheckpointState, system: str) -> Decision:
    if ctx.pacer is None:
        return Decision('go', max_tokens=ctx.max_tokens, headroom=None)
    return await ctx.pacer.before_call(input_tokens=_input_estimate(state, system), max_tokens=ctx.max_tokens)


def _input_estimate(state: CheckpointState, system: str) -> int:
    """The next call's input: the last call's input and output plus what was added since (the tool results)."""
    last = state.retry_counters.get('last_input_tokens')
    added = len(json.dumps(state.messages[-1].get('content'), default=str)) // CHARS_PER_TOKEN
    if last is None:
        return (len(system) + len(json.dumps(state.messages, default=str))) // CHARS_PER_TOKEN
    return last + state.retry_counters.get('last_output_tokens', 0) + added


def _remember_usage(state: CheckpointState, usage: Usage) -> None:
    state.retry_counters['last_input_tokens'] = usage.input_tokens
    state.retry_counters['last_output_tokens'] = usage.output_tokens


def _stream_guard(decision: Decision) -> TextCallback | None:
    """Abandon a reply that streams past the day's headroom (a provider ignoring max_tokens)."""
    if decision.headroom is None:
        return None
    limit = decision.headroom * CHARS_PER_TOKEN
    seen = 0

    def guard(text: str) -> None:
        nonlocal seen
        seen += len(text)
        if seen > limit:
            raise BudgetBreak

    return guard


def _paused(state: CheckpointState, decision: Decision) -> AgentOutcome:
    if decision.action == 'sleep':
        return _outcome(state, 'sleep', reason=decision.reason, wake_at=decision.wake_at)
    return _outcome(state, 'budget', reason=BREAKER_REASON, detail=decision.reason)


async def _run_calls(ctx: AgentRunContext, state: CheckpointState, calls: list[ToolCall]) -> _Turn:
    """Run a turn's calls in order; once stopped, the rest get a "not run" result (the history stays valid)."""
    turn = _Turn()
    for call in calls:
        if turn.stop is None:
            turn.stop = await _stop_before(ctx, state, call)
        if turn.stop is not None:
            turn.results.append(_result_block(call.id, f'Not run: {turn.stop.reason}', is_error=True))
            continue
        block, advice = await _run_one(ctx, state, call)
        turn.results.append(block)
        if advice is not None and advice.escalate:
            turn.stop = _outcome(state, 'escalate', reason=advice.reason, detail=str(block.get('content'))[:2000])
    return turn


_KEEP_GOING = AgentOutcome(status='done')  # marker: the model was sent back to work
MALFORMED_CALL = 'malformed'


async def _unreadable_reply(ctx: AgentRunContext, state: CheckpointState, error: str) -> AgentOutcome | None:
    """A reply whose tool call could not be parsed is a failed step the model hears about, never a crash."""
    count = state.retry_counters.get('malformed', 0) + 1
    state.retry_counters['malformed'] = count
    call = ToolCall(id=MALFORMED_CALL, name=MALFORMED_CALL, input={})
    advice = (
        await ctx.on_tool_failure(call, error, 'Sent a step the tools could not read') if ctx.on_tool_failure else None
    )
    if advice is not None and advice.escalate:
        return _outcome(state, 'escalate', reason=advice.reason, detail=error)
    if count > guards.REPEAT_LIMIT:
        return _outcome(state, 'guard', reason=error, detail=error, failure_kind='input')
    note = f'{error} Your last reply could not be read, so nothing was done; send it again with valid JSON arguments.'
    _add_to_last_user_turn(state, f'{note} {advice.guidance if advice else ""}'.strip())
    await _checkpoint(ctx, state)
    return None


def _add_to_last_user_turn(state: CheckpointState, text: str) -> None:
    last = state.messages[-1]
    if last['role'] != 'user':
        state.messages.append({'role': 'user', 'content': text})
        return
    blocks = last['content'] if isinstance(last['content'], list) else [{'type': 'text', 'text': last['content']}]
    last['content'] = [*blocks, {'type': 'text', 'text': text}]


async def _finished_too_early(ctx: AgentRunContext, state: CheckpointState) -> AgentOutcome | None:
    """Honest completion: ending the turn while a planned phase is not done is a failure like any other."""
    left = [card['name'] for card in ctx.tool_ctx.phases if card.get('status') != 'done']
    if not left:
        return None
    pushed = state.retry_counters.get('finish_pushbacks', 0) + 1
    state.retry_counters['finish_pushbacks'] = pushed
    problem = f'You ended your turn, but these phases are not complete: {", ".join(left)}.'
    advice = None
    if ctx.on_tool_failure is not None:
        call = ToolCall(id=FINISH_CALL, name=FINISH_CALL, input={'phases': left})
        advice = await ctx.on_tool_failure(call, problem, 'Tried to finish before every phase was done')
    if advice is not None and advice.escalate:
        return _outcome(state, 'escalate', reason=advice.reason, detail=problem)
    if pushed > guards.REPEAT_LIMIT:  # bounded even without a healing hook
        return _outcome(state, 'guard', reason=problem, detail=problem, failure_kind='incomplete')
    todo = 'Finish the work of each remaining phase and complete it with the phase tool, then end your turn.'
    guidance = advice.guidance if advice else ''
    state.messages.append({'role': 'user', 'content': f'{problem} {todo} {guidance}'.strip()})
    return _KEEP_GOING


async def _stop_before(ctx: AgentRunContext, state: CheckpointState, call: ToolCall) -> AgentOutcome | None:
    if reason := await ctx.should_stop():
        return _outcome(state, 'cancelled', reason=reason)
    if reason := guards.cap_reached(state.tool_calls, ctx.max_tool_calls):
        detail = f'tool-call cap {ctx.max_tool_calls} reached'
        return _outcome(state, 'guard', reason=reason, detail=detail, failure_kind='cap')
    fingerprint = guards.fingerprint(call.name, call.input)
    if reason := guards.repetition(state.recent_calls, fingerprint):
        detail = f'repeated call {call.name} {_short_json(call.input)}'
        return _outcome(state, 'guard', reason=reason, detail=detail, failure_kind='repeat')
    guards.remember(state.recent_calls, fingerprint)
    return None


async def _run_one(
    ctx: AgentRunContext, state: CheckpointState, call: ToolCall
) -> tuple[dict[str, Any], FailureAdvice | None]:
    tool = ctx.tools.get(call.name)
    label = _label(tool, call)
    tc = ctx.tool_ctx
    await tc.emit(
        ToolCalled(job_id=tc.job_id, call_id=call.id, tool=call.name, label=label, input=_event_input(ctx, call.input))
    )
    state.tool_calls += 1
    outcome = await _execute(ctx, tool, call)
    redacted = ctx.redact(outcome.output)
    output = guards.truncate_middle(redacted, ctx.max_result_tokens)
    await tc.emit(ToolResult(job_id=tc.job_id, call_id=call.id, tool=call.name, ok=outcome.ok, output=output))
    _sync_run_state(tc, state)
    advice = await ctx.on_tool_failure(call, redacted, label) if not outcome.ok and ctx.on_tool_failure else None
    if advice is not None and advice.guidance:
        output = f'{output}\n\n{advice.guidance}'
    return _result_block(call.id, output, is_error=not outcome.ok), advice


async def _execute(ctx: AgentRunContext, tool: Tool | None, call: ToolCall) -> ToolOutcome:
    if tool is None:
        return ToolOutcome(ok=False, output=f'There is no tool named {call.name}. Tools: {", ".join(ctx.tools)}.')
    try:
        return await tool.run(ctx.tool_ctx, call.input if isinstance(call.input, dict) else {})
    except ToolInputError as exc:
        return ToolOutcome(ok=False, output=f'Invalid arguments for {call.name}: {exc}')
    except Exception as exc:  # noqa: BLE001 — a broken tool is a failed step the model can work around
        return ToolOutcome(ok=False, output=f'{call.name} failed: {type(exc).__name__}: {exc}')


async def _think(ctx: AgentRunContext, text: str) -> None:
    safe = founder_safe(text, fallback='') if text and text.strip() else ''
    if safe:
        await ctx.tool_ctx.emit(Thinking(job_id=ctx.tool_ctx.job_id, text=safe))


async def _checkpoint(ctx: AgentRunContext, state: CheckpointState) -> None:
    _sync_run_state(ctx.tool_ctx, state)
    state.sandbox_id = ctx.tool_ctx.sandbox.id
    await ctx.save_checkpoint(state)


def _restore_run_state(tc: ToolContext, state: CheckpointState) -> None:
    if state.phases and not tc.phases:
        tc.phases = [dict(card) for card in state.phases]
        tc.phase = state.phase
    for message in state.messages:  # sections documented before a restart
        for block in _blocks(message):
            if block.get('type') == 'tool_use' and block.get('name') == 'document':
                tc.docs_written.add(str((block.get('input') or {}).get('section')))


def _sync_run_state(tc: ToolContext, state: CheckpointState) -> None:
    state.phase = tc.phase
    state.phases = tc.phases


def _pending_calls(messages: list[dict[str, Any]]) -> list[ToolCall] | None:
    """Tool calls of a trailing assistant turn that never got results (saved mid-turn), else None."""
    if not messages or messages[-1]['role'] != 'assistant':
        return None
    calls = [
        ToolCall(id=b['id'], name=b['name'], input=b.get('input') or {})
        for b in _blocks(messages[-1])
        if b.get('type') == 'tool_use'
    ]
    return calls or None


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get('content')
    return content if isinstance(content, list) else []


def _last_text(messages: list[dict[str, Any]]) -> str:
    content = messages[-1].get('content')
    text = content if isinstance(content, str) else ' '.join(b.get('text', '') for b in _blocks(messages[-1]))
    return founder_safe(text, fallback='')


def _content(reply: LLMReply) -> list[dict[str, Any]]:
    if reply.content:
        return reply.content
    blocks: list[dict[str, Any]] = [{'type': 'text', 'text': reply.text}] if reply.text else []
    blocks += [{'type': 'tool_use', 'id': c.id, 'name': c.name, 'input': c.input} for c in reply.tool_calls]
    return blocks


def _continue(state: CheckpointState) -> bool:
    used = state.retry_counters.get('continuations', 0)
    if used >= MAX_CONTINUATIONS:
        return False
    state.retry_counters['continuations'] = used + 1
    state.messages.append({'role': 'user', 'content': CONTINUE_MESSAGE})
    return True


def _result_block(call_id: str, output: str, *, is_error: bool) -> dict[str, Any]:
    block: dict[str, Any] = {'type': 'tool_result', 'tool_use_id': call_id, 'content': output}
    if is_error:
        block['is_error'] = True
    return block


def _label(tool: Tool | None, call: ToolCall) -> str:
    if tool is None:
        return 'Tried a step that does not exist'
    try:
        return str(tool.label(call.input))
    except Exception:  # noqa: BLE001 — a label must never break the run
        return f'Used {call.name}'


def _event_input(ctx: AgentRunContext, data: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments for the event: long texts become their size, everything redacted."""
    return {str(key): _event_value(ctx, value) for key, value in (data.items() if isinstance(data, dict) else [])}


def _event_value(ctx: AgentRunContext, value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > EVENT_INPUT_CHARS:
            return f'[{value.count(chr(10)) + 1} lines, {len(value)} characters]'
        return ctx.redact(value)
    if isinstance(value, dict):
        return {str(k): _event_value(ctx, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_event_value(ctx, v) for v in value]
    return value if isinstance(value, int | float | bool) or value is None else ctx.redact(str(value))


def _short_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)[:200]


def _model_failed(state: CheckpointState, exc: LLMError) -> AgentOutcome:
    if exc.retryable:
        reason = 'The AI model is not answering right now. Your build is saved and can continue later.'
    elif exc.status in {401, 403}:
        reason = 'The model key was refused, so the build stopped. An administrator needs to check the key.'
    else:
        reason = 'The AI model refused or failed the request, so the build stopped.'
    return _outcome(state, 'error', reason=reason, detail=f'{type(exc).__name__}: {exc}', retryable=exc.retryable)


def _outcome(state: CheckpointState, status: Any, **fields: Any) -> AgentOutcome:
    return AgentOutcome(status=status, iterations=state.iteration, tool_calls=state.tool_calls, **fields)
