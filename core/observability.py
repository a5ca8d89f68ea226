"""Watching the running product (OPS-3, OPS-8): who a log line is about, the gauges read from the database at
scrape time, the event loop's lag, the scheduler's runs, and optional error reporting to Sentry.

Log lines carry the build id and user id of the work they come from: a build's task, an API request or a
page binds them (`bind_log_context`), they live in context variables (so each asyncio task keeps its own)
and `LogContextFilter` copies them onto every record for the JSON formatter.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from core import metrics
from core.builds.states import BuildState
from core.db import SessionFactory
from core.models import BuildJob

logger = logging.getLogger(__name__)

_build_id: contextvars.ContextVar[str | None] = contextvars.ContextVar('cofounder_build_id', default=None)
_user_id: contextvars.ContextVar[str | None] = contextvars.ContextVar('cofounder_user_id', default=None)
LOOP_TICK_S = 0.5


def bind_log_context(*, build_id: uuid.UUID | str | None = None, user_id: uuid.UUID | str | None = None) -> None:
    """Name the build and/or user the current task works for, in its log lines from here on."""
    if build_id is not None:
        _build_id.set(str(build_id))
    if user_id is not None:
        _user_id.set(str(user_id))


def log_context() -> dict[str, str]:
    found = {'build_id': _build_id.get(), 'user_id': _user_id.get()}
    return {key: value for key, value in found.items() if value}


class LogContextFilter(logging.Filter):
    """Puts the bound build id and user id on each record (attributes the JSON formatter writes out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


# ── gauges from the database ──────────────────────────────────────────────────────────────────


async def refresh_build_gauges(sessions: SessionFactory) -> None:
    """Builds by state and the queue depth, counted now (one grouped query), for a scrape."""
    async with sessions() as session:
        rows = (await session.execute(select(col(BuildJob.state), func.count()).group_by(BuildJob.state))).all()
    counts = {state.value: 0 for state in BuildState}
    counts.update({str(state): int(n) for state, n in rows})
    metrics.set_builds(counts, counts.get(BuildState.QUEUED.value, 0))


# ── the event loop ────────────────────────────────────────────────────────────────────────────


async def watch_loop_lag(tick_s: float = LOOP_TICK_S, clock: Callable[[], float] = time.perf_counter) -> None:
    """Forever: sleep `tick_s` and record how much later than asked the loop woke us (run it as a task)."""
    while True:
        before = clock()
        await asyncio.sleep(tick_s)
        metrics.observe_loop_lag(clock() - before - tick_s)


def start_loop_lag_watch(tick_s: float = LOOP_TICK_S) -> asyncio.Task[None]:
    return asyncio.create_task(watch_loop_lag(tick_s), name='event-loop lag')


# ── the scheduler ─────────────────────────────────────────────────────────────────────────────


def scheduler_listener(event: Any) -> None:
    """An APScheduler listener for executed and failed jobs (called on the scheduler's thread)."""
    metrics.count_scheduler_run(str(event.job_id), failed=getattr(event, 'exception', None) is not None)


# ── error reporting ───────────────────────────────────────────────────────────────────────────


def init_sentry(dsn: str | None, *, environment: str, transport: Any = None) -> bool:
    """Report errors to Sentry when a DSN is configured (off by default; needs the `sentry` extra).

    Nothing personal or secret is sent: no request bodies, no local variables, no default PII. Each event
    is tagged with the build id and user id of the work it came from. Returns whether reporting is on.
    """
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        logger.warning('SENTRY_DSN is set but sentry-sdk is not installed (pip install ".[sentry]")')
        return False
    options: dict[str, Any] = {'transport': transport} if transport is not None else {}
    sentry_sdk.init(dsn=dsn, environment=environment, send_default_pii=False, include_local_variables=False,
                    max_request_body_size='never', before_send=_tag_context, **options)  # fmt: skip
    return True


def _tag_context(event: Any, _hint: dict[str, Any]) -> Any:
    event.setdefault('tags', {}).update(log_context())
    return event


# ── liveness ──────────────────────────────────────────────────────────────────────────────────


async def database_reachable(sessions: SessionFactory) -> None:
    """The cheapest real check behind /healthz: one trivial query (raises when the database does not answer)."""
    async with sessions() as session:
        await session.execute(select(1))
