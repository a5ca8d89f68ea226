"""The `LLM` port on any OpenAI-compatible `/v1/chat/completions` server (Ollama, vLLM, LM Studio…).

The agent speaks Anthropic's message shape; this adapter translates the history and tools to OpenAI's
format, streams the reply (`stream: true`, SSE `data:` lines ending in `data: [DONE]`) and translates it
back into an `LLMReply` whose `content` is again Anthropic-shaped, so the history stays in one format.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.ports import LLMError, LLMReply, TextCallback, ToolCall, ToolSpec, Usage

log = logging.getLogger(__name__)

_FINISH_REASONS = {'tool_calls': 'tool_use', 'function_call': 'tool_use', 'stop': 'end_turn', 'length': 'max_tokens'}
_RETRY_STATUSES = {408, 409, 429}  # plus every 5xx
_MAX_RETRY_DELAY = 20.0


class _Retry(Exception):
    """An attempt failed in a way worth another try; `error` is what the caller gets if none is left."""

    def __init__(self, error: LLMError, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


class OpenAICompatLLM:
    """Chat completions over httpx; 2 retries with backoff on 429/5xx/connection errors, then `LLMError`."""

    name = 'openai_compat'
    offline = False

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        default_model: str = 'llama3.1',
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        self.default_model = default_model
        self._url = completions_url(base_url)
        self._api_key = api_key or ''
        self._max_retries = max_retries
        self._auth_failed = False
        headers = {'Authorization': f'Bearer {api_key}'} if api_key else {}
        self._client = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))

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
        """One streamed assistant turn, translated to and from Anthropic's shape."""
        body = request_body(system, messages, tools, model or self.default_model, max_tokens, tool_choice)
        for attempt in range(self._max_retries + 1):
            try:
                reply = await self._attempt(body, on_text)
            except _Retry as retry:
                if attempt == self._max_retries:
                    raise self._redact(retry.error) from None
                await asyncio.sleep(retry.delay if retry.delay is not None else min(0.5 * 2**attempt, 8.0))
                continue
            self._auth_failed = False
            return reply
        raise AssertionError('unreachable')  # the loop either returns or raises

    async def healthy(self) -> bool:
        """No network call: healthy unless the server refused our key on the last call."""
        return not self._auth_failed

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _attempt(self, body: dict[str, Any], on_text: TextCallback | None) -> LLMReply:
        try:
            async with self._client.stream('POST', self._url, json=body) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._status_error(response)
                return await _read_stream(response, body, on_text)
        except httpx.TransportError as exc:  # raised before any response arrived: nothing was streamed yet
            log.warning('openai-compatible call failed: %s', type(exc).__name__)
            raise _Retry(LLMError(f'Could not reach the model server at {self._where()}.', retryable=True)) from None

    def _status_error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        log.warning('openai-compatible call failed: HTTP %s', status)
        if status in (401, 403):
            self._auth_failed = True
            return LLMError(
                f'The model server refused the API key (HTTP {status}). Check OPENAI_API_KEY.',
                retryable=False,
                status=status,
            )
        if status in _RETRY_STATUSES or status >= 500:
            error = LLMError(
                f'The model server at {self._where()} is busy or failing (HTTP {status}).',
                retryable=True,
                status=status,
            )
            return _Retry(error, _retry_after(response))
        detail = _server_message(response)
        return self._redact(
            LLMError(f'The model server rejected the request (HTTP {status}){detail}.', retryable=False, status=status)
        )

    def _where(self) -> str:
        url = httpx.URL(self._url)
        return f'{url.host}:{url.port}' if url.port else url.host

    def _redact(self, error: LLMError) -> LLMError:
        if self._api_key and self._api_key in str(error):
            return LLMError(
                str(error).replace(self._api_key, '[redacted]'), retryable=error.retryable, status=error.status
            )
        return error


def completions_url(base_url: str) -> str:
    """`http://host:11434` or `http://host:11434/v1` → `http://host:11434/v1/chat/completions`."""
    base = base_url.rstrip('/')
    if base.endswith('/chat/completions'):
        return base
    if httpx.URL(base).path in ('', '/'):
        base += '/v1'  # a bare host: every supported server mounts the OpenAI API under /v1
    return base + '/chat/completions'


# ── request translation (Anthropic shape → OpenAI) ────────────────────────────────────────────


def request_body(
    system: str,
    messages: list[dict[str, Any]],
    tools: list[ToolSpec] | None,
    model: str,
    max_tokens: int,
    tool_choice: str | None,
) -> dict[str, Any]:
    """The JSON body of a streamed chat completion for this Anthropic-shaped request."""
    body: dict[str, Any] = {
        'model': model,
        'messages': to_openai_messages(system, messages),
        'max_tokens': max_tokens,
        'stream': True,
        'stream_options': {'include_usage': True},
    }
    if tools:
        body['tools'] = [
            {
                'type': 'function',
                'function': {'name': t.name, 'description': t.description, 'parameters': t.input_schema},
            }
            for t in tools
        ]
    if tool_choice:
        body['tool_choice'] = {'type': 'function', 'function': {'name': tool_choice}}
    return body


def to_openai_messages(system: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """System prompt first; assistant tool_use → tool_calls; user tool_result → role 'tool' messages."""
    out: list[dict[str, Any]] = [{'role': 'system', 'content': system}] if system else []
    for message in messages:
        role, content = message['role'], message['content']
        if isinstance(content, str):
            out.append({'role': role, 'content': content})
        elif role == 'assistant':
            out.append(_assistant_message(content))
        else:
            out.extend(_user_messages(content))
    return out


def _assistant_message(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    text = '\n'.join(b['text'] for b in blocks if b.get('type') == 'text' and b.get('text'))
    calls = [
        {'id': b['id'], 'type': 'function', 'function': {'name': b['name'], 'arguments': json.dumps(b['input'])}}
        for b in blocks
        if b.get('type') == 'tool_use'
    ]
    if not calls:
        return {'role': 'assistant', 'content': text}
    return {'role': 'assistant', 'content': text or None, 'tool_calls': calls}


def _user_messages(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # tool results must directly follow the assistant turn that called the tools, so they come first
    out = [
        {'role': 'tool', 'tool_call_id': b['tool_use_id'], 'content': _tool_result_text(b)}
        for b in blocks
        if b.get('type') == 'tool_result'
    ]
    text = '\n'.join(b['text'] for b in blocks if b.get('type') == 'text' and b.get('text'))
    if text:
        out.append({'role': 'user', 'content': text})
    return out


def _tool_result_text(block: dict[str, Any]) -> str:
    content = block.get('content', '')
    if isinstance(content, list):
        content = '\n'.join(part.get('text', '') for part in content if part.get('type') == 'text')
    # OpenAI's tool message has no error flag; say it in the text so the model still knows
    return f'Error: {content}' if block.get('is_error') else str(content)


# ── reply translation (streamed chunks → LLMReply) ────────────────────────────────────────────


@dataclass
class _Accumulated:
    text: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None


async def _read_stream(response: httpx.Response, body: dict[str, Any], on_text: TextCallback | None) -> LLMReply:
    acc = _Accumulated()
    lines = response.aiter_lines()
    while (line := await _next_line(lines)) is not None:
        if not line.startswith('data:'):
            continue  # blank separators, `: keep-alive` comments, `event:` lines
        payload = line[5:].strip()
        if payload == '[DONE]':
            break
        try:
            chunk = json.loads(payload)
        except json.JSONDecodeError:
            raise LLMError('The model server sent a reply this app could not read.', retryable=True) from None
        if 'error' in chunk:
            message = str((chunk['error'] or {}).get('message') if isinstance(chunk['error'], dict) else chunk['error'])
            raise LLMError(f'The model server failed mid-reply: {message[:300]}', retryable=True)
        piece = _apply_chunk(acc, chunk)
        if piece and on_text is not None:
            result = on_text(piece)
            if inspect.isawaitable(result):
                await result
    return _reply(acc, body)


async def _next_line(lines: Any) -> str | None:
    try:
        return await lines.__anext__()
    except StopAsyncIteration:
        return None
    except httpx.TransportError as exc:
        # not retried: part of the reply may already have reached on_text (the Anthropic adapter does the same)
        log.warning('openai-compatible stream broke: %s', type(exc).__name__)
        raise LLMError(
            'The connection to the model server dropped before the reply finished; it can be retried.', retryable=True
        ) from None


def _apply_chunk(acc: _Accumulated, chunk: dict[str, Any]) -> str:
    """Fold one chunk into the accumulator; returns the new text it carried."""
    acc.model = chunk.get('model') or acc.model
    if chunk.get('usage'):
        acc.usage = chunk['usage']
    piece = ''
    for choice in chunk.get('choices') or []:
        delta = choice.get('delta') or {}
        if delta.get('content'):
            piece += delta['content']
        for position, fragment in enumerate(delta.get('tool_calls') or []):
            call = acc.calls.setdefault(fragment.get('index', position), {'id': '', 'name': '', 'arguments': []})
            call['id'] = call['id'] or fragment.get('id') or ''
            function = fragment.get('function') or {}
            call['name'] = call['name'] or function.get('name') or ''
            arguments = function.get('arguments')
            if arguments:
                # most servers send JSON text in fragments; some send the whole object at once
                call['arguments'].append(arguments if isinstance(arguments, str) else json.dumps(arguments))
        acc.finish_reason = choice.get('finish_reason') or acc.finish_reason
    if piece:
        acc.text.append(piece)
    return piece


def _reply(acc: _Accumulated, body: dict[str, Any]) -> LLMReply:
    text = ''.join(acc.text)
    calls = [_tool_call(index, acc.calls[index]) for index in sorted(acc.calls)]
    stop_reason = _FINISH_REASONS.get(acc.finish_reason or 'stop', 'end_turn')
    if calls:
        stop_reason = 'tool_use'  # Ollama reports finish_reason 'stop' even when it called tools
    content: list[dict[str, Any]] = [{'type': 'text', 'text': text}] if text else []
    content += [{'type': 'tool_use', 'id': c.id, 'name': c.name, 'input': c.input} for c in calls]
    return LLMReply(
        text=text,
        tool_calls=calls,
        stop_reason=stop_reason,
        usage=_usage(acc, body, calls),
        model=acc.model or body['model'],
        content=content,
    )


def _tool_call(index: int, call: dict[str, Any]) -> ToolCall:
    raw = ''.join(call['arguments']).strip()
    try:
        parsed = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        raise LLMError(
            f'The model sent arguments for {call["name"]!r} that are not valid JSON.', malformed=True
        ) from None
    if not isinstance(parsed, dict):
        parsed = {'value': parsed}
    return ToolCall(id=call['id'] or f'call_{index}', name=call['name'], input=parsed)


def _usage(acc: _Accumulated, body: dict[str, Any], calls: list[ToolCall]) -> Usage:
    if acc.usage:
        return Usage(int(acc.usage.get('prompt_tokens') or 0), int(acc.usage.get('completion_tokens') or 0))
    # The server ignored stream_options.include_usage: estimate at ~4 characters per token, which is close
    # for English text and code with Llama-family tokenizers — good enough for budgets, not for billing.
    prompt_chars = len(json.dumps(body['messages'])) + len(json.dumps(body.get('tools', [])))
    output_chars = len(''.join(acc.text)) + sum(len(json.dumps(c.input)) for c in calls)
    return Usage(max(1, prompt_chars // 4), max(1, output_chars // 4) if output_chars else 0)


def _retry_after(response: httpx.Response) -> float | None:
    for header, scale in (('retry-after-ms', 0.001), ('retry-after', 1.0)):
        try:
            return min(max(float(response.headers[header]) * scale, 0.0), _MAX_RETRY_DELAY)
        except (KeyError, ValueError):
            continue
    return None


def _server_message(response: httpx.Response) -> str:
    try:
        data = response.json()
        error = data.get('error', data) if isinstance(data, dict) else data
        message = error.get('message') or error.get('detail') if isinstance(error, dict) else error
    except ValueError:
        message = response.text
    message = str(message or '').strip()[:300]
    return f': {message}' if message else ''
