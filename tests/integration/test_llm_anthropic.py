"""AnthropicLLM against a local server speaking the Messages API: the real SDK, its real retries, real SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from core.adapters.llm_anthropic import AnthropicLLM
from core.ports import LLMError, ToolSpec
from tests.fakes.messages_api import (
    MessagesAPI,
    RawToolUse,
    Text,
    ToolUse,
    drop,
    hang_up,
    message,
    status,
    stream_error,
    text,
    tokens,
    tool_use,
)

KEY = 'sk-ant-test-7f3c9d-SECRET'
WRITE_FILE = ToolSpec(
    name='write_file',
    description='Write a file in the workspace',
    input_schema={
        'type': 'object',
        'properties': {'path': {'type': 'string'}, 'content': {'type': 'string'}},
        'required': ['path', 'content'],
    },
)
HELLO = [{'role': 'user', 'content': 'Build me a todo app'}]


@pytest.fixture
def api() -> Iterator[MessagesAPI]:
    with MessagesAPI() as server:
        yield server


@pytest.fixture
async def llm(api: MessagesAPI) -> AsyncIterator[AnthropicLLM]:
    adapter = AnthropicLLM(KEY, base_url=api.url, max_retries=2, timeout=10)
    yield adapter
    await adapter.aclose()


async def test_text_streams_to_on_text_in_order(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(text("I'm setting up your project now.", chunks=4, input_tokens=120, output_tokens=9))
    seen: list[str] = []

    reply = await llm.complete(system='You are a co-founder.', messages=HELLO, on_text=seen.append)

    assert len(seen) == 4
    assert ''.join(seen) == "I'm setting up your project now."
    assert reply.text == "I'm setting up your project now."
    assert reply.stop_reason == 'end_turn'
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (120, 9)
    assert reply.model == 'claude-sonnet-4-5'
    assert reply.content == [{'type': 'text', 'text': "I'm setting up your project now."}]
    assert reply.tool_calls == []


async def test_async_on_text_is_awaited(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(text('one two three', chunks=3))
    seen: list[str] = []

    async def collect(chunk: str) -> None:
        seen.append(chunk)

    await llm.complete(system='s', messages=HELLO, on_text=collect)

    assert ''.join(seen) == 'one two three'


async def test_tool_use_input_is_assembled_from_json_fragments(api: MessagesAPI, llm: AnthropicLLM) -> None:
    source = 'print("hello, \\"world\\"")\n' * 3
    api.script(
        tool_use(
            'write_file',
            {'path': 'app/main.py', 'content': source},
            text='Writing the entry point.',
            id='toolu_01ABC',
            chunks=7,
        )
    )
    seen: list[str] = []

    reply = await llm.complete(system='s', messages=HELLO, tools=[WRITE_FILE], on_text=seen.append)

    assert reply.stop_reason == 'tool_use'
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert (call.id, call.name, call.input) == ('toolu_01ABC', 'write_file', {'path': 'app/main.py', 'content': source})
    assert ''.join(seen) == 'Writing the entry point.'
    assert reply.content == [
        {'type': 'text', 'text': 'Writing the entry point.'},
        {
            'type': 'tool_use',
            'id': 'toolu_01ABC',
            'name': 'write_file',
            'input': {'path': 'app/main.py', 'content': source},
        },
    ]


async def test_several_tool_calls_in_one_turn(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(
        message(
            ToolUse('write_file', {'path': 'a.py', 'content': 'a'}, 'toolu_1'),
            ToolUse('run', {}, 'toolu_2'),
            stop_reason='tool_use',
        )
    )

    reply = await llm.complete(system='s', messages=HELLO, tools=[WRITE_FILE])

    assert [(c.id, c.name, c.input) for c in reply.tool_calls] == [
        ('toolu_1', 'write_file', {'path': 'a.py', 'content': 'a'}),
        ('toolu_2', 'run', {}),
    ]


async def test_request_carries_system_tools_model_history_and_key(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(text('ok'))
    history = [
        {'role': 'user', 'content': 'Build it'},
        {
            'role': 'assistant',
            'content': [
                {'type': 'tool_use', 'id': 'toolu_1', 'name': 'write_file', 'input': {'path': 'a.py', 'content': 'x'}}
            ],
        },
        {'role': 'user', 'content': [{'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': 'written'}]},
    ]

    await llm.complete(
        system='You are a co-founder.', messages=history, tools=[WRITE_FILE], model='claude-haiku-4-5', max_tokens=777
    )

    [request] = api.message_requests
    assert request.body['system'] == 'You are a co-founder.'
    assert request.body['model'] == 'claude-haiku-4-5'
    assert request.body['max_tokens'] == 777
    assert request.body['stream'] is True
    assert request.body['messages'] == history
    assert request.body['tools'] == [
        {'name': 'write_file', 'description': 'Write a file in the workspace', 'input_schema': WRITE_FILE.input_schema}
    ]
    assert 'tool_choice' not in request.body
    # SDK 2.12 sends the key as a bearer token (not x-api-key), plus the API version header
    assert request.headers['authorization'] == f'Bearer {KEY}'
    assert 'x-api-key' not in request.headers
    assert request.headers['anthropic-version']


async def test_forced_tool_choice_is_sent(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(tool_use('write_file', {'path': 'brief.md', 'content': '# Brief'}))

    reply = await llm.complete(system='s', messages=HELLO, tools=[WRITE_FILE], tool_choice='write_file')

    assert api.message_requests[0].body['tool_choice'] == {'type': 'tool', 'name': 'write_file'}
    assert reply.tool_calls[0].input == {'path': 'brief.md', 'content': '# Brief'}


async def test_overloaded_then_success_is_retried_by_the_sdk(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(status(529), text('Back again'))

    reply = await llm.complete(system='s', messages=HELLO)

    assert reply.text == 'Back again'
    assert [r.headers['x-stainless-retry-count'] for r in api.message_requests] == ['0', '1']


async def test_server_error_then_success_is_retried(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(status(500), status(500), text('Recovered'))

    reply = await llm.complete(system='s', messages=HELLO)

    assert reply.text == 'Recovered'
    assert len(api.message_requests) == 3


async def test_rate_limit_three_times_is_a_retryable_error(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(status(429), status(429), status(429))

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO)

    assert caught.value.retryable is True
    assert caught.value.status == 429
    assert 'rate-limit' in str(caught.value)
    assert len(api.message_requests) == 3  # first try + the SDK's 2 retries, no extra loop of ours
    assert api.pending == 0


async def test_refused_key_is_not_retryable_and_never_echoed(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(status(401, message=f'invalid x-api-key {KEY}'))
    assert await llm.healthy() is True

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO)

    assert caught.value.retryable is False
    assert caught.value.status == 401
    assert 'API key was refused' in str(caught.value)
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None  # the SDK error (which holds the request and its headers) is not chained
    assert len(api.message_requests) == 1  # 401 is not retried
    assert await llm.healthy() is False


async def test_bad_request_is_not_retryable_and_says_why(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(status(400, message='prompt is too long: 210000 tokens > 200000 maximum'))

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO)

    assert caught.value.retryable is False
    assert caught.value.status == 400
    assert 'prompt is too long' in str(caught.value)


async def test_dropped_stream_is_a_retryable_error_not_retried(api: MessagesAPI, llm: AnthropicLLM) -> None:
    # The SDK retries only until response headers arrive; a body cut mid-stream escapes as the transport's
    # RemoteProtocolError, unretried. The adapter turns it into a retryable LLMError so the agent loop decides.
    api.script(drop(after_events=4), text('never requested'))
    seen: list[str] = []

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO, on_text=seen.append)

    assert caught.value.retryable is True
    assert 'dropped' in str(caught.value)
    partial = ''.join(seen)  # what streamed before the drop did reach the founder, and nothing more
    assert partial and 'I was saying something when'.startswith(partial) and partial != 'I was saying something when'
    assert len(api.message_requests) == 1
    assert api.pending == 1


async def test_connection_reset_before_a_response_is_retried_by_the_sdk(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(hang_up(), text('Connected'))

    reply = await llm.complete(system='s', messages=HELLO)

    assert reply.text == 'Connected'
    assert len(api.message_requests) == 2


async def test_unreachable_server_is_a_retryable_error() -> None:
    with MessagesAPI() as gone:
        url = gone.url
    adapter = AnthropicLLM(KEY, base_url=url, max_retries=0, timeout=5)

    with pytest.raises(LLMError) as caught:
        await adapter.complete(system='s', messages=HELLO)

    assert caught.value.retryable is True
    assert 'Could not reach Anthropic' in str(caught.value)
    await adapter.aclose()


async def test_overloaded_error_event_mid_stream_is_retryable(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(stream_error('overloaded_error'))

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO)

    assert caught.value.retryable is True
    assert caught.value.status == 529
    assert 'overloaded' in str(caught.value)


async def test_count_tokens_uses_the_count_endpoint(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(tokens(1234))

    counted = await llm.count_tokens('You are a co-founder.', HELLO, [WRITE_FILE], 'claude-sonnet-4-5')

    assert counted == 1234
    [request] = api.requests_to('/v1/messages/count_tokens')
    assert request.body['system'] == 'You are a co-founder.'
    assert request.body['messages'] == HELLO
    assert request.body['tools'][0]['name'] == 'write_file'
    assert request.body['model'] == 'claude-sonnet-4-5'


async def test_healthy_without_a_key_is_false() -> None:
    adapter = AnthropicLLM('', base_url='http://127.0.0.1:9')
    assert await adapter.healthy() is False
    assert adapter.name == 'anthropic' and adapter.offline is False
    await adapter.aclose()


async def test_mixed_blocks_keep_their_order_in_content(api: MessagesAPI, llm: AnthropicLLM) -> None:
    api.script(
        message(
            Text('First I write.'),
            ToolUse('write_file', {'path': 'x', 'content': ''}, 'toolu_9'),
            stop_reason='tool_use',
        )
    )

    reply = await llm.complete(system='s', messages=HELLO, tools=[WRITE_FILE])

    assert [b['type'] for b in reply.content] == ['text', 'tool_use']


@pytest.mark.parametrize('raw', ['"just text"', 'not json at all'])
async def test_a_tool_call_with_unreadable_json_is_a_malformed_reply_not_a_dropped_connection(raw: str) -> None:
    with MessagesAPI() as api:
        api.script(message(RawToolUse('write_file', raw), stop_reason='tool_use'))
        llm = AnthropicLLM('sk-test-key-123', base_url=api.url)
        with pytest.raises(LLMError) as caught:
            await llm.complete(system='s', messages=HELLO)
    assert caught.value.malformed and not caught.value.retryable
