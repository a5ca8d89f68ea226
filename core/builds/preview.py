"""Previews of a built app (B-5, B-6): owner-only links, resume after a pause or restart, pause when idle."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.jobs import get_build
from core.builds.states import BuildState
from core.db import SessionFactory, engine_of, transaction
from core.errors import Conflict
from core.models import BuildJob, User, utcnow
from core.ports import SandboxError, SandboxProvider

log = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 12 * 3600
VIEW_MARK_EVERY = timedelta(minutes=1)  # a preview's last view is written at most this often
_jobs = cast(Table, BuildJob.__table__)  # type: ignore[attr-defined]


def preview_path(job: BuildJob) -> str:
    """The owner's entry to the preview; it answers with a redirect to a capability URL."""
    return f'/preview/{job.id}/'


def preview_token(secret: str, job_id: uuid.UUID, *, now: float | None = None) -> str:
    """A signed, expiring token: the sandboxed preview frame has no cookies, so its URLs carry this."""
    expires = int((now or time.time()) + TOKEN_LIFETIME_S)
    return f'{expires}.{_sign(secret, job_id, expires)}'


def token_valid(secret: str, job_id: uuid.UUID, token: str, *, now: float | None = None) -> bool:
    expires_text, _, signature = token.partition('.')
    if not expires_text.isdigit() or int(expires_text) < (now or time.time()):
        return False
    return hmac.compare_digest(signature, _sign(secret, job_id, int(expires_text)))


def _sign(secret: str, job_id: uuid.UUID, expires: int) -> str:
    return hmac.new(secret.encode(), f'preview:{job_id}:{expires}'.encode(), hashlib.sha256).hexdigest()[:40]


async def resume_preview(
    session: AsyncSession,
    *,
    user: User,
    job_id: uuid.UUID | str,
    sandboxes: SandboxProvider,
) -> BuildJob:
    """Restart the app of a READY build (its dev server relaunches); Conflict when the sandbox is gone."""
    job = await get_build(session, user=user, job_id=job_id)
    if job.state != BuildState.READY:
        raise Conflict('Only a finished build has a preview.')
    sandbox = await sandboxes.connect(job.sandbox_id) if job.sandbox_id else None
    if sandbox is None:
        job.preview_state = 'expired'
        await session.commit()
        raise Conflict('This preview has expired. Start a new build to bring the app back.')
    try:
        await sandbox.resume()
        url = await sandbox.app_url() or await sandbox.start_app()
    except SandboxError as error:
        raise Conflict('The app could not be started again. Try a new build.') from error
    # Resuming is looking at it: the idle-preview job counts from now.
    job.preview_url, job.preview_state, job.preview_viewed_at = url, 'running', utcnow()
    await session.commit()
    return job


async def mark_preview_viewed(sessions: SessionFactory, job_id: uuid.UUID, *, now: datetime | None = None) -> bool:
    """Record that the owner is looking at the preview; writes only when the last record is a minute old.

    The preview proxy calls it at most once a minute per job anyway; the condition keeps several
    processes (or a burst of assets) from writing more often. True when it wrote.
    """
    now = now or utcnow()
    seen = _jobs.c.preview_viewed_at
    async with transaction(sessions) as session:
        result = await session.execute(
            update(_jobs)
            .where(_jobs.c.id == job_id, or_(seen.is_(None), seen <= now - VIEW_MARK_EVERY))
            .values(preview_viewed_at=now)
        )
    return cast(CursorResult[Any], result).rowcount == 1


async def pause_idle_previews(
    sessions: SessionFactory, sandboxes: SandboxProvider, *, idle_for: timedelta, now: datetime | None = None
) -> list[uuid.UUID]:
    """Stop the app of every READY build whose running preview nobody viewed for `idle_for` (B-5).

    A preview never viewed counts from the moment the build was ready. The row turns 'paused' first (a
    guarded update, so a view that lands meanwhile keeps the preview running), then the app stops; the
    founder's Resume starts it again (`resume_preview`). A sandbox gone already makes the preview 'expired'.
    Returns the builds paused.
    """
    idle = _idle_since((now or utcnow()) - idle_for)
    async with engine_of(sessions).connect() as conn:
        candidates = (await conn.execute(select(_jobs.c.id, _jobs.c.sandbox_id).where(idle))).all()
    paused = []
    for job_id, sandbox_id in candidates:
        async with transaction(sessions) as session:
            result = await session.execute(
                update(_jobs).where(_jobs.c.id == job_id, idle).values(preview_state='paused')
            )
        if cast(CursorResult[Any], result).rowcount != 1:
            continue  # viewed or resumed meanwhile
        await _stop_app(sessions, sandboxes, job_id, sandbox_id)
        paused.append(job_id)
    if paused:
        log.info('paused %d idle preview(s)', len(paused))
    return paused


def _idle_since(cutoff: datetime) -> ColumnElement[bool]:
    last_seen = func.coalesce(_jobs.c.preview_viewed_at, _jobs.c.finished_at)
    return and_(_jobs.c.state == BuildState.READY.value, _jobs.c.preview_state == 'running', last_seen < cutoff)


async def _stop_app(
    sessions: SessionFactory, sandboxes: SandboxProvider, job_id: uuid.UUID, sandbox_id: str | None
) -> None:
    sandbox = await sandboxes.connect(sandbox_id) if sandbox_id else None
    if sandbox is None:
        async with transaction(sessions) as session:
            await session.execute(
                update(_jobs)
                .where(_jobs.c.id == job_id, _jobs.c.preview_state == 'paused')
                .values(preview_state='expired')
            )
        return
    try:
        await sandbox.pause()
    except Exception:  # noqa: BLE001 — the row says paused; Resume restarts the app either way
        log.warning('pausing the preview of build %s failed', job_id, exc_info=True)
