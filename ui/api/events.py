"""A build's events as Server-Sent Events (OPS-4, B-3): replay, then live, ending with `build.done`.

`id:` is the event's seq, so a client that reconnects with `Last-Event-ID` (browsers do it by themselves)
or `?after=seq` gets what follows without a gap or a repeat: the stream is `EventLog.follow`, the page's
follower. A comment line every `heartbeat_s` keeps proxies from closing a quiet stream (a build asleep for
the night). A finished build's stream ends after its `build.done`; asked from past it, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from core import metrics
from core.builds import jobs
from core.builds.states import TERMINAL, BuildState
from core.event_log import EventLog
from core.events import BuildEvent
from core.models import utcnow
from core.observability import bind_log_context
from ui.api.auth import ApiContext, api_user
from ui.api.routes import ERRORS, _documented_bearer, domain_errors
from ui.auth import until_ended

EVENT_STREAM = 'text/event-stream'
RETRY_MS = 2000  # how soon a disconnected client should come back
SESSIONS_ENDED = b": this account's sessions have ended\n\n"


def sse_event(event: BuildEvent) -> bytes:
    data = json.dumps(
        {'seq': event.seq, 'at': event.at.isoformat(), 'type': event.type, 'payload': event.payload()},
        ensure_ascii=False,
        separators=(',', ':'),
    )
    return f'id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n'.encode()


async def event_stream(
    log: EventLog,
    job_id: uuid.UUID,
    after: int,
    heartbeat_s: float,
    ended: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body: every event after `after` until `build.done`, a comment when `heartbeat_s` pass quietly.
    `ended` returns True when the caller's account is suspended: the stream then ends at once (a reconnect is
    refused, its tokens being revoked)."""
    opened = utcnow()
    yield f'retry: {RETRY_MS}\n\n'.encode()
    ending = asyncio.ensure_future(ended()) if ended else None
    async with aclosing(log.follow(job_id, after, until_done=True)) as events:
        upcoming: asyncio.Task[BuildEvent] | None = None
        try:
            while True:
                upcoming = upcoming or asyncio.ensure_future(anext(events))
                watched = {upcoming} if ending is None or ending.done() else {upcoming, ending}
                done, _ = await asyncio.wait(watched, timeout=heartbeat_s, return_when=asyncio.FIRST_COMPLETED)
                if ending in done and _suspended(ending):
                    yield SESSIONS_ENDED
                    return
                if upcoming not in done:
                    if not done:
                        yield b': heartbeat\n\n'
                    continue
                try:
                    event = upcoming.result()
                except StopAsyncIteration:
                    return
                upcoming = None
                yield sse_event(event)
                if event.at >= opened:
                    metrics.observe_push('sse', event.at, utcnow())
        finally:
            if ending is not None and not ending.done():
                ending.cancel()
            if upcoming is not None and not upcoming.done():  # the follower must be idle before it is closed
                upcoming.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await upcoming


def _suspended(ending: asyncio.Future[bool]) -> bool:
    """Whether the account watch ended because the account did (not because it failed or the notifier closed)."""
    if ending.cancelled() or ending.exception() is not None:
        return False
    return ending.result()


def resume_point(last_event_id: str | None, after: int | None) -> int:
    """Where to resume: Last-Event-ID (a reconnecting client) wins over ?after=; 0 replays everything."""
    if last_event_id is not None and last_event_id.strip():
        try:
            seq = int(last_event_id)
        except ValueError:
            raise HTTPException(422, 'Last-Event-ID must be the seq of an event (a whole number).') from None
        if seq < 0:
            raise HTTPException(422, 'Last-Event-ID must not be negative.')
        return seq
    return after or 0


def add_event_routes(router: APIRouter, ctx: ApiContext) -> None:
    svc = ctx.svc

    @router.get(
        '/builds/{build_id}/events',
        response_class=StreamingResponse,
        tags=['builds'],
        responses={
            **ERRORS,
            200: {'content': {EVENT_STREAM: {}}, 'description': 'id: seq, event: type, data: the event as JSON'},
        },
    )
    async def build_events(
        build_id: str,
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_documented_bearer)],
        after: Annotated[int | None, Query(ge=0, description='Replay events after this seq')] = None,
        last_event_id: Annotated[str | None, Header(description='Set by a reconnecting client')] = None,
    ) -> StreamingResponse:
        """The build's events as Server-Sent Events: replay after `after` (or Last-Event-ID), then live; the
        stream ends after `build.done`. Heartbeat comments keep it open while nothing happens."""
        user = await api_user(ctx, request)
        start = resume_point(last_event_id, after)
        async with svc.sessions() as session:
            with domain_errors():
                job = await jobs.get_build(session, user=user, job_id=build_id)
        bind_log_context(build_id=job.id)
        headers = {'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no'}
        if BuildState(job.state) in TERMINAL and start >= job.last_seq:
            return StreamingResponse(
                iter([f'retry: {RETRY_MS}\n\n'.encode()]), media_type=EVENT_STREAM, headers=headers
            )
        body = event_stream(svc.events, job.id, start, ctx.heartbeat_s, ended=partial(until_ended, svc, user.id))
        return StreamingResponse(body, media_type=EVENT_STREAM, headers=headers)
