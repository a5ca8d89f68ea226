"""OpenAICompatLLM against a local server speaking streamed chat completions (Ollama / vLLM / LM Studio)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from core.adapters.llm_openai_compat import OpenAICompatLLM, completions_url
from core.ports import LLMError, ToolSpec
from tests.fakes.openai_api import Call, OpenAIAPI, drop, hang_up, reply, status, text, tool_call

KEY = 'sk-local-9a8b7c-SECRET'
WRITE_FILE = ToolSpec(
    name='write_file',
    description='Write a file in the workspace',
    input_schema={'type': 'object', 'properties': {'path': {'type': 'string'}, 'content': {'type': 'string'}}},
)
RUN = ToolSpec(name='run', description='Run a command', input_schema={'type': 'object', 'properties': {}})
HELLO = [{'role': 'user', 'content': 'Build me a todo app'}]


@pytest.fixture
def api() -> Iterator[OpenAIAPI]:
    with OpenAIAPI() as server:
        yield server


@pytest.fixture
async def llm(api: OpenAIAPI) -> AsyncIterator[OpenAICompatLLM]:
    adapter = OpenAICompatLLM(api.url + '/v1', api_key=KEY, timeout=10)
    yield adapter
    await adapter.aclose()


async def test_text_streams_to_on_text_in_order(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(text('Setting up the project skeleton.', chunks=4, usage=(140, 8)))
    seen: list[str] = []

    result = await llm.complete(system='You are a co-founder.', messages=HELLO, on_text=seen.append)

    assert len(seen) == 4 and ''.join(seen) == 'Setting up the project skeleton.'
    assert result.text == 'Setting up the project skeleton.'
    assert result.stop_reason == 'end_turn'
    assert (result.usage.input_tokens, result.usage.output_tokens) == (140, 8)
    assert result.model == 'llama3.1'
    assert result.content == [{'type': 'text', 'text': 'Setting up the project skeleton.'}]
    [request] = api.completion_requests
    assert request.body['stream'] is True
    assert request.body['stream_options'] == {'include_usage': True}
    assert request.body['messages'][0] == {'role': 'system', 'content': 'You are a co-founder.'}
    assert request.headers['authorization'] == f'Bearer {KEY}'


async def test_async_on_text_is_awaited(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(text('a b c'))
    seen: list[str] = []

    async def collect(chunk: str) -> None:
        seen.append(chunk)

    await llm.complete(system='s', messages=HELLO, on_text=collect)

    assert ''.join(seen) == 'a b c'


async def test_tool_call_arguments_are_assembled_from_fragments(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    source = 'def main():\n    print("hi, \\"you\\"")\n'
    api.script(
        reply(
            'Writing files.',
            Call('write_file', {'path': 'main.py', 'content': source}, 'call_A'),
            Call('run', {}, 'call_B'),
            chunks=6,
        )
    )

    result = await llm.complete(system='s', messages=HELLO, tools=[WRITE_FILE, RUN])

    assert result.stop_reason == 'tool_use'
    assert [(c.id, c.name, c.input) for c in result.tool_calls] == [
        ('call_A', 'write_file', {'path': 'main.py', 'content': source}),
        ('call_B', 'run', {}),
    ]
    assert result.content == [
        {'type': 'text', 'text': 'Writing files.'},
        {'type': 'tool_use', 'id': 'call_A', 'name': 'write_file', 'input': {'path': 'main.py', 'content': source}},
        {'type': 'tool_use', 'id': 'call_B', 'name': 'run', 'input': {}},
    ]


async def test_tools_and_forced_tool_choice_are_sent(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(tool_call('write_file', {'path': 'brief.md', 'content': '# Brief'}))

    result = await llm.complete(
        system='s', messages=HELLO, tools=[WRITE_FILE], tool_choice='write_file', model='qwen2.5-coder', max_tokens=512
    )

    body = api.completion_requests[0].body
    assert body['model'] == 'qwen2.5-coder'
    assert body['max_tokens'] == 512
    assert body['tools'] == [
        {
            'type': 'function',
            'function': {
                'name': 'write_file',
                'description': 'Write a file in the workspace',
                'parameters': WRITE_FILE.input_schema,
            },
        }
    ]
    assert body['tool_choice'] == {'type': 'function', 'function': {'name': 'write_file'}}
    assert result.tool_calls[0].input == {'path': 'brief.md', 'content': '# Brief'}
    assert result.model == 'qwen2.5-coder'


async def test_multi_turn_history_with_tool_results_is_translated(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(text('Done.'))
    history = [
        {'role': 'user', 'content': 'Build it'},
        {
            'role': 'assistant',
            'content': [
                {'type': 'text', 'text': 'Writing two files.'},
                {'type': 'tool_use', 'id': 'toolu_1', 'name': 'write_file', 'input': {'path': 'a.py', 'content': 'x'}},
                {'type': 'tool_use', 'id': 'toolu_2', 'name': 'run', 'input': {'cmd': 'pytest'}},
            ],
        },
        {
            'role': 'user',
            'content': [
                {'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': 'written'},
                {
                    'type': 'tool_result',
                    'tool_use_id': 'toolu_2',
                    'content': [{'type': 'text', 'text': '1 failed'}],
                    'is_error': True,
                },
                {'type': 'text', 'text': 'Also add a README.'},
            ],
        },
        {'role': 'assistant', 'content': [{'type': 'tool_use', 'id': 'toolu_3', 'name': 'run', 'input': {}}]},
        {'role': 'user', 'content': [{'type': 'tool_result', 'tool_use_id': 'toolu_3', 'content': 'ok'}]},
    ]

    await llm.complete(system='You are a co-founder.', messages=history)

    assert api.completion_requests[0].body['messages'] == [
        {'role': 'system', 'content': 'You are a co-founder.'},
        {'role': 'user', 'content': 'Build it'},
        {
            'role': 'assistant',
            'content': 'Writing two files.',
            'tool_calls': [
                {
                    'id': 'toolu_1',
                    'type': 'function',
                    'function': {'name': 'write_file', 'arguments': '{"path": "a.py", "content": "x"}'},
                },
                {'id': 'toolu_2', 'type': 'function', 'function': {'name': 'run', 'arguments': '{"cmd": "pytest"}'}},
            ],
        },
        {'role': 'tool', 'tool_call_id': 'toolu_1', 'content': 'written'},
        {'role': 'tool', 'tool_call_id': 'toolu_2', 'content': 'Error: 1 failed'},
        {'role': 'user', 'content': 'Also add a README.'},
        {
            'role': 'assistant',
            'content': None,
            'tool_calls': [{'id': 'toolu_3', 'type': 'function', 'function': {'name': 'run', 'arguments': '{}'}}],
        },
        {'role': 'tool', 'tool_call_id': 'toolu_3', 'content': 'ok'},
    ]


async def test_reply_content_round_trips_into_the_next_request(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(tool_call('run', {'cmd': 'ls'}, id='call_X'), text('All good.'))
    history: list[dict] = list(HELLO)

    first = await llm.complete(system='s', messages=history, tools=[RUN])
    history += [
        {'role': 'assistant', 'content': first.content},
        {'role': 'user', 'content': [{'type': 'tool_result', 'tool_use_id': 'call_X', 'content': 'main.py'}]},
    ]
    second = await llm.complete(system='s', messages=history, tools=[RUN])

    assert second.text == 'All good.'
    sent = api.completion_requests[1].body['messages']
    assert sent[-2]['tool_calls'][0]['id'] == 'call_X'
    assert sent[-1] == {'role': 'tool', 'tool_call_id': 'call_X', 'content': 'main.py'}


async def test_usage_is_estimated_when_the_server_sends_none(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(text('x' * 400, usage=False))

    result = await llm.complete(system='s', messages=HELLO)

    assert result.usage.output_tokens == 100  # ~4 characters per token
    assert result.usage.input_tokens > 0


async def test_finish_reason_length_is_max_tokens(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(text('cut sho', finish_reason='length'))

    result = await llm.complete(system='s', messages=HELLO)

    assert result.stop_reason == 'max_tokens'


async def test_tool_calls_reported_with_stop_are_still_tool_use(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(tool_call('run', {}, finish_reason='stop'))  # what Ollama does

    result = await llm.complete(system='s', messages=HELLO, tools=[RUN])

    assert result.stop_reason == 'tool_use'


async def test_server_errors_are_retried_then_succeed(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(hang_up(), status(503), text('Recovered'))

    result = await llm.complete(system='s', messages=HELLO)

    assert result.text == 'Recovered'
    assert len(api.completion_requests) == 3


async def test_rate_limit_three_times_is_a_retryable_error(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(status(429), status(429), status(429), text('not reached'))

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO)

    assert caught.value.retryable is True
    assert caught.value.status == 429
    assert len(api.completion_requests) == 3
    assert api.pending == 1


async def test_refused_key_is_not_retryable_and_never_echoed(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(status(401, message=f'Incorrect API key provided: {KEY}'))

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO)

    assert caught.value.retryable is False
    assert caught.value.status == 401
    assert 'refused the API key' in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(api.completion_requests) == 1
    assert await llm.healthy() is False


async def test_unknown_model_is_not_retried_and_says_why(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(status(404, message="model 'llama9' not found, try pulling it first"))

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO, model='llama9')

    assert caught.value.retryable is False
    assert "model 'llama9' not found" in str(caught.value)


async def test_dropped_stream_is_a_retryable_error(api: OpenAIAPI, llm: OpenAICompatLLM) -> None:
    api.script(drop(after_chunks=2), text('not requested'))
    seen: list[str] = []

    with pytest.raises(LLMError) as caught:
        await llm.complete(system='s', messages=HELLO, on_text=seen.append)

    assert caught.value.retryable is True
    assert 'dropped' in str(caught.value)
    assert ''.join(seen) and 'Let me think about this'.startswith(''.join(seen))
    assert len(api.completion_requests) == 1  # not retried: the founder already saw part of the reply


async def test_unreachable_server_is_a_retryable_error() -> None:
    with OpenAIAPI() as gone:
        url = gone.url
    adapter = OpenAICompatLLM(url, max_retries=0, timeout=5)

    with pytest.raises(LLMError) as caught:
        await adapter.complete(system='s', messages=HELLO)

    assert caught.value.retryable is True
    assert 'Could not reach the model server' in str(caught.value)
    await adapter.aclose()


async def test_no_key_sends_no_authorization(api: OpenAIAPI) -> None:
    api.script(text('hi'))
    adapter = OpenAICompatLLM(api.url, timeout=10)  # a bare host gets /v1 added

    await adapter.complete(system='', messages=HELLO)

    [request] = api.completion_requests
    assert 'authorization' not in request.headers
    assert request.body['messages'] == HELLO  # no empty system message
    assert adapter.name == 'openai_compat' and adapter.offline is False
    await adapter.aclose()


def test_completions_url_accepts_the_usual_base_urls() -> None:
    assert completions_url('http://localhost:11434') == 'http://localhost:11434/v1/chat/completions'
    assert completions_url('http://localhost:11434/v1/') == 'http://localhost:11434/v1/chat/completions'
    assert completions_url('http://vllm:8000/v1/chat/completions') == 'http://vllm:8000/v1/chat/completions'
