"""Previews of a built app (B-5, B-6): owner-only links, resume after a pause or restart, pause when idle.

A paused preview comes back by itself when its owner opens the build page (`auto_resume_due`): after a restart
every local preview is paused (jobs/recovery.py), and a Resume click per preview was a chore, not a choice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
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

LINK_MAX_AGE_S = 12 * 3600  # a link refreshed while in use still dies this long after the owner was granted it
VIEW_MARK_EVERY = timedelta(minutes=1)  # a preview's last view is written at most this often
_jobs = cast(Table, BuildJob.__table__)  # type: ignore[attr-defined]
_users = cast(Table, User.__table__)  # type: ignore[attr-defined]


def preview_path(job: BuildJob) -> str:
    """The owner's entry to the preview; it answers with a redirect to a capability URL."""
    return f'/preview/{job.id}/'


# ── capability links ─────────────────────────────────────────────────────────────────────────
# The sandboxed preview frame has no cookies, so its URLs carry a signed token `grant.expires.signature`
# (milliseconds): `grant` is when the owner's session was exchanged for it, `expires` a few minutes later.
# While the frame is used, a page load past half the lifetime is redirected to a fresh token with the same
# grant (`refreshed_token`), up to LINK_MAX_AGE_S. A link dies sooner when its owner logs out or is
# suspended (`revoke_user_previews`) and when a newer build of its project starts (`link_valid`).


def preview_token(secret: str, job_id: uuid.UUID, *, lifetime_s: float, now: float | None = None) -> str:
    """A fresh capability token for the owner of job_id (granted now)."""
    now_ms = _ms(now)
    return _token(secret, job_id, now_ms, now_ms + int(lifetime_s * 1000))


def token_valid(secret: str, job_id: uuid.UUID, token: str, *, now: float | None = None) -> bool:
    """The signature matches and the token has neither expired nor outlived LINK_MAX_AGE_S (no revocation check)."""
    parsed = _parse(token)
    if parsed is None:
        return False
    grant, expires, signature = parsed
    now_ms = _ms(now)
    if expires < now_ms or now_ms - grant > LINK_MAX_AGE_S * 1000:
        return False
    return hmac.compare_digest(signature, _sign(secret, job_id, grant, expires))


def refreshed_token(
    secret: str, job_id: uuid.UUID, token: str, *, lifetime_s: float, now: float | None = None
) -> str | None:
    """A token with the same grant and a new expiry when this (valid) one is past half its lifetime, else None."""
    parsed = _parse(token)
    now_ms = _ms(now)
    if parsed is None or parsed[1] - now_ms > lifetime_s * 500:
        return None
    return _token(secret, job_id, parsed[0], now_ms + int(lifetime_s * 1000))


async def link_valid(
    sessions: SessionFactory, secret: str, job: BuildJob, token: str, *, now: float | None = None
) -> bool:
    """token_valid, and not revoked: granted after the owner's last logout or suspension and not before the
    newest build of the project started."""
    if not token_valid(secret, job.id, token, now=now):
        return False
    grant = datetime.fromtimestamp(_parse(token)[0] / 1000, UTC)  # type: ignore[index]
    newest = select(func.max(_jobs.c.queued_at)).where(_jobs.c.project_id == job.project_id).scalar_subquery()
    async with engine_of(sessions).connect() as conn:
        row = (
            await conn.execute(select(_users.c.previews_revoked_at, newest).where(_users.c.id == job.user_id))
        ).first()
    if row is None:
        return False
    revoked_at, newest_build_at = (_aware(v) for v in row)
    if revoked_at is not None and grant <= revoked_at:
        return False
    return newest_build_at is None or grant >= newest_build_at.replace(
        microsecond=newest_build_at.microsecond // 1000 * 1000
    )


async def revoke_user_previews(sessions: SessionFactory, user_id: uuid.UUID, *, now: datetime | None = None) -> None:
    """Every preview link the founder holds stops opening (logout, suspension); their next view gets a new one."""
    async with transaction(sessions) as session:
        await session.execute(update(_users).where(_users.c.id == user_id).values(previews_revoked_at=now or utcnow()))


def _token(secret: str, job_id: uuid.UUID, grant: int, expires: int) -> str:
    return f'{grant}.{expires}.{_sign(secret, job_id, grant, expires)}'


def _parse(token: str) -> tuple[int, int, str] | None:
    grant, expires, signature = (token.split('.') + ['', '', ''])[:3]
    if not (grant.isdigit() and expires.isdigit() and len(grant) < 16 and len(expires) < 16 and signature):
        return None
    return int(grant), int(expires), signature


def _sign(secret: str, job_id: uuid.UUID, grant: int, expires: int) -> str:
    message = f'preview:{job_id}:{grant}:{expires}'.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def _ms(now: float | None) -> int:
    return int((time.time() if now is None else now) * 1000)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive (they are stored in UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def auto_resume_due(job: BuildJob) -> bool:
    """Whether opening this build's page should bring its preview back without a click: a READY build whose
    preview is paused (idle, or stopped by a restart) or was never started, and whose workspace is known."""
    return job.state == BuildState.READY and job.preview_state in ('paused', 'none') and bool(job.sandbox_id)


class _ResumeTurns:
    """One resume per build at a time in this process: two tabs opening the page at once must not start the
    app twice (the second finds it running and reuses its address)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, job_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(job_id, (asyncio.Lock(), 0))
        self._locks[job_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[job_id]
            if users <= 1:
                del self._locks[job_id]
            else:
                self._locks[job_id] = (lock, users - 1)


_resume_turns = _ResumeTurns()


async def resume_preview(
    session: AsyncSession,
    *,
    user: User,
    job_id: uuid.UUID | str,
    sandboxes: SandboxProvider,
) -> BuildJob:
    """Restart the app of a READY build (its dev server relaunches); Conflict when the sandbox is gone."""
    async with _resume_turns.turn(str(job_id)):
        return await _resume(session, user=user, job_id=job_id, sandboxes=sandboxes)


async def _resume(
    session: AsyncSession, *, user: User, job_id: uuid.UUID | str, sandboxes: SandboxProvider
) -> BuildJob:
    job = await get_build(session, user=user, job_id=job_id)
    await session.refresh(job)  # another turn may have resumed it while this one waited
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
