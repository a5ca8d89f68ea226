"""Previews of a built app (B-6): owner-only links, resume after a pause or restart."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from core.builds.jobs import get_build
from core.builds.states import BuildState
from core.errors import Conflict
from core.models import BuildJob, User
from core.ports import SandboxError, SandboxProvider

TOKEN_LIFETIME_S = 12 * 3600


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
    job.preview_url, job.preview_state = url, 'running'
    await session.commit()
    return job
