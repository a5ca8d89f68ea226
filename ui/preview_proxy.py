"""/preview/{job_id}/… — the generated app, reverse-proxied for its owner only (B-6, OPS-5).

The owner's request (session cookie) is redirected to a capability URL carrying a signed token
(`core/builds/preview.py`: minutes long, renewed while the frame is used, revoked by logout, suspension
and a newer build of the project). Everything under it is served with `Content-Security-Policy: sandbox`,
so the generated app runs in an opaque origin: it cannot read the founder's session or call the app's
pages as them.

Because that origin is opaque, the app's own module scripts and fetches are cross-origin requests: responses
allow any origin and preflights are answered here (the grant is the token in the path; no cookie passes), and
every page gets a storage stand-in first (ui/preview_shim.py). The app's URLs are moved under the prefix by
ui/preview_rebase.py (`X-Forwarded-Prefix` tells apps that honour it); its WebSockets go through
ui/preview_socket.py.

Bodies stream both ways (HTML and CSS, and a Vite dev server's JavaScript, are read whole to be rewritten),
capped at PREVIEW_MAX_BODY_MB: a larger request gets 413, a larger response 502.
Paths with control characters or `..` get 400. Every response is built for its request (a shared
response object once carried another request's `content-encoding`), and hop-by-hop and
server-identifying headers (`Server`, `X-Powered-By`) are dropped both ways.

Serving a running preview records that it was viewed (at most once a minute per job), so the idle-preview
job (jobs/housekeeping.py) pauses only the previews nobody is looking at.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator

import httpx
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from nicegui import app
from starlette.background import BackgroundTask

from core import accounts
from core.builds.preview import link_valid, mark_preview_viewed, preview_token, refreshed_token
from core.models import BuildJob
from core.ports import SandboxError
from core.services import Services
from ui.preview_rebase import Rebase, base_path, upstream_url
from ui.preview_shim import with_storage_shim

SANDBOX_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads'
HOP_HEADERS = frozenset({
    'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'transfer-encoding',
    'te', 'trailer', 'upgrade', 'content-length', 'content-encoding', 'host',
})  # fmt: skip
REQUEST_DROP = HOP_HEADERS | {'cookie', 'authorization', 'accept-encoding', 'x-forwarded-for', 'forwarded',
                               'x-forwarded-prefix'}  # fmt: skip
RESPONSE_DROP = HOP_HEADERS | {'set-cookie', 'content-security-policy', 'server', 'x-powered-by', 'via',
                               'x-aspnet-version', 'x-aspnetmvc-version', 'x-runtime'}  # fmt: skip
BAD_PATH = re.compile(r'[\x00-\x1f\x7f\\]|(?:^|/)\.\.?(?:/|$)')
VIEW_MARK_EVERY_S = 60.0
logger = logging.getLogger(__name__)

PAUSED_PAGE = (
    '<!doctype html><meta charset="utf-8"><title>Preview paused</title><body style="font-family:sans-serif;'
    'display:grid;place-items:center;height:90vh;color:#334155"><div style="text-align:center">'
    '<h2>Preview paused</h2><p>The app is not running right now. Go back to the build page and press '
    '<b>Resume</b> to start it again.</p></div>'
)


class _TooLarge(Exception):
    """The request body passed the cap while it streamed."""


def register(svc: Services) -> None:
    client = httpx.AsyncClient(timeout=30.0, follow_redirects=False)
    app.on_shutdown(client.aclose)
    secret = svc.settings.storage_secret()
    lifetime_s = svc.settings.PREVIEW_LINK_MINUTES * 60
    cap = svc.settings.PREVIEW_MAX_BODY_MB << 20
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
        methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
        include_in_schema=False,
    )
    async def preview(job_id: str, path: str, request: Request) -> Response:
        if BAD_PATH.search(path):
            return _plain(400, 'Bad request: this path cannot be passed to the preview.')
        job = await preview_job(svc, job_id)
        if job is None:
            return _not_found()
        if path.startswith('t/'):
            token, _, rest = path[2:].partition('/')
            if not await link_valid(svc.sessions, secret, job, token):
                return _not_found()
            if _preflight(request):
                return _preflight_answer(request)
            fresh = refreshed_token(secret, job.id, token, lifetime_s=lifetime_s) if _page_load(request) else None
            if fresh:  # the frame is in use: the next page carries a renewed link (same grant)
                return _redirect(f'/preview/{job.id}/t/{fresh}/{rest}', request)
            await note_view(job)
            return await _forward(client, job, rest, request, prefix=f'/preview/{job.id}/t/{token}/', svc=svc, cap=cap)
        async with svc.sessions() as session:
            user = await accounts.active_user(session, app.storage.user.get('user_id'))
        if user is None or user.id != job.user_id:
            return _not_found()
        return _redirect(f'/preview/{job.id}/t/{preview_token(secret, job.id, lifetime_s=lifetime_s)}/{path}', request)


async def preview_job(svc: Services, job_id: str) -> BuildJob | None:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        return None
    async with svc.sessions() as session:
        return await session.get(BuildJob, key)


async def _forward(
    client: httpx.AsyncClient, job: BuildJob, path: str, request: Request, *, prefix: str, svc: Services, cap: int
) -> Response:
    if not job.preview_url or job.preview_state != 'running':
        return _paused()
    try:  # an E2B sandbox: its edge address and token, added here and never sent to the browser
        base, extra = await svc.preview_upstream(job.sandbox_id, job.preview_url)
    except SandboxError:
        return _paused()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in REQUEST_DROP} | extra
    headers['X-Forwarded-Prefix'] = prefix.rstrip('/')  # apps that honour it (NiceGUI) write their links under it
    try:
        content = await _request_body(request, headers, cap)
        outgoing = client.build_request(request.method, upstream_url(base, path), params=request.query_params,
                                        headers=headers, content=content)  # fmt: skip
        upstream = await client.send(outgoing, stream=True)
    except _TooLarge:
        return _plain(413, f'The request is larger than the preview accepts ({cap >> 20} MB).')
    except httpx.InvalidURL:
        return _plain(400, 'Bad request: this path cannot be passed to the preview.')
    except httpx.HTTPError:
        return _paused()
    return await _response(upstream, Rebase(prefix, base_path(base)), cap)


async def _request_body(request: Request, headers: dict[str, str], cap: int) -> AsyncIterator[bytes] | bytes | None:
    """The body to send upstream: streamed when its length is declared, else read (up to the cap), else none."""
    declared = request.headers.get('content-length')
    if declared is not None:
        if not declared.isdigit() or int(declared) > cap:
            raise _TooLarge
        headers['content-length'] = declared
        return _capped(request.stream(), cap)
    if 'chunked' not in request.headers.get('transfer-encoding', '').lower():
        return None
    body = bytearray()
    async for chunk in _capped(request.stream(), cap):
        body += chunk  # a chunked upload has no length; the generated app (http.server) needs one
    return bytes(body)


async def _capped(chunks: AsyncIterator[bytes], cap: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        yield chunk


async def _response(upstream: httpx.Response, rebase: Rebase, cap: int) -> Response:
    """The app's answer for the browser: headers filtered, links moved under the prefix, anything else streamed."""
    out = {k: v for k, v in upstream.headers.items() if k.lower() not in _dropped(upstream.headers)}
    if 'location' in out:
        out['location'] = rebase.location(out['location'])
    out['Content-Security-Policy'] = SANDBOX_CSP
    out['Cache-Control'] = 'no-store'
    # The app runs in an opaque origin, so even its own module scripts and fetches are cross-origin requests.
    out['Access-Control-Allow-Origin'] = '*'
    declared = upstream.headers.get('content-length', '')
    content_type = upstream.headers.get('content-type', '')
    if declared.isdigit() and int(declared) > cap:
        await upstream.aclose()
        return _plain(502, f'The app answered with more than the preview passes ({cap >> 20} MB).')
    if not rebase.rewrites(content_type):
        return StreamingResponse(_stream(upstream, cap), status_code=upstream.status_code, headers=out,
                                 background=BackgroundTask(upstream.aclose))  # fmt: skip
    try:
        body = bytearray()
        async for chunk in upstream.aiter_bytes():
            body += chunk
            if len(body) > cap:
                return _plain(502, f'The app answered with more than the preview passes ({cap >> 20} MB).')
    except httpx.HTTPError:
        return _paused()
    finally:
        await upstream.aclose()
    data = rebase.body(bytes(body), content_type)
    if 'text/html' in content_type.lower():
        data = with_storage_shim(data)
    return Response(data, status_code=upstream.status_code, headers=out)


async def _stream(upstream: httpx.Response, cap: int) -> AsyncIterator[bytes]:
    """The decoded body, chunk by chunk; an undeclared body past the cap is cut off there."""
    sent = 0
    try:
        async for chunk in upstream.aiter_bytes():
            sent += len(chunk)
            if sent > cap:
                logger.warning('preview response cut off at %d MB', cap >> 20)
                return
            yield chunk
    except httpx.HTTPError:
        return
    finally:
        await upstream.aclose()


def _dropped(headers: httpx.Headers) -> set[str]:
    """Hop-by-hop headers, including those the `Connection` header names, and what identifies the server."""
    named = {name.strip().lower() for value in headers.get_list('connection') for name in value.split(',')}
    return RESPONSE_DROP | named


def _preflight(request: Request) -> bool:
    return request.method == 'OPTIONS' and 'access-control-request-method' in request.headers


def _preflight_answer(request: Request) -> Response:
    """CORS preflight for the app's own requests (its origin is opaque), answered here: the app never sees it."""
    headers = {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': request.headers['access-control-request-method'],
        'Access-Control-Max-Age': '600',
    }
    if asked := request.headers.get('access-control-request-headers'):
        headers['Access-Control-Allow-Headers'] = asked
    return Response(status_code=204, headers=headers)


def _page_load(request: Request) -> bool:
    """A document the frame navigates to (the moment a renewed link can be handed over by a redirect)."""
    if request.method != 'GET':
        return False
    dest = request.headers.get('sec-fetch-dest')
    return dest in ('document', 'iframe') if dest else 'text/html' in request.headers.get('accept', '')


def _redirect(target: str, request: Request) -> Response:
    query = f'?{request.url.query}' if request.url.query else ''
    return RedirectResponse(target + query, status_code=307)


def _not_found() -> Response:
    return HTMLResponse('<h1>Not found</h1>', status_code=404)


def _plain(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type='text/plain; charset=utf-8')


def _paused() -> Response:
    return HTMLResponse(PAUSED_PAGE, status_code=503, headers={'Content-Security-Policy': SANDBOX_CSP})
