"""The `LLM` port on Anthropic's Messages API, streamed through the official async SDK.

The SDK retries 408/409/429/5xx/529 and connection failures itself (honouring retry-after); this adapter
adds no retry loop. What is left after those retries becomes an `LLMError` whose message is safe to show a
founder: it never contains the API key or the request body.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import anthropic

from core.ports import LLMError, LLMReply, TextCallback, ToolCall, ToolSpec, Usage

log = logging.getLogger(__name__)

# what an error `type` in a mid-stream `event: error` means, as (status, retryable, message)
_STREAM_ERROR_TYPES: dict[str, tuple[int, str]] = {
    'overloaded_error': (529, 'Anthropic is overloaded right now; the build will try again shortly.'),
    'rate_limit_error': (429, 'Anthropic is rate-limiting this account; the build will try again shortly.'),
    'api_error': (500, 'Anthropic had an internal error; the build will try again shortly.'),
}


class AnthropicLLM:
    """Claude through `anthropic.AsyncAnthropic`; text deltas go to `on_text` as they arrive."""

    name = 'anthropic'
    offline = False

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        default_model: str = 'claude-sonnet-4-5',
        max_retries: int = 2,
        timeout: float = 120.0,
    ) -> None:
        self.default_model = default_model
        self._api_key = api_key
        self._auth_failed = False
        # an explicit api_key (even '') stops the SDK from reading credentials from the environment
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )

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
        """One streamed assistant turn; raises `LLMError` once the SDK's retries are spent."""
        params = _request_params(system, messages, tools, model or self.default_model, tool_choice)
        try:
            async with self._client.messages.stream(max_tokens=max_tokens, **params) as stream:
                while (event := await _next_event(stream)) is not None:
                    if event.type == 'text' and on_text is not None and event.text:
                        await _emit(on_text, event.text)
                final = await stream.get_final_message()
        except anthropic.AnthropicError as exc:
            raise self._llm_error(exc) from None  # from None: the SDK error carries the request (and its key)
        self._auth_failed = False
        return _reply(final)

    async def count_tokens(
        self,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
    ) -> int:
        """Input tokens this request would use (Anthropic's count endpoint), to guard the context size."""
        params = _request_params(system, messages, tools, model or self.default_model, None)
        try:
            counted = await self._client.messages.count_tokens(**params)
        except anthropic.AnthropicError as exc:
            raise self._llm_error(exc) from None
        return int(counted.input_tokens)

    async def healthy(self) -> bool:
        """No network call: a key is configured and Anthropic has not refused it."""
        return bool(self._api_key) and not self._auth_failed

    async def aclose(self) -> None:
        await self._client.close()

    def _llm_error(self, exc: anthropic.AnthropicError) -> LLMError:
        status = getattr(exc, 'status_code', None)
        log.warning(
            'anthropic call failed: %s status=%s request_id=%s',
            type(exc).__name__,
            status,
            getattr(exc, 'request_id', None),
        )
        error = _map_error(exc)
        if error.status in (401, 403):
            self._auth_failed = True
        if self._api_key and self._api_key in str(error):  # belt and braces: never echo the key
            error = LLMError(
                str(error).replace(self._api_key, '[redacted]'), retryable=error.retryable, status=error.status
            )
        return error


def _request_params(
    system: str, messages: list[dict[str, Any]], tools: list[ToolSpec] | None, model: str, tool_choice: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {'model': model, 'messages': messages}
    if system:
        params['system'] = system
    if tools:
        params['tools'] = [
            {'name': t.name, 'description': t.description, 'input_schema': t.input_schema} for t in tools
        ]
    if tool_choice:
        params['tool_choice'] = {'type': 'tool', 'name': tool_choice}
    return params


async def _next_event(stream: Any) -> Any | None:
    """The next stream event, None at the end.

    A connection lost mid-body surfaces as the transport's own exception (httpx2.RemoteProtocolError,
    ReadError…): the SDK neither wraps nor retries it, because its retries end once headers arrived.
    """
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None
    except anthropic.AnthropicError:
        raise
    except ValueError:  # the SDK could not parse the model's tool-call JSON: the reply, not the connection
        log.warning('anthropic reply had a malformed tool call')
        raise LLMError('The model sent a tool call whose arguments are not valid JSON.', malformed=True) from None
    except Exception as exc:
        log.warning('anthropic stream broke: %s', type(exc).__name__)
        raise LLMError(
            'The connection to Anthropic dropped before the reply finished; it can be retried.', retryable=True
        ) from None


async def _emit(on_text: TextCallback, chunk: str) -> None:
    result = on_text(chunk)
    if inspect.isawaitable(result):
        await result


def _map_error(exc: anthropic.AnthropicError) -> LLMError:
    if isinstance(exc, anthropic.APIConnectionError):  # includes timeouts
        return LLMError('Could not reach Anthropic (connection failed or timed out).', retryable=True)
    if not isinstance(exc, anthropic.APIStatusError):
        return LLMError('Anthropic sent a reply this app could not read.', retryable=False)
    status = exc.status_code
    if status in (401, 403):
        return LLMError(
            f'The Anthropic API key was refused (HTTP {status}). Check ANTHROPIC_API_KEY.',
            retryable=False,
            status=status,
        )
    if status < 400 and exc.type in _STREAM_ERROR_TYPES:  # `event: error` inside an HTTP 200 stream
        code, message = _STREAM_ERROR_TYPES[exc.type]
        return LLMError(message, retryable=True, status=code)
    if status == 529 or exc.type == 'overloaded_error':
        return LLMError(_STREAM_ERROR_TYPES['overloaded_error'][1], retryable=True, status=status)
    if status == 429:
        return LLMError(_STREAM_ERROR_TYPES['rate_limit_error'][1], retryable=True, status=status)
    if status >= 500 or status in (408, 409):
        return LLMError(
            f'Anthropic had a server error (HTTP {status}); the build will try again shortly.',
            retryable=True,
            status=status,
        )
    detail = (exc.api_message or '')[:300]
    return LLMError(
        f'Anthropic rejected the request (HTTP {status}){": " + detail if detail else ""}.',
        retryable=False,
        status=status,
    )


def _reply(message: Any) -> LLMReply:
    content: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if block.type == 'text' and block.text:  # the API refuses empty text blocks in a history
            texts.append(block.text)
            content.append({'type': 'text', 'text': block.text})
        elif block.type == 'tool_use':
            tool_input = block.input if isinstance(block.input, dict) else {}
            calls.append(ToolCall(id=block.id, name=block.name, input=tool_input))
            content.append({'type': 'tool_use', 'id': block.id, 'name': block.name, 'input': tool_input})
    usage = message.usage
    # cache writes/reads are input too; the port has one input figure, so they are added to it
    input_tokens = (
        (usage.input_tokens or 0) + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    )
    return LLMReply(
        text=''.join(texts),
        tool_calls=calls,
        stop_reason=message.stop_reason or 'end_turn',
        usage=Usage(input_tokens=input_tokens, output_tokens=usage.output_tokens or 0),
        model=message.model,
        content=content,
    )
