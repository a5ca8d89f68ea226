"""A local server speaking OpenAI chat completions with `stream: true` (as Ollama, vLLM, LM Studio do).

    with OpenAIAPI() as api:
        api.script(text('Hello'), tool_call('write_file', {'path': 'a.py'}), status(503), drop())
        llm = OpenAICompatLLM(api.url + '/v1')

Streams are `data: {chat.completion.chunk}` lines ending with `data: [DONE]`. The usage chunk
(`choices: []`) is sent only when the request asked for it with `stream_options.include_usage`, unless the
step says `usage=False` (a server that ignores the option).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from tests.fakes import Recorded, Responder, ScriptedServer, Step, split_text, sse

_ids = count(1)


@dataclass
class Call:
    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: f'call_fake{next(_ids):04d}')


class OpenAIAPI(ScriptedServer):
    """The fake chat-completions server; the OpenAI-style base URL is `url + '/v1'`."""

    def __init__(self) -> None:
        super().__init__({'/v1/chat/completions': _completions_route})

    @property
    def completion_requests(self) -> list[Recorded]:
        return self.requests_to('/v1/chat/completions')


def _completions_route(server: ScriptedServer, out: Responder, req: Recorded) -> None:
    step = server.next_step()
    if step is None:
        out.json(400, _error_body(400, 'fake chat completions: no scripted response left'))
        return
    step(out, req)


# ── steps ─────────────────────────────────────────────────────────────────────────────────────


def reply(
    content: str = '',
    *calls: Call,
    finish_reason: str | None = None,
    usage: tuple[int, int] | bool = True,
    model: str | None = None,
    chunks: int = 3,
) -> Step:
    """A streamed reply: text pieces, then tool calls whose arguments arrive as fragments.

    `usage`: (prompt_tokens, completion_tokens), True to make some up, False to never send a usage chunk.
    """

    def step(out: Responder, req: Recorded) -> None:
        out.start_stream()
        for chunk in completion_chunks(
            content, calls, req, finish_reason=finish_reason, usage=usage, model=model, chunks=chunks
        ):
            out.chunk(chunk)
        out.end_stream()

    return step


def text(content: str, **kwargs: Any) -> Step:
    return reply(content, **kwargs)


def tool_call(
    name: str,
    arguments: dict[str, Any],
    *,
    id: str | None = None,
    text: str = '',  # noqa: A002
    **kwargs: Any,
) -> Step:
    call = Call(name, arguments, id) if id else Call(name, arguments)
    return reply(text, call, **kwargs)


def status(code: int, *, message: str | None = None, retry_after: str | None = '0') -> Step:
    """An HTTP error with an OpenAI-style error body; `retry-after: 0` keeps client backoff instant."""

    def step(out: Responder, req: Recorded) -> None:
        headers = {'retry-after': retry_after} if retry_after is not None else {}
        out.json(code, _error_body(code, message or f'fake error {code}'), headers)

    return step


def drop(after_chunks: int = 2, *, partial: str = 'Let me think about this') -> Step:
    """Start streaming a text reply, then close the connection mid-stream."""

    def step(out: Responder, req: Recorded) -> None:
        out.start_stream()
        for chunk in completion_chunks(partial, (), req, finish_reason=None, usage=False, model=None, chunks=3)[
            :after_chunks
        ]:
            out.chunk(chunk)
        out.hang_up()

    return step


def hang_up() -> Step:
    """Close the connection without any response."""

    def step(out: Responder, req: Recorded) -> None:
        out.hang_up()

    return step


# ── the wire format ───────────────────────────────────────────────────────────────────────────


def completion_chunks(
    content: str,
    calls: tuple[Call, ...] | list[Call],
    req: Recorded,
    *,
    finish_reason: str | None,
    usage: tuple[int, int] | bool,
    model: str | None,
    chunks: int,
) -> list[str]:
    """The `data:` lines of one streamed completion, ending with [DONE]."""
    base = {
        'id': f'chatcmpl-fake{next(_ids)}',
        'object': 'chat.completion.chunk',
        'created': int(time.time()),
        'model': model or req.body.get('model', 'fake-model'),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return sse(None, base | {'choices': [{'index': 0, 'delta': delta, 'finish_reason': finish}]})

    lines = [chunk({'role': 'assistant', 'content': ''})]
    lines += [chunk({'content': piece}) for piece in split_text(content, chunks)]
    for index, call in enumerate(calls):
        lines.append(
            chunk(
                {
                    'tool_calls': [
                        {
                            'index': index,
                            'id': call.id,
                            'type': 'function',
                            'function': {'name': call.name, 'arguments': ''},
                        }
                    ]
                }
            )
        )
        for fragment in split_text(json.dumps(call.arguments), chunks):
            lines.append(chunk({'tool_calls': [{'index': index, 'function': {'arguments': fragment}}]}))
    lines.append(chunk({}, finish_reason or ('tool_calls' if calls else 'stop')))
    wants_usage = (req.body.get('stream_options') or {}).get('include_usage')
    if usage is not False and wants_usage:
        prompt, completion = usage if isinstance(usage, tuple) else (30, max(1, len(content) // 4))
        figures = {'prompt_tokens': prompt, 'completion_tokens': completion, 'total_tokens': prompt + completion}
        lines.append(sse(None, base | {'choices': [], 'usage': figures}))
    lines.append(sse(None, '[DONE]'))
    return lines


def _error_body(code: int, message: str) -> dict[str, Any]:
    kind = {
        400: 'invalid_request_error',
        401: 'authentication_error',
        404: 'not_found_error',
        429: 'rate_limit_exceeded',
    }.get(code, 'server_error')
    return {'error': {'message': message, 'type': kind, 'param': None, 'code': None}}
