"""/preview/{job_id}/… — the generated app, reverse-proxied for its owner only (B-6, OPS-5).

The owner's request (session cookie) is redirected to a capability URL carrying a signed token.
Everything under it is served with `Content-Security-Policy: sandbox`, so the generated app runs in
an opaque origin: it cannot read the founder's session or call the app's pages as them.

Serving a running preview records that it was viewed (at most once a minute per job), so the idle-preview
job (jobs/housekeeping.py) pauses only the previews nobody is looking at.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import httpx
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import app

from core import accounts
from core.builds.preview import mark_preview_viewed, preview_token, token_valid
from core.models import BuildJob
from core.services import Services

SANDBOX_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads'
HOP_HEADERS = {
    'connection',
    'keep-alive',
    'transfer-encoding',
    'te',
    'trailer',
    'upgrade',
    'content-length',
    'content-encoding',
    'host',
    'cookie',
    'authorization',
    'set-cookie',
}
ABSOLUTE_REF = re.compile(rb"""((?:href|src|action)\s*=\s*["'])/(?!/)""", re.IGNORECASE)
CSS_URL = re.compile(rb"""(url\(\s*["']?)/(?!/)""", re.IGNORECASE)
MAX_BODY = 20 * 1024 * 1024
VIEW_MARK_EVERY_S = 60.0
logger = logging.getLogger(__name__)

NOT_FOUND = HTMLResponse('<h1>Not found</h1>', status_code=404)
PAUSED_PAGE = (
    '<!doctype html><meta charset="utf-8"><title>Preview paused</title><body style="font-family:sans-serif;'
    'display:grid;place-items:center;height:90vh;color:#334155"><div style="text-align:center">'
    '<h2>Preview paused</h2><p>The app is not running right now. Go back to the build page and press '
    '<b>Resume</b> to start it again.</p></div>'
)


def register(svc: Services) -> None:
    client = httpx.AsyncClient(timeout=30.0, follow_redirects=False)
    app.on_shutdown(client.aclose)
    secret = svc.settings.storage_secret()
    marked: dict[uuid.UUID, float] = {}  # job → when this process last recorded a view (monotonic)

    async def note_view(job: BuildJob) -> None:
        now = time.monotonic()
        last = marked.get(job.id)
        if job.preview_state != 'running' or (last is not None and now - last < VIEW_MARK_EVERY_S):
            return
        if len(marked) > 10_000:  # forget what no longer throttles anything
            for stale in [k for k, at in marked.items() if now - at >= VIEW_MARK_EVERY_S]:
                del marked[stale]
        marked[job.id] = now
        try:
            await mark_preview_viewed(svc.sessions, job.id)
        except Exception:  # noqa: BLE001 — a missed view costs at most a pause; the preview must still load
            logger.warning('could not record a view of the preview of build %s', job.id, exc_info=True)

    @app.api_route(
        '/preview/{job_id}/{path:path}',
        methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'],
        include_in_schema=False,
    )
    async def preview(job_id: str, path: str, request: Request) -> Response:
        job = await _job(svc, job_id)
        if job is None:
            return NOT_FOUND
        if path.startswith('t/'):
            token, _, rest = path[2:].partition('/')
            if not token_valid(secret, job.id, token):
                return NOT_FOUND
            await note_view(job)
            return await _forward(client, job, rest, request, prefix=f'/preview/{job.id}/t/{token}/')
        async with svc.sessions() as session:
            user = await accounts.active_user(session, app.storage.user.get('user_id'))
        if user is None or user.id != job.user_id:
            return NOT_FOUND
        query = f'?{request.url.query}' if request.url.query else ''
        return RedirectResponse(f'/preview/{job.id}/t/{preview_token(secret, job.id)}/{path}{query}', status_code=307)


async def _job(svc: Services, job_id: str) -> BuildJob | None:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        return None
    async with svc.sessions() as session:
        return await session.get(BuildJob, key)


async def _forward(client: httpx.AsyncClient, job: BuildJob, path: str, request: Request, *, prefix: str) -> Response:
    if not job.preview_url or job.preview_state != 'running':
        return _paused()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
    url = f'{job.preview_url.rstrip("/")}/{path}'
    try:
        upstream = await client.request(
            request.method, url, params=request.query_params, headers=headers, content=await request.body()
        )
    except httpx.HTTPError:
        return _paused()
    body = upstream.content[:MAX_BODY]
    content_type = upstream.headers.get('content-type', '')
    if 'text/html' in content_type:
        body = ABSOLUTE_REF.sub(lambda m: m.group(1) + prefix.encode(), body)
    if 'text/html' in content_type or 'text/css' in content_type:
        body = CSS_URL.sub(lambda m: m.group(1) + prefix.encode(), body)
    out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS | {'content-security-policy'}}
    if 'location' in out and out['location'].startswith('/') and not out['location'].startswith('//'):
        out['location'] = prefix + out['location'].lstrip('/')
    out['Content-Security-Policy'] = SANDBOX_CSP
    out['Cache-Control'] = 'no-store'
    return Response(body, status_code=upstream.status_code, headers=out)


def _paused() -> Response:
    return HTMLResponse(PAUSED_PAGE, status_code=503, headers={'Content-Security-Policy': SANDBOX_CSP})
