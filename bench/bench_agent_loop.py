"""Agent-loop overhead per tool call, excluding model and tool time.

The loop runs N calls of a no-op tool, answered one per turn by an instant scripted model. The
baseline, measured in the same run, calls the same model and tool directly N times; the
difference per call is what the loop adds (guards, events, result blocks, history, checkpoint
hook).

Run: .venv/bin/python -m bench.bench_agent_loop [N]
Target: < 2 ms per tool call.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

from core.agent.checkpoint import CheckpointState
from core.agent.loop import AgentRunContext, run_agent
from core.agent.tools.base import Tool, ToolContext, ToolOutcome
from core.events import BuildEvent
from core.ports import LLMReply, ToolCall, ToolSpec, Usage
from tests.fakes.memory_sandbox import MemorySandbox

NOOP_SPEC = ToolSpec(name='noop', description='does nothing', input_schema={'type': 'object'})


async def noop_run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    return ToolOutcome(ok=True, output='ok', label='Did nothing')


class InstantLLM:
    name, offline, default_model = 'instant', True, 'instant-1'

    def __init__(self, calls: int) -> None:
        self.left = calls
        self.turn = 0

    async def complete(self, **_: Any) -> LLMReply:
        self.turn += 1
        if self.left <= 0:
            return LLMReply(text='', tool_calls=[], stop_reason='end_turn', usage=Usage(1, 1), model='instant-1')
        self.left -= 1
        call = ToolCall(id=f'c{self.turn}', name='noop', input={'n': self.turn, 'path': 'app.py'})
        return LLMReply(text='', tool_calls=[call], stop_reason='tool_use', usage=Usage(1, 1), model='instant-1')

    async def healthy(self) -> bool:
        return True


async def _emit(event: BuildEvent) -> BuildEvent:
    return event


def _tool_ctx() -> ToolContext:
    return ToolContext(job_id=uuid.uuid4(), sandbox=MemorySandbox(), emit=_emit)


async def through_loop(n: int) -> float:
    tools = {'noop': Tool(spec=NOOP_SPEC, label=lambda data: 'Did nothing', run=noop_run)}
    ctx = AgentRunContext(llm=InstantLLM(n), model='instant-1', tools=tools, tool_ctx=_tool_ctx(), max_tool_calls=n + 1)
    start = time.perf_counter()
    outcome = await run_agent(ctx, system='bench', state=CheckpointState())
    elapsed = time.perf_counter() - start
    assert outcome.status == 'done' and outcome.tool_calls == n, outcome
    return elapsed


async def direct(n: int) -> float:
    llm, tool_ctx = InstantLLM(n), _tool_ctx()
    messages: list[dict[str, Any]] = []
    start = time.perf_counter()
    for _ in range(n + 1):
        reply = await llm.complete(system='bench', messages=messages, tools=[NOOP_SPEC])
        for call in reply.tool_calls:
            await noop_run(tool_ctx, call.input)
    return time.perf_counter() - start


async def main(n: int) -> None:
    await through_loop(200)  # warm up
    await direct(200)
    loop_s = min([await through_loop(n) for _ in range(3)])
    base_s = min([await direct(n) for _ in range(3)])
    per_call_us = (loop_s - base_s) / n * 1e6
    print(f'agent loop, {n} tool calls (best of 3)')
    print(f'  through the loop : {loop_s * 1e3:8.1f} ms  ({loop_s / n * 1e6:7.1f} µs per call)')
    print(f'  direct baseline  : {base_s * 1e3:8.1f} ms  ({base_s / n * 1e6:7.1f} µs per call)')
    print(f'  loop overhead    : {per_call_us:7.1f} µs per tool call = {per_call_us / 1000:.3f} ms (target < 2 ms)')


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
