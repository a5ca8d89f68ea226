"""A local server speaking the Anthropic Messages API (POST /v1/messages streaming, /v1/messages/count_tokens).

    with MessagesAPI() as api:
        api.script(text('Hello'), tool_use('write_file', {'path': 'a.py'}), status(529), drop())
        llm = AnthropicLLM('sk-test', base_url=api.url)
        ...
        assert api.requests[0].body['system'] == '...'

Each request takes the next scripted step. With nothing left, /v1/messages answers 400 (not retried by
the SDK) with a message saying so, so a test that under-scripts fails loudly instead of hanging.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from tests.fakes import Recorded, Responder, ScriptedServer, Step, split_text, sse

_ids = count(1)

ERROR_TYPES = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    500: 'api_error',
    529: 'overloaded_error',
}


@dataclass
class Text:
    text: str


@dataclass
class ToolUse:
    name: str
    input: dict[str, Any]
    id: str = field(default_factory=lambda: f'toolu_fake{next(_ids):04d}')


@dataclass
class RawToolUse:
    """A tool call whose input arrives as this exact JSON text, valid or not (a model's malformed call)."""

    name: str
    raw_json: str
    id: str = field(default_factory=lambda: f'toolu_fake{next(_ids):04d}')


Block = Text | ToolUse | RawToolUse


class MessagesAPI(ScriptedServer):
    """The fake Anthropic API. `url` is the base_url to give the SDK."""

    def __init__(self) -> None:
        super().__init__({'/v1/messages': _messages_route, '/v1/messages/count_tokens': _count_tokens_route})

    @property
    def message_requests(self) -> list[Recorded]:
        return self.requests_to('/v1/messages')


def _messages_route(server: ScriptedServer, out: Responder, req: Recorded) -> None:
    step = server.next_step()
    if step is None:
        out.json(400, _error_body('invalid_request_error', 'fake messages API: no scripted response left'))
        return
    step(out, req)


def _count_tokens_route(server: ScriptedServer, out: Responder, req: Recorded) -> None:
    step = server.next_step()
    if step is None:
        out.json(400, _error_body('invalid_request_error', 'fake messages API: no scripted token count left'))
        return
    step(out, req)


# ── steps ─────────────────────────────────────────────────────────────────────────────────────


def message(
    *blocks: Block,
    stop_reason: str | None = None,
    input_tokens: int = 25,
    output_tokens: int | None = None,
    model: str | None = None,
    chunks: int = 3,
) -> Step:
    """A streamed assistant turn made of text and tool_use blocks, each delta split into `chunks` pieces."""

    def step(out: Responder, req: Recorded) -> None:
        out.start_stream()
        for event in message_events(
            blocks,
            req,
            stop_reason=stop_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            model=model,
            chunks=chunks,
        ):
            out.chunk(event)
        out.end_stream()

    return step


def text(content: str, **kwargs: Any) -> Step:
    """A streamed text reply (stop_reason end_turn unless given)."""
    return message(Text(content), **kwargs)


def tool_use(
    name: str,
    input: dict[str, Any],
    *,
    text: str | None = None,
    id: str | None = None,  # noqa: A002
    **kwargs: Any,
) -> Step:
    """A streamed tool call (optionally after some text); the input arrives as partial_json fragments."""
    call = ToolUse(name, input, id) if id else ToolUse(name, input)
    blocks: list[Block] = [Text(text), call] if text else [call]
    kwargs.setdefault('stop_reason', 'tool_use')
    return message(*blocks, **kwargs)


def status(
    code: int, *, error_type: str | None = None, message: str | None = None, retry_after_ms: str | None = '1'
) -> Step:
    """An HTTP error with Anthropic's error body.

    The SDK ignores `retry-after: 0` (only a positive value replaces its 0.5 s+ backoff), so the fake sends
    `retry-after-ms: 1`, which the SDK reads first, to keep retries fast. Pass None to send neither.
    """
    kind = error_type or ERROR_TYPES.get(code, 'api_error')

    def step(out: Responder, req: Recorded) -> None:
        headers = {'request-id': f'req_fake{next(_ids):04d}'}
        if retry_after_ms is not None:
            headers |= {'retry-after-ms': retry_after_ms, 'retry-after': '0'}
        out.json(code, _error_body(kind, message or kind.replace('_', ' ')), headers)

    return step


def drop(after_events: int = 4, *, partial: str = 'I was saying something when') -> Step:
    """Start a text reply, send `after_events` SSE events, then close the connection mid-stream."""

    def step(out: Responder, req: Recorded) -> None:
        out.start_stream()
        events = message_events(
            [Text(partial)], req, stop_reason=None, input_tokens=25, output_tokens=None, model=None, chunks=3
        )
        for event in events[:after_events]:
            out.chunk(event)
        out.hang_up()

    return step


def hang_up() -> Step:
    """Close the connection without any response (a reset before the status line)."""

    def step(out: Responder, req: Recorded) -> None:
        out.hang_up()

    return step


def stream_error(error_type: str = 'overloaded_error', message: str = 'Overloaded') -> Step:
    """HTTP 200, message_start, then an `event: error` — how the API reports trouble after streaming began."""

    def step(out: Responder, req: Recorded) -> None:
        out.start_stream()
        out.chunk(
            message_events([], req, stop_reason=None, input_tokens=25, output_tokens=None, model=None, chunks=1)[0]
        )
        out.chunk(sse('error', _error_body(error_type, message)))
        out.end_stream()

    return step


def tokens(input_tokens: int) -> Step:
    """A reply for POST /v1/messages/count_tokens."""

    def step(out: Responder, req: Recorded) -> None:
        out.json(200, {'input_tokens': input_tokens})

    return step


# ── the SSE wire format ───────────────────────────────────────────────────────────────────────


def message_events(
    blocks: list[Block] | tuple[Block, ...],
    req: Recorded,
    *,
    stop_reason: str | None,
    input_tokens: int,
    output_tokens: int | None,
    model: str | None,
    chunks: int,
) -> list[str]:
    """The SSE events of one streamed message, in the order the real API sends them."""
    out_tokens = output_tokens if output_tokens is not None else max(1, sum(_size(b) for b in blocks) // 4)
    start = {
        'type': 'message_start',
        'message': {
            'id': f'msg_fake{next(_ids):04d}',
            'type': 'message',
            'role': 'assistant',
            'model': model or req.body.get('model', 'claude-fake'),
            'content': [],
            'stop_reason': None,
            'stop_sequence': None,
            'usage': {'input_tokens': input_tokens, 'output_tokens': 1},
        },
    }
    events = [sse('message_start', start), sse('ping', {'type': 'ping'})]
    for index, block in enumerate(blocks):
        events += _block_events(index, block, chunks)
    delta = {
        'type': 'message_delta',
        'delta': {'stop_reason': stop_reason or 'end_turn', 'stop_sequence': None},
        'usage': {'output_tokens': out_tokens},
    }
    events += [sse('message_delta', delta), sse('message_stop', {'type': 'message_stop'})]
    return events


def _block_events(index: int, block: Block, chunks: int) -> list[str]:
    if isinstance(block, Text):
        start: dict[str, Any] = {'type': 'text', 'text': ''}
        deltas = [{'type': 'text_delta', 'text': piece} for piece in split_text(block.text, chunks)]
    else:
        start = {'type': 'tool_use', 'id': block.id, 'name': block.name, 'input': {}}
        raw = block.raw_json if isinstance(block, RawToolUse) else json.dumps(block.input)
        # the real API opens with an empty fragment, then cuts the JSON anywhere (even inside strings)
        fragments = ['', *split_text(raw, chunks)]
        deltas = [{'type': 'input_json_delta', 'partial_json': f} for f in fragments]
    events = [sse('content_block_start', {'type': 'content_block_start', 'index': index, 'content_block': start})]
    events += [sse('content_block_delta', {'type': 'content_block_delta', 'index': index, 'delta': d}) for d in deltas]
    events.append(sse('content_block_stop', {'type': 'content_block_stop', 'index': index}))
    return events


def _size(block: Block) -> int:
    if isinstance(block, Text):
        return len(block.text)
    return len(block.raw_json) if isinstance(block, RawToolUse) else len(json.dumps(block.input))


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {'type': 'error', 'error': {'type': error_type, 'message': message}, 'request_id': 'req_fake'}
