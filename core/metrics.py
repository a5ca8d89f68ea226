"""What `/metrics` exposes in the Prometheus text format (OPS-8), through the official client library.

The product's modules call the small `observe_*` / `count_*` functions here at the moment something
happens (a stage ends, a model call is accounted, a command finishes); the gauges that describe the whole
system (builds by state, queue depth) are read from the database when scraped (`core/observability.py`).
Each process keeps its own counters: with `WORKERS=external` a worker's builds are counted in the worker's
process, the database gauges are the same everywhere. This module imports nothing of the product, so any
module can report here without an import cycle.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

R = TypeVar('R')
CONTENT_TYPE = CONTENT_TYPE_LATEST
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files of this process
PlatformCollector(registry=REGISTRY)

# Builds last minutes; stages from milliseconds (a restore's SCAFFOLD) to many minutes (CODE).
BUILD_BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400)
STAGE_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
COMMAND_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

BUILDS = Gauge('cofounder_builds', 'Builds in each state (from the database)', ['state'], registry=REGISTRY)
QUEUE_DEPTH = Gauge('cofounder_queue_depth', 'Builds waiting in the queue (from the database)', registry=REGISTRY)
BUILD_SECONDS = Histogram('cofounder_build_duration_seconds', 'From the start of a build to its end, by outcome',
                          ['state'], buckets=BUILD_BUCKETS, registry=REGISTRY)  # fmt: skip
STAGE_SECONDS = Histogram('cofounder_stage_duration_seconds', 'Time a build spent in a stage, each time it left one',
                          ['stage'], buckets=STAGE_BUCKETS, registry=REGISTRY)  # fmt: skip
LLM_CALLS = Counter('cofounder_llm_calls', 'Model calls accounted', ['model', 'role'], registry=REGISTRY)
LLM_TOKENS = Counter('cofounder_llm_tokens', 'Model tokens accounted', ['model', 'direction'], registry=REGISTRY)
LLM_COST = Counter('cofounder_llm_cost_dollars', 'Model cost accounted, in dollars', ['model'], registry=REGISTRY)
SANDBOX_SECONDS = Histogram('cofounder_sandbox_command_duration_seconds', 'Commands run in build sandboxes',
                            ['kind', 'outcome'], buckets=COMMAND_BUCKETS, registry=REGISTRY)  # fmt: skip
PUSH_SECONDS = Histogram('cofounder_push_latency_seconds', 'From an event being made to its hand-over to a watcher '
                         '(page: to the page outbox; sse: written to the stream)', ['channel'],
                         buckets=FAST_BUCKETS, registry=REGISTRY)  # fmt: skip
LOOP_LAG = Histogram('cofounder_event_loop_lag_seconds', 'How late a periodic tick of the event loop ran',
                     buckets=FAST_BUCKETS, registry=REGISTRY)  # fmt: skip
SCHEDULER_RUNS = Counter('cofounder_scheduler_job_runs', 'Scheduled job runs, by job and outcome',
                         ['job', 'outcome'], registry=REGISTRY)  # fmt: skip
HTTP_REQUESTS = Counter('cofounder_http_requests', 'HTTP requests, by route template, method and status',
                        ['route', 'method', 'status'], registry=REGISTRY)  # fmt: skip
HTTP_SECONDS = Histogram('cofounder_http_request_duration_seconds', 'HTTP request time to the response start',
                         ['route'], buckets=FAST_BUCKETS, registry=REGISTRY)  # fmt: skip
API_REFUSED = Counter('cofounder_api_refused', 'API requests refused before reaching a route, by reason',
                      ['reason'], registry=REGISTRY)  # fmt: skip


def render() -> bytes:
    """Every metric of this process in the Prometheus text format."""
    return generate_latest(REGISTRY)


def set_builds(by_state: dict[str, int], queued: int) -> None:
    for state, count in by_state.items():
        BUILDS.labels(state=state).set(count)
    QUEUE_DEPTH.set(queued)


def observe_transition(
    stage: str, seconds: float, *, ended: str | None = None, started_at: datetime | None = None, at: datetime
) -> None:
    """A build left `stage` after `seconds`; when it `ended` (a terminal state), its whole duration too."""
    STAGE_SECONDS.labels(stage=stage).observe(max(seconds, 0.0))
    if ended is not None and started_at is not None:
        BUILD_SECONDS.labels(state=ended).observe(max((at - started_at).total_seconds(), 0.0))


def count_llm_call(*, model: str, role: str, input_tokens: int, output_tokens: int, cost_microdollars: int) -> None:
    LLM_CALLS.labels(model=model, role=role).inc()
    LLM_TOKENS.labels(model=model, direction='input').inc(input_tokens)
    LLM_TOKENS.labels(model=model, direction='output').inc(output_tokens)
    LLM_COST.labels(model=model).inc(cost_microdollars / 1_000_000)


def observe_command(kind: str, seconds: float, *, ok: bool, timed_out: bool = False) -> None:
    outcome = 'timeout' if timed_out else 'ok' if ok else 'failed'
    SANDBOX_SECONDS.labels(kind=kind, outcome=outcome).observe(max(seconds, 0.0))


async def timed_command(kind: str, running: Awaitable[R]) -> R:
    """Await a sandbox command (`Sandbox.run(...)`) and record how long it took and how it ended."""
    started = time.perf_counter()
    try:
        result = await running
    except Exception:
        observe_command(kind, time.perf_counter() - started, ok=False)
        raise
    ok, timed_out = bool(getattr(result, 'ok', False)), bool(getattr(result, 'timed_out', False))
    observe_command(kind, time.perf_counter() - started, ok=ok, timed_out=timed_out)
    return result


def observe_push(channel: str, made_at: datetime, now: datetime) -> None:
    PUSH_SECONDS.labels(channel=channel).observe(max((now - made_at).total_seconds(), 0.0))


def observe_loop_lag(seconds: float) -> None:
    LOOP_LAG.observe(max(seconds, 0.0))


def count_scheduler_run(job_id: str, *, failed: bool) -> None:
    """`job_id` is the scheduler's id; per-build jobs (`wake:<build id>`) count under their kind (`wake`)."""
    SCHEDULER_RUNS.labels(job=job_id.split(':', 1)[0], outcome='failed' if failed else 'ok').inc()


def count_http(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    HTTP_SECONDS.labels(route=route).observe(max(seconds, 0.0))


def count_api_refusal(reason: str) -> None:
    API_REFUSED.labels(reason=reason).inc()
