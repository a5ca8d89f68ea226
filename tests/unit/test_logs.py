"""Build logs (B-4): what a founder reads is clean, complete, in order, and never shows a secret."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest

from core.adapters.notify_memory import MemoryNotifier
from core.builds.logs import MARK, MAX_LINE, LogBuffer, Redactor, strip_ansi
from core.config import Settings
from core.event_log import EventLog
from core.events import LogLines
from tests.integration.test_event_log import make_job

ANTHROPIC = 'sk-ant-api03-' + 'Q' * 40 + '-abcdefAA'
OPENAI = 'sk-proj-' + 'a1B2c3D4' * 6
OPENAI_OLD = 'sk-' + 'Zx9' * 16
AWS_ID = 'AKIAIOSFODNN7EXAMPLE'
AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
GITHUB = 'ghp_' + 'R' * 36
GITHUB_PAT = 'github_pat_11ABCDEFG0' + 'x' * 50
SLACK = 'xoxb-2222222222-3333333333-' + 'k' * 24
JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'
# An AWS *secret* key has no prefix: it is caught next to its name (env dump test), not alone in prose.
ALL_KEYS = [ANTHROPIC, OPENAI, OPENAI_OLD, AWS_ID, GITHUB, GITHUB_PAT, SLACK, JWT]

redactor = Redactor()


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


# ── strip_ansi ──


def test_colours_cursor_moves_and_titles_are_stripped() -> None:
    raw = '\x1b[1;32m✔ compiled\x1b[0m in \x1b[33m1.2s\x1b[39m\x1b[2K\x1b[1G\x1b]0;npm run build\x07 done\x1b(B'
    assert strip_ansi(raw) == '✔ compiled in 1.2s done'


def test_plain_text_tabs_and_unicode_pass_unchanged() -> None:
    text = 'name\tversion\n  café → 🚀 ok'
    assert strip_ansi(text) == text
    assert strip_ansi('bell\x07 and backspace\x08 go') == 'bell and backspace go'


# ── the redactor ──


@pytest.mark.parametrize('secret', ALL_KEYS)
def test_known_key_shapes_are_redacted_in_prose(secret: str) -> None:
    out = redactor.redact(f'using {secret} for the request')
    assert secret not in out and MARK in out and out.startswith('using ') and out.endswith(' for the request')


def test_keys_embedded_in_json_are_redacted() -> None:
    doc = json.dumps({'anthropic': ANTHROPIC, 'nested': {'api_key': 'abc123xyz', 'password': 'hunter2 two'}})
    out = redactor.redact(doc)
    assert not leaks(out, [ANTHROPIC, 'abc123xyz', 'hunter2'])
    assert json.loads(out)['nested'] == {'api_key': MARK, 'password': MARK}  # still valid JSON


def test_an_env_dump_keeps_names_and_hides_values() -> None:
    dump = '\n'.join(
        [
            f'AWS_ACCESS_KEY_ID={AWS_ID}',
            f'AWS_SECRET_ACCESS_KEY={AWS_SECRET}',
            'DB_PASSWORD="correct horse battery"',
            'PGPASSWORD=pg-pass-123',
            f"GITHUB_TOKEN='{GITHUB}'",
            'STRIPE_SECRET_KEY=anything-goes-here',
            'DB_PASS=plain',
            'PWD=/home/founder/app',
            'PATH=/usr/local/bin:/usr/bin',
            'NODE_ENV=production',
        ]
    )
    out = redactor.redact(dump).split('\n')
    assert not leaks(
        '\n'.join(out), [AWS_ID, AWS_SECRET, 'correct horse', 'pg-pass-123', GITHUB, 'anything-goes', 'plain']
    )
    assert out[0] == f'AWS_ACCESS_KEY_ID={MARK}' and out[2] == f'DB_PASSWORD="{MARK}"'
    assert out[-3:] == ['PWD=/home/founder/app', 'PATH=/usr/local/bin:/usr/bin', 'NODE_ENV=production']


@pytest.mark.parametrize(
    ('url', 'expected'),
    [
        ('postgres://app:s3cr3t!@db.internal:5432/app', f'postgres://app:{MARK}@db.internal:5432/app'),
        ('redis://:only-a-password@cache:6379/0', f'redis://:{MARK}@cache:6379/0'),
        ('https://user:tok_abc@github.com/org/repo.git', f'https://user:{MARK}@github.com/org/repo.git'),
        ('git clone https://github.com/org/repo.git', 'git clone https://github.com/org/repo.git'),
        ('http://localhost:3000/login', 'http://localhost:3000/login'),
        ('mailto:founder@example.com', 'mailto:founder@example.com'),
    ],
)
def test_passwords_in_urls_are_redacted_and_the_rest_kept(url: str, expected: str) -> None:
    assert redactor.redact(url) == expected


def test_authorization_headers_and_bearer_tokens() -> None:
    out = redactor.redact('curl -H "Authorization: Bearer abc.def-ghi_jkl123" -H "authorization: Basic dXNlcjpwYXNz"')
    assert 'abc.def-ghi_jkl123' not in out and 'dXNlcjpwYXNz' not in out
    assert 'Authorization: Bearer ' + MARK in out
    assert redactor.redact('> bearer Zm9vYmFyYmF6cXV4') == f'> bearer {MARK}'


def test_generic_assignments_in_many_syntaxes() -> None:
    cases = ['password=hunter2', 'secret: hunter2', "token = 'hunter2'", 'api_key=hunter2&x=1', '"apiKey":"hunter2"']
    for case in cases:
        out = redactor.redact(case)
        assert 'hunter2' not in out and MARK in out, case
    assert redactor.redact('api_key=hunter2&x=1') == f'api_key={MARK}&x=1'


def test_our_own_secret_settings_are_redacted_exactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        _env_file=None,
        DATA_DIR=tmp_path,
        STORAGE_SECRET='plain-looking-value-42',
        ANTHROPIC_API_KEY='not-a-known-shape-9f8e7d',
    )
    mine = Redactor(settings.secret_values())
    out = mine.redact('value plain-looking-value-42 and not-a-known-shape-9f8e7d, twice: plain-looking-value-42')
    assert out == f'value {MARK} and {MARK}, twice: {MARK}'


def test_redaction_is_idempotent() -> None:
    once = redactor.redact(f'password={ANTHROPIC} postgres://a:b@c token: {GITHUB}')
    assert redactor.redact(once) == once


@pytest.mark.parametrize(
    'text',
    [
        'The secret to a good MVP is talking to users.',
        'Your password must be at least 12 characters long.',
        'Tokenizing 1,204 documents took 3.2s',
        'Compiled task-management-dashboard-component successfully',
        'risk-assessment-framework loaded; disk-usage-monitoring ok',
        'commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main)',
        'integrity sha512-Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4',
        'job 9b2e4c1a-6f0e-4a8a-9d55-1f2b3c4d5e6f started',
        'compass=north bypass_cache=true',
        'GET /api/users?page=2 200 12ms',
    ],
)
def test_ordinary_output_is_left_alone(text: str) -> None:
    # Hashes, SHAs and UUIDs stay visible by design: no entropy rule (see core/builds/logs.py).
    assert redactor.redact(text) == text


def test_hostile_inputs_do_not_break_the_redactor() -> None:
    weird = ['', '=' * 10_000, 'password=' * 2_000, '://' * 3_000, 'sk-' * 3_000, '\x00\xff' * 100, 'a:b@' * 2_000]
    for text in weird:
        out = redactor.redact(text)
        assert isinstance(out, str) and '\n' not in out


# ── the buffer ──


@pytest.fixture
async def event_log(sqlite_session_factory) -> EventLog:  # type: ignore[no-untyped-def]
    return EventLog(sqlite_session_factory, MemoryNotifier())


async def lines_of(log: EventLog, job_id) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(phase, stream, line) of every stored log line, in order."""
    return [(e.phase, e.stream, line) for e in await log.read(job_id) if isinstance(e, LogLines) for line in e.lines]


async def test_chunks_become_complete_clean_redacted_lines(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job, phase='Install', redactor=redactor, flush_interval=60)
    for chunk in ['\x1b[32madded 1', '42 packages\x1b[0m\r\nAPI', f'_KEY={OPENAI}\n', 'warn: ', 'peer dep\nlast line']:
        await buffer.write(chunk)
    await buffer.close()
    assert await lines_of(event_log, job) == [
        ('Install', 'stdout', 'added 142 packages'),
        ('Install', 'stdout', f'API_KEY={MARK}'),
        ('Install', 'stdout', 'warn: peer dep'),
        ('Install', 'stdout', 'last line'),
    ]


async def test_a_secret_split_across_chunks_is_still_redacted(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job, redactor=redactor)
    text = f'key {ANTHROPIC} end\n'
    for i in range(0, len(text), 3):
        await buffer.write(text[i : i + 3])
    await buffer.close()
    assert await lines_of(event_log, job) == [('', 'stdout', f'key {MARK} end')]


async def test_progress_bars_keep_only_their_last_drawing(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job)
    for pct in range(0, 101, 10):
        await buffer.write(f'\rDownloading {pct}%')
    await buffer.write('\nDone\r\n')
    await buffer.close()
    assert [line for _, _, line in await lines_of(event_log, job)] == ['Downloading 100%', 'Done']


async def test_streams_and_phases_are_tagged_and_order_kept(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job, phase='Install')
    await buffer.write('resolving\n')
    await buffer.write('npm WARN deprecated\n', stream='stderr')
    await buffer.write('done\n')
    buffer.set_phase('Check')
    await buffer.write('running tests\n')
    await buffer.close()
    assert await lines_of(event_log, job) == [
        ('Install', 'stdout', 'resolving'),
        ('Install', 'stderr', 'npm WARN deprecated'),
        ('Install', 'stdout', 'done'),
        ('Check', 'stdout', 'running tests'),
    ]
    events = await event_log.read(job)
    assert len(events) == 4 and [e.seq for e in events] == [1, 2, 3, 4]  # one close → one transaction


async def test_lines_are_batched_by_count(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job, max_lines=100, flush_interval=60)
    await buffer.write(''.join(f'line {i}\n' for i in range(250)))
    await buffer.write(''.join(f'line {i}\n' for i in range(250, 450)))
    await buffer.close()
    events = await event_log.read(job)
    assert [len(e.lines) for e in events] == [250, 200]  # a batch flushes once max_lines is reached
    assert [line for _, _, line in await lines_of(event_log, job)] == [f'line {i}' for i in range(450)]


async def test_a_quiet_stream_is_flushed_by_the_timer(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job, flush_interval=0.01)
    await buffer.write('server listening on :3000\n')

    async def first_event() -> LogLines:
        async with aclosing(event_log.follow(job)) as events:
            async for event in events:
                return event
        raise AssertionError('log ended')

    event = await asyncio.wait_for(first_event(), 10)  # nobody called flush()
    assert event.lines == ['server listening on :3000']
    await buffer.close()


async def test_tail_and_limits(event_log: EventLog, sqlite_session_factory) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job, keep_tail=5)
    await buffer.write(''.join(f'error {i}\n' for i in range(20)) + 'x' * (MAX_LINE + 50) + '\n')
    assert buffer.tail(3) == ['error 18', 'error 19', 'x' * MAX_LINE + '…']
    assert len(buffer.tail(100)) == 5 and buffer.tail(0) == []
    await buffer.close()
    assert buffer.lines_written == 21


async def test_blank_lines_are_kept_and_empty_close_appends_nothing(
    event_log: EventLog, sqlite_session_factory
) -> None:
    job = await make_job(sqlite_session_factory)
    buffer = LogBuffer(event_log, job)
    await buffer.close()
    assert await event_log.read(job) == []
    await buffer.write('a\n\nb\n')
    await buffer.close()
    assert [line for _, _, line in await lines_of(event_log, job)] == ['a', '', 'b']
