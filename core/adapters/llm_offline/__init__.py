"""The offline model (AG-9): a deterministic brain behind the LLM port, no network, no keys.

It drives the very same agent loop as a real model: it reads the build spec embedded in the
system prompt, looks at its own earlier tool calls and their results, and answers with the next
step of a fixed build script (see builder.py). Journey questions forced with `tool_choice` go to
the journey module; a plain chat (no tools) gets a helpful deterministic text.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from typing import Any

from core.adapters.llm_offline import builder
from core.ports import LLMError, LLMReply, TextCallback, ToolCall, ToolSpec, Usage

# The build spec markers written by core.agent.prompt (an adapter may not import it: the contract is the text).
SPEC_START = '⟦BUILD SPEC⟧'
JOURNEY_MODULE = 'core.adapters.llm_offline.journey'
CHARS_PER_TOKEN = 4


class OfflineLLM:
    """Deterministic and network-free; `pace_seconds` is the pause per build step so a founder can watch
    (journey and chat answers come at once)."""

    name = 'offline'
    offline = True
    default_model = 'offline-1'

    def __init__(self, pace_seconds: float = 1.0, scenario: str = '') -> None:
        self.pace_seconds = pace_seconds
        self.scenario = scenario  # '' | 'heal' | 'escalate': meet a real failure to show self-healing (AG-7, AG-8)

    async def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        max_tokens: int = 4096,
        tool_choice: str | None = None,
        on_text: TextCallback | None = None,
    ) -> LLMReply:
        model = model or self.default_model
        if tool_choice:
            return self._structured(tool_choice, system, messages, model)
        if not tools:
            text = chat_reply(messages)
            if on_text:
                await _call(on_text, text)
            return _reply(system, messages, model, text=text)
        spec = parse_build_spec(system)
        if spec is None:
            raise LLMError('The offline model found no build spec in the system prompt, so it cannot build.')
        if self.pace_seconds > 0:  # only build steps are paced: the founder watches those happen
            await asyncio.sleep(self.pace_seconds)
        decision = builder.decide(spec, messages, scenario=self.scenario)
        if decision.step is None:
            if on_text:
                await _call(on_text, decision.summary)
            return _reply(system, messages, model, text=decision.summary)
        call = ToolCall(
            id=builder.step_id(_tool_uses(messages), decision.step.key),
            name=decision.step.tool,
            input=decision.step.input,
        )
        return _reply(system, messages, model, calls=[call])

    async def healthy(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None  # nothing to release: no network

    def _structured(self, tool: str, system: str, messages: list[dict[str, Any]], model: str) -> LLMReply:
        try:
            journey = importlib.import_module(JOURNEY_MODULE)
        except ImportError as exc:
            raise LLMError(
                f'The offline model cannot answer "{tool}": its journey module is not installed ({exc}).'
            ) from exc
        if tool not in journey.TOOLS:
            raise LLMError(f'The offline model does not know the structured reply "{tool}".')
        data = journey.structured_reply(tool, system, messages)
        call = ToolCall(id=f'toolu_{_tool_uses(messages):02d}_{tool.replace("_", "-")}', name=tool, input=data)
        return _reply(system, messages, model, calls=[call])


def parse_build_spec(system: str) -> dict[str, Any] | None:
    """The JSON build spec after the last start marker (its JSON is ASCII-escaped, so no marker hides in it)."""
    start = system.rfind(SPEC_START)
    if start < 0:
        return None
    rest = system[start + len(SPEC_START) :].lstrip()
    try:
        spec, _ = json.JSONDecoder().raw_decode(rest)
    except ValueError:
        return None
    return spec if isinstance(spec, dict) else None


def chat_reply(messages: list[dict[str, Any]]) -> str:
    """A deterministic answer to the last thing the founder said (the floating chat)."""
    question = _last_user_text(messages).strip()
    lowered = question.lower()
    if not question:
        return "Hello! I'm the offline assistant. Ask me about your project, your build or what to do next."
    topics = [
        (
            ('deploy', 'launch', 'ship', 'publish'),
            'To ship, open the deploy page: it lists what is ready and what '
            'still blocks a launch, with the next step for each item.',
        ),
        (
            ('build', 'start', 'progress', 'status'),
            'Your build runs on its own: open the build page to watch the '
            'activity feed, the live picture of the app and the documentation as they appear.',
        ),
        (
            ('change', 'add', 'edit', 'iterate', 'feature'),
            'To change the app, describe what you want in a change '
            'request from the project page; I will build it as the next version.',
        ),
        (
            ('cost', 'budget', 'price', 'token'),
            'Your plan has a daily allowance; the budget meter on the build page '
            'shows what has been spent. When it runs out, I rest and continue the next day.',
        ),
    ]
    for words, answer in topics:
        if any(word in lowered for word in words):
            return answer
    short = question if len(question) <= 120 else question[:117] + '…'
    return (
        f"You asked: “{short}”. I'm the offline assistant, so my answers are simple: try the project page "
        'for your brief and plan, the build page to watch progress, or ask me about building, changes, '
        'budget or deploying.'
    )


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get('role') != 'user':
            continue
        content = message.get('content')
        if isinstance(content, str):
            return content
        texts = [b.get('text', '') for b in content or [] if isinstance(b, dict) and b.get('type') == 'text']
        if texts:
            return ' '.join(texts)
    return ''


def _tool_uses(messages: list[dict[str, Any]]) -> int:
    count = 0
    for message in messages:
        content = message.get('content')
        if message.get('role') == 'assistant' and isinstance(content, list):
            count += sum(1 for b in content if isinstance(b, dict) and b.get('type') == 'tool_use')
    return count


def _reply(
    system: str, messages: list[dict[str, Any]], model: str, *, text: str = '', calls: list[ToolCall] | None = None
) -> LLMReply:
    calls = calls or []
    content: list[dict[str, Any]] = [{'type': 'text', 'text': text}] if text else []
    content += [{'type': 'tool_use', 'id': c.id, 'name': c.name, 'input': c.input} for c in calls]
    prompt_chars = len(system) + len(json.dumps(messages, ensure_ascii=False, default=str))
    output_chars = len(json.dumps(content, ensure_ascii=False))
    usage = Usage(
        input_tokens=max(1, prompt_chars // CHARS_PER_TOKEN), output_tokens=max(1, output_chars // CHARS_PER_TOKEN)
    )
    return LLMReply(
        text=text,
        tool_calls=calls,
        stop_reason='tool_use' if calls else 'end_turn',
        usage=usage,
        model=model,
        content=content,
    )


async def _call(callback: TextCallback, text: str) -> None:
    result = callback(text)
    if inspect.isawaitable(result):
        await result
