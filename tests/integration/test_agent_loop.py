"""AG-1, AG-4, AG-6: the agent loop with a scripted model, real tools, and checkpoints in a real database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.agent import checkpoint
from core.agent.checkpoint import CheckpointState
from core.agent.loop import START_MESSAGE, AgentRunContext, FailureAdvice, run_agent
from core.agent.tools import default_tools
from core.agent.tools.base import ToolContext
from core.db import SessionFactory, transaction
from core.events import BuildEvent, Narration, PhaseStarted, Thinking, ToolCalled, ToolResult
from core.models import BuildJob, Project, Tier, User
from core.ports import LLMError, LLMReply, ToolCall, ToolSpec, Usage
from tests.fakes.memory_sandbox import MemorySandbox

Turn = list[tuple[str, dict[str, Any]]] | str | Exception  # tool calls, closing text, or a failure


class ScriptedLLM:
    """A model at the network edge that answers from a script and records what it was sent."""

    name, offline, default_model = 'scripted', True, 'scripted-1'

    def __init__(self, turns: list[Turn] | Callable[[int], Turn]) -> None:
        self.turns = turns
        self.calls: list[list[dict[str, Any]]] = []

    async def complete(self, *, system: str, messages: list[dict[str, Any]], tools: list[ToolSpec] | None = None,
                       model: str | None = None, max_tokens: int = 4096, tool_choice: str | None = None,
                       on_text: Any = None) -> LLMReply:  # fmt: skip
        index = len(self.calls)
        self.calls.append([dict(m) for m in messages])
        turn = (
            self.turns(index) if callable(self.turns) else (self.turns[index] if index < len(self.turns) else 'Done.')
        )
        if isinstance(turn, Exception):
            raise turn
        if isinstance(turn, str):
            return LLMReply(text=turn, tool_calls=[], stop_reason='end_turn', usage=Usage(10, 2), model='scripted-1')
        calls = [ToolCall(id=f'call_{index}_{i}', name=name, input=args) for i, (name, args) in enumerate(turn)]
        return LLMReply(text='', tool_calls=calls, stop_reason='tool_use', usage=Usage(10, 5), model='scripted-1')

    async def healthy(self) -> bool:
        return True


@dataclass
class Harness:
    llm: ScriptedLLM
    sandbox: MemorySandbox = field(default_factory=MemorySandbox)
    events: list[BuildEvent] = field(default_factory=list)
    saved: list[int] = field(default_factory=list)
    usage: list[tuple[int, int, str]] = field(default_factory=list)
    stop_after_tool_calls: int | None = None
    max_tool_calls: int = 150
    failures: list[str] = field(default_factory=list)
    guidance: str | None = None
    save: Callable[[CheckpointState], Any] | None = None

    def context(self) -> AgentRunContext:
        async def emit(event: BuildEvent) -> BuildEvent:
            self.events.append(event)
            return event

        async def save(state: CheckpointState) -> None:
            self.saved.append(state.iteration)
            if self.save:
                await self.save(state)

        async def should_stop() -> str | None:
            done = len(self.of(ToolResult))
            if self.stop_after_tool_calls is not None and done >= self.stop_after_tool_calls:
                return 'Cancelled by the founder.'
            return None

        async def on_usage(usage: Usage, model: str) -> None:
            self.usage.append((usage.input_tokens, usage.output_tokens, model))

        async def on_tool_failure(call: ToolCall, error: str, label: str) -> FailureAdvice | None:
            self.failures.append(f'{call.name}: {error}')
            return FailureAdvice(guidance=self.guidance) if self.guidance else None

        tool_ctx = ToolContext(job_id=uuid.uuid4(), sandbox=self.sandbox, emit=emit)
        return AgentRunContext(llm=self.llm, model='scripted-1', tools=default_tools(), tool_ctx=tool_ctx,
                               save_checkpoint=save, should_stop=should_stop, on_usage=on_usage,
                               on_tool_failure=on_tool_failure, max_tool_calls=self.max_tool_calls,
                               redact=lambda text: text.replace('s3cr3t-value', '[redacted]'))  # fmt: skip

    def of(self, kind: type[BuildEvent]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def write(path: str, content: str = 'hello\n') -> tuple[str, dict[str, Any]]:
    return 'write_file', {'path': path, 'content': content}


async def test_events_come_in_order_and_the_run_ends_done() -> None:
    llm = ScriptedLLM([
        [('phase', {'action': 'start', 'name': 'Plan the app', 'plan': ['Plan the app']})],
        [('narrate', {'text': "I'm writing the home page."}), write('app.py', 'print(1)\n' * 47)],
        [
            ('document', {'section': 'overview', 'content': 'A booking tool.'}),
            ('phase', {'action': 'complete', 'name': 'Plan the app'}),
        ],
        'All done: the home page works.',
    ])  # fmt: skip
    h = Harness(llm)
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'done' and outcome.summary == 'All done: the home page works.'
    assert [e.type for e in h.events] == [
        'agent.tool.called', 'gsd.phase.started', 'agent.tool.result',
        'agent.tool.called', 'agent.narration', 'agent.tool.result',
        'agent.tool.called', 'agent.tool.result',
        'agent.tool.called', 'documentation.updated', 'agent.tool.result',
        'agent.tool.called', 'gsd.phase.completed', 'agent.tool.result',
        'agent.thinking',
    ]  # fmt: skip
    write_call = h.of(ToolCalled)[2]
    assert write_call.label == 'Wrote 47 lines to app.py'
    assert write_call.input == {'path': 'app.py', 'content': '[48 lines, 423 characters]'}
    assert h.of(PhaseStarted)[0].planned == ['Plan the app']
    assert h.usage == [(10, 5, 'scripted-1')] * 3 + [(10, 2, 'scripted-1')]
    assert h.saved == [1, 2, 3, 3] and outcome.tool_calls == 5
    assert h.sandbox.text('app.py').count('\n') == 47


async def test_ending_before_every_phase_is_done_sends_the_model_back_to_work() -> None:
    llm = ScriptedLLM([
        [('phase', {'action': 'start', 'name': 'Pages', 'plan': ['Pages', 'Check']})],
        'All done!',  # it is not: neither phase is complete
        [('phase', {'action': 'complete', 'name': 'Pages'}), ('phase', {'action': 'complete', 'name': 'Check'})],
        'Now it is done.',
    ])  # fmt: skip
    h = Harness(llm)
    h.guidance = '[seen once]'
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'done' and outcome.summary == 'Now it is done.'
    assert h.failures == ['finish: You ended your turn, but these phases are not complete: Pages, Check.']
    pushback = llm.calls[2][-1]['content']
    assert 'not complete: Pages, Check' in pushback and pushback.endswith('[seen once]')


async def test_a_model_that_keeps_ending_early_is_stopped_for_the_founder_to_decide() -> None:
    llm = ScriptedLLM([[('phase', {'action': 'start', 'name': 'Pages', 'plan': ['Pages']})]] + ['Done.'] * 5)
    outcome = await run_agent(Harness(llm).context(), system='sys', state=CheckpointState())
    assert (outcome.status, outcome.failure_kind) == ('guard', 'incomplete')


async def test_results_from_one_turn_go_back_together_and_the_start_message_opens_the_run() -> None:
    llm = ScriptedLLM([[write('a.txt'), ('read_file', {'path': 'a.txt'})], 'ok'])
    h = Harness(llm)
    await run_agent(h.context(), system='sys', state=CheckpointState())
    first, second = llm.calls
    assert first == [{'role': 'user', 'content': START_MESSAGE}]
    results = second[-1]['content']
    assert [r['tool_use_id'] for r in results] == ['call_0_0', 'call_0_1']
    assert results[1]['content'] == 'hello\n' and 'is_error' not in results[1]


async def test_cap_on_tool_calls_stops_the_run_and_keeps_the_history_valid() -> None:
    llm = ScriptedLLM(lambda i: [write(f'f{i}.txt'), write(f'g{i}.txt')])
    h = Harness(llm, max_tool_calls=5)
    state = CheckpointState()
    outcome = await run_agent(h.context(), system='sys', state=state)
    assert outcome.status == 'guard' and '5 steps' in outcome.reason
    assert outcome.tool_calls == 5 and len(h.sandbox.writes) == 5
    last = state.messages[-1]['content']
    assert last[-1]['is_error'] and last[-1]['content'].startswith('Not run:')  # every tool_use answered


async def test_repeating_the_same_call_three_times_stops_the_loop() -> None:
    llm = ScriptedLLM(lambda i: [('read_file', {'path': 'missing.py'})])
    h = Harness(llm)
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'guard' and 'repeating the same step' in outcome.reason
    assert outcome.tool_calls == 2 and len(llm.calls) == 3
    assert 'read_file' in outcome.detail


async def test_long_tool_results_are_cut_in_the_middle() -> None:
    big = ''.join(f'row {i}\n' for i in range(5000))
    llm = ScriptedLLM([[write('big.txt', big)], [('read_file', {'path': 'big.txt'})], 'ok'])
    h = Harness(llm)
    await run_agent(h.context(), system='sys', state=CheckpointState())
    seen = llm.calls[2][-1]['content'][0]['content']
    assert seen.startswith('row 0\n') and seen.rstrip().endswith('row 4999')
    assert 'lines omitted]' in seen and len(seen) < 4200
    assert h.of(ToolResult)[1].output == seen


async def test_secrets_in_tool_output_are_redacted_for_the_model_and_the_events() -> None:
    llm = ScriptedLLM([[write('.env', 'KEY=s3cr3t-value\n')], [('read_file', {'path': '.env'})], 'ok'])
    h = Harness(llm)
    await run_agent(h.context(), system='sys', state=CheckpointState())
    assert llm.calls[2][-1]['content'][0]['content'] == 'KEY=[redacted]\n'  # what the tool returned to the model
    assert 's3cr3t-value' not in str([e.payload() for e in h.events])


async def test_cancel_stops_before_the_next_tool_call() -> None:
    llm = ScriptedLLM([[write('a.txt'), write('b.txt'), write('c.txt')], 'never reached'])
    h = Harness(llm, stop_after_tool_calls=1)
    state = CheckpointState()
    outcome = await run_agent(h.context(), system='sys', state=state)
    assert outcome.status == 'cancelled' and outcome.reason == 'Cancelled by the founder.'
    assert h.sandbox.writes == ['a.txt'] and len(llm.calls) == 1
    assert [r.get('is_error', False) for r in state.messages[-1]['content']] == [False, True, True]


async def test_model_failure_ends_with_error_and_a_founder_safe_reason() -> None:
    llm = ScriptedLLM([[write('a.txt')], LLMError('529 overloaded_error from api.anthropic.com', retryable=True)])
    h = Harness(llm)
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'error' and outcome.retryable
    assert 'anthropic' not in outcome.reason and '529' in outcome.detail
    assert h.saved == [1]  # the finished turn is kept


async def test_tool_failure_guidance_reaches_the_next_prompt() -> None:
    llm = ScriptedLLM([[('edit_file', {'path': 'app.py', 'old_text': 'x', 'new_text': 'y'})], 'gave up'])
    h = Harness(llm, guidance='This failure has happened 2 times: try a different approach.')
    await run_agent(h.context(), system='sys', state=CheckpointState())
    result = llm.calls[1][-1]['content'][0]
    assert result['is_error'] is True
    assert 'Could not read app.py' in result['content'] and 'try a different approach' in result['content']
    assert h.failures == ['edit_file: Could not read app.py: app.py does not exist']
    assert h.of(ToolResult)[0].ok is False


async def test_unknown_tools_and_bad_arguments_are_failed_steps_not_crashes() -> None:
    llm = ScriptedLLM(
        [[('teleport', {}), ('write_file', {'path': 'a.txt'}), ('read_file', {'path': '../etc/passwd'})], 'ok']
    )
    h = Harness(llm)
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'done'
    contents = [r['content'] for r in llm.calls[1][-1]['content']]
    assert contents[0].startswith('There is no tool named teleport')
    assert 'Missing required argument "content"' in contents[1]
    assert 'outside the workspace' in contents[2]


async def test_thinking_is_founder_safe() -> None:
    class Talky(ScriptedLLM):
        async def complete(self, **kwargs: Any) -> LLMReply:
            reply = await super().complete(**kwargs)
            reply.text = 'I will fix app/main.py.\nTraceback (most recent call last):\n  File "x.py", line 1'
            return reply

    h = Harness(Talky([[write('a.txt')], 'ok']))
    await run_agent(h.context(), system='sys', state=CheckpointState())
    assert [e.text for e in h.of(Thinking)] == ['I will fix a file.'] * 2


# ── checkpoints in a real database (SQLite and Postgres) ──


async def make_job(sessions: SessionFactory) -> uuid.UUID:
    """The rows a checkpoint hangs off: tier → user → project → build job."""
    async with transaction(sessions) as session:
        tier = await session.get(Tier, 'bootstrapper')
        if tier is None:
            session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=1_000_000))
            await session.flush()
        user = User(email=f'{uuid.uuid4().hex[:8]}@example.com', password_hash='x')
        session.add(user)
        await session.flush()
        project = Project(owner_id=user.id, title='Paw')
        session.add(project)
        await session.flush()
        job = BuildJob(project_id=project.id, user_id=user.id)
        session.add(job)
        await session.flush()
        return job.id


async def test_checkpoint_round_trips_and_upserts(session_factory: SessionFactory) -> None:
    job_id = await make_job(session_factory)
    assert await checkpoint.load(session_factory, job_id) is None
    state = CheckpointState(
        messages=[{'role': 'user', 'content': 'Bonjour ✓'}],
        phase='Styling',
        phases=[{'name': 'Styling', 'status': 'in_progress'}],
        sandbox_id='sb-1',
        iteration=3,
        tool_calls=7,
        retry_counters={'bash:abc': 2},
        recent_calls=['bash:1', 'bash:2'],
    )
    await checkpoint.save(session_factory, job_id, state)
    assert await checkpoint.load(session_factory, job_id) == state
    state.messages.append({'role': 'assistant', 'content': [{'type': 'text', 'text': 'ok'}]})
    state.iteration = 4
    await checkpoint.save(session_factory, job_id, state)  # in-place changes are saved too
    loaded = await checkpoint.load(session_factory, job_id)
    assert loaded == state and loaded is not state


async def test_resume_from_a_saved_checkpoint_does_not_redo_finished_calls(session_factory: SessionFactory) -> None:
    job_id = await make_job(session_factory)
    script: list[Turn] = [[write('a.txt')], [write('b.txt')], [write('c.txt')], 'done']

    async def persist(state: CheckpointState) -> None:
        await checkpoint.save(session_factory, job_id, state)

    # first worker: dies (the model fails) after two finished turns
    first = Harness(ScriptedLLM([*script[:2], LLMError('connection reset', retryable=True)]), save=persist)
    outcome = await run_agent(first.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'error'

    # a new worker picks the job up: fresh objects, state only from the database
    state = await checkpoint.load(session_factory, job_id)
    assert state is not None and state.iteration == 2 and state.sandbox_id == 'mem-1'
    second_llm = ScriptedLLM(lambda i: script[2 + i] if 2 + i < len(script) else 'done')
    second = Harness(second_llm, sandbox=first.sandbox, save=persist)
    outcome = await run_agent(second.context(), system='sys', state=state)
    assert outcome.status == 'done'
    assert first.sandbox.writes == ['a.txt', 'b.txt', 'c.txt']  # each once
    assert second_llm.calls[0][0] == {'role': 'user', 'content': START_MESSAGE}
    assert len(second_llm.calls[0]) == 5  # the history was continued, not restarted
    final = await checkpoint.load(session_factory, job_id)
    assert final is not None and final.tool_calls == 3 and final.messages[-1]['role'] == 'assistant'


async def test_resuming_a_finished_run_does_nothing() -> None:
    done = {'role': 'assistant', 'content': [{'type': 'text', 'text': 'All built.'}]}
    state = CheckpointState(messages=[{'role': 'user', 'content': START_MESSAGE}, done])
    llm = ScriptedLLM([])
    outcome = await run_agent(Harness(llm).context(), system='sys', state=state)
    assert outcome.status == 'done' and outcome.summary == 'All built.' and llm.calls == []


async def test_phases_and_repetition_memory_survive_a_restart() -> None:
    h = Harness(ScriptedLLM([[('phase', {'action': 'start', 'name': 'Pages', 'plan': ['Pages', 'Check']})],
                             [('read_file', {'path': 'x'})], LLMError('down', retryable=True)]))  # fmt: skip
    state = CheckpointState()
    await run_agent(h.context(), system='sys', state=state)
    assert state.phase == 'Pages' and state.phases == [{'name': 'Pages', 'status': 'in_progress'},
                                                       {'name': 'Check', 'status': 'planned'}]  # fmt: skip
    again = Harness(ScriptedLLM(lambda i: [('read_file', {'path': 'x'})]))
    ctx = again.context()
    outcome = await run_agent(ctx, system='sys', state=state)
    assert ctx.tool_ctx.phases[0]['status'] == 'in_progress'
    assert outcome.status == 'guard' and outcome.tool_calls == 3  # 1 before the restart + 1 after, then stopped
    assert [e.text for e in again.of(Narration)] == []


MALFORMED_CALLS = [
    pytest.param(('no_such_tool', {'x': 1}), 'There is no tool named no_such_tool', id='unknown tool'),
    pytest.param(('write_file', {'content': 'x'}), 'Invalid arguments for write_file', id='missing field'),
    pytest.param(('write_file', {'path': 3, 'content': ['x']}), 'Invalid arguments for write_file', id='wrong types'),
    pytest.param(('phase', {'action': 'jump', 'name': 'A'}), 'Invalid arguments for phase', id='bad value'),
    pytest.param(('bash', 'echo not a dict'), 'Invalid arguments for bash', id='input not an object'),
]


@pytest.mark.parametrize(('call', 'error'), MALFORMED_CALLS)
async def test_a_malformed_tool_call_is_an_error_the_model_sees_never_a_crash(call, error) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM([[call], 'Recovered.'])
    h = Harness(llm)
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'done' and outcome.summary == 'Recovered.'
    result = llm.calls[1][-1]['content'][0]
    assert result['is_error'] is True and result['content'].startswith(error)


async def test_a_reply_with_unreadable_tool_json_is_sent_back_and_the_run_goes_on() -> None:
    unreadable = LLMError('The model sent a tool call whose arguments are not valid JSON.', malformed=True)
    llm = ScriptedLLM([unreadable, [write('a.txt')], 'Done after all.'])
    h = Harness(llm)
    outcome = await run_agent(h.context(), system='sys', state=CheckpointState())
    assert outcome.status == 'done' and h.sandbox.text('a.txt') == 'hello\n'
    asked_again = llm.calls[1][-1]['content']
    assert 'not valid JSON' in str(asked_again) and 'send it again' in str(asked_again)
    assert h.failures == ['malformed: The model sent a tool call whose arguments are not valid JSON.']


async def test_a_model_that_keeps_sending_unreadable_json_is_stopped() -> None:
    unreadable = LLMError('Not valid JSON.', malformed=True)
    outcome = await run_agent(Harness(ScriptedLLM(lambda _: unreadable)).context(), system='s', state=CheckpointState())
    assert (outcome.status, outcome.failure_kind) == ('guard', 'input')
