"""/metrics' content (OPS-8) in the Prometheus text format, JSON log lines with the build and user ids (OPS-3), and
the optional error reporting, each through the functions the product calls."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from core import metrics
from core.config import Settings
from core.observability import bind_log_context, init_sentry, log_context, scheduler_listener, watch_loop_lag
from main import JsonLogFormatter, configure_logging
from ui.http import RequestMetrics


def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the rendered text, parsed by the Prometheus client's own parser."""
    parsed = text_string_to_metric_families(metrics.render().decode())
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in parsed for s in family.samples}


def value(name: str, **labels: str) -> float:
    return samples().get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_text_parses_and_each_reported_fact_moves_its_metric() -> None:
    before = samples()
    at = datetime(2026, 12, 3, tzinfo=UTC)
    metrics.observe_transition('CODE', 42.0, ended=None, started_at=None, at=at)
    metrics.observe_transition('CHECKS', 3.0, ended='READY', started_at=at - timedelta(seconds=90), at=at)
    metrics.count_llm_call(
        model='offline-1', role='builder', input_tokens=100, output_tokens=20, cost_microdollars=2500
    )
    metrics.observe_command('agent', 0.2, ok=False)
    metrics.observe_push('sse', at - timedelta(milliseconds=5), at)
    metrics.set_builds({'READY': 3, 'QUEUED': 2}, 2)
    after = samples()

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved('cofounder_stage_duration_seconds_count', stage='CODE') == 1
    # differences of process-wide sums: other tests in this worker may have observed CODE already
    assert moved('cofounder_stage_duration_seconds_sum', stage='CODE') == pytest.approx(42.0)
    assert moved('cofounder_build_duration_seconds_sum', state='READY') == pytest.approx(90.0)
    assert moved('cofounder_llm_calls_total', model='offline-1', role='builder') == 1
    assert moved('cofounder_llm_tokens_total', model='offline-1', direction='input') == 100
    assert moved('cofounder_llm_cost_dollars_total', model='offline-1') == pytest.approx(0.0025)
    assert moved('cofounder_sandbox_command_duration_seconds_count', kind='agent', outcome='failed') == 1
    assert moved('cofounder_push_latency_seconds_bucket', channel='sse', le='0.005') == 1
    assert after[('cofounder_builds', (('state', 'READY'),))] == 3 and after[('cofounder_queue_depth', ())] == 2
    assert ('process_cpu_seconds_total', ()) in after  # the client's process collector


async def test_a_timed_command_counts_its_outcome() -> None:
    class Result:
        ok, timed_out = False, True

    async def run() -> Result:
        return Result()

    before = value('cofounder_sandbox_command_duration_seconds_count', kind='install', outcome='timeout')
    await metrics.timed_command('install', run())
    assert value('cofounder_sandbox_command_duration_seconds_count', kind='install', outcome='timeout') == before + 1


async def test_event_loop_lag_is_sampled() -> None:
    before = value('cofounder_event_loop_lag_seconds_count')
    watching = asyncio.create_task(watch_loop_lag(0.001))
    for _ in range(200):  # the ticks happen in this loop's own time: each of our sleeps lets one run
        await asyncio.sleep(0.002)
        if value('cofounder_event_loop_lag_seconds_count') >= before + 3:
            break
    watching.cancel()
    assert value('cofounder_event_loop_lag_seconds_count') >= before + 3


def test_scheduler_runs_count_per_kind_of_job() -> None:
    class Executed:
        def __init__(self, job_id: str, exception: BaseException | None = None) -> None:
            self.job_id, self.exception = job_id, exception

    ok = value('cofounder_scheduler_job_runs_total', job='wake', outcome='ok')
    failed = value('cofounder_scheduler_job_runs_total', job='archive-events', outcome='failed')
    scheduler_listener(Executed('wake:6f1c0d4e-0000-4000-8000-000000000000'))
    scheduler_listener(Executed('archive-events', RuntimeError('blob store down')))
    assert value('cofounder_scheduler_job_runs_total', job='wake', outcome='ok') == ok + 1  # not one series per build
    assert value('cofounder_scheduler_job_runs_total', job='archive-events', outcome='failed') == failed + 1


async def test_http_requests_count_by_route_template_and_status() -> None:
    app = FastAPI()

    @app.get('/things/{thing_id}')
    async def thing(thing_id: str) -> dict[str, str]:
        return {'id': thing_id}

    app.add_middleware(RequestMetrics)
    before = value('cofounder_http_requests_total', route='/things/{thing_id}', method='GET', status='200')
    unmatched = value('cofounder_http_requests_total', route='unmatched', method='GET', status='404')
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://t') as http:
        for n in range(3):
            assert (await http.get(f'/things/{n}')).status_code == 200
        assert (await http.get('/nowhere')).status_code == 404
    assert value('cofounder_http_requests_total', route='/things/{thing_id}', method='GET', status='200') == before + 3
    assert value('cofounder_http_requests_total', route='unmatched', method='GET', status='404') == unmatched + 1


async def test_json_log_lines_carry_the_build_and_user_of_their_task(
    tmp_path, capfd: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    configure_logging(Settings(_env_file=None, DATA_DIR=tmp_path, LOG_JSON=True, LOG_LEVEL='INFO'))
    log = logging.getLogger('cofounder.test')

    async def build_task() -> None:
        bind_log_context(build_id='b-1', user_id='u-1')
        log.info('stage entered')

    await asyncio.create_task(build_task())
    log.info('outside any build')  # the task's context did not leak out of it
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith('{')]
    inside, outside = [entry for entry in lines if entry['logger'] == 'cofounder.test']
    assert inside['message'] == 'stage entered' and (inside['build_id'], inside['user_id']) == ('b-1', 'u-1')
    assert 'build_id' not in outside and log_context() == {}
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])


def test_json_formatter_leaves_out_ids_that_are_not_bound() -> None:
    record = logging.LogRecord('x', logging.WARNING, __file__, 1, 'plain', None, None)
    assert set(json.loads(JsonLogFormatter().format(record))) == {'at', 'level', 'logger', 'message'}


class Captured(Transport):
    """Sentry's network edge: envelopes are kept here instead of being sent."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


async def test_errors_go_to_sentry_only_with_a_dsn_tagged_with_build_and_user() -> None:
    assert init_sentry(None, environment='test') is False  # off by default
    transport = Captured()
    assert init_sentry('https://public@sentry.invalid/1', environment='test', transport=transport) is True
    try:

        async def failing_build() -> None:
            bind_log_context(build_id='b-9', user_id='u-9')
            api_key = 'sk-not-to-be-sent'  # noqa: F841 - a local variable must not travel with the report
            try:
                raise RuntimeError('sandbox vanished')
            except RuntimeError as error:
                sentry_sdk.capture_exception(error)

        await asyncio.create_task(failing_build())
        sentry_sdk.flush()
    finally:
        sentry_sdk.init()  # no DSN: reporting off again for the rest of the run
    (envelope,) = transport.envelopes
    event = envelope.get_event()
    assert event is not None and event['tags'] == {'build_id': 'b-9', 'user_id': 'u-9'}
    assert event['environment'] == 'test' and 'sandbox vanished' in json.dumps(event['exception'])
    frames = [frame for value in event['exception']['values'] for frame in value['stacktrace']['frames']]
    assert frames and not any('vars' in frame for frame in frames)  # no local variable travels with the report
