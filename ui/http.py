"""Plain HTTP endpoints (no pages): /healthz (cheap: the process and its database answer, for load balancers),
/readyz (every integration checked for real, 503 when a required one fails), /metrics (Prometheus text), the API
(`ui/api`), and middleware: security headers and HTTP request metrics on every response."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from nicegui import app
from starlette.middleware.base import BaseHTTPMiddleware

from core import metrics
from core.observability import database_reachable, refresh_build_gauges, start_loop_lag_watch
from core.services import Services

logger = logging.getLogger(__name__)
LIVENESS_TIMEOUT_S = 3.0

# NiceGUI's Vue runtime compiles templates in the browser, hence 'unsafe-eval'.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: {img}; font-src 'self' data:; connect-src 'self' ws: wss:; frame-src 'self'; "
    "frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app, csp: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.csp = csp

    async def dispatch(self, request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault('Content-Security-Policy', self.csp)
        response.headers.setdefault('X-Content-Type-Options', 'nosniff')
        response.headers.setdefault('Referrer-Policy', 'same-origin')
        response.headers.setdefault('X-Frame-Options', 'SAMEORIGIN')
        response.headers.setdefault('Permissions-Policy', 'camera=(), microphone=(), geolocation=()')
        return response


class RequestMetrics:
    """Counts every HTTP request by route template (not the raw path: ids would make a series each), method and
    status, and times it to the start of the response. Plain ASGI, so streamed responses pass untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        started, answered = time.perf_counter(), False

        async def sending(message: dict[str, Any]) -> None:
            nonlocal answered
            if message['type'] == 'http.response.start' and not answered:
                answered = True
                metrics.count_http(_route(scope), scope['method'], message['status'], time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not answered:  # failed (or the client left) before any response
                metrics.count_http(_route(scope), scope['method'], 500, time.perf_counter() - started)


def _route(scope: dict[str, Any]) -> str:
    route = scope.get('route')
    return getattr(route, 'path', None) or 'unmatched'


def register(svc: Services) -> None:
    from ui import api

    app.add_middleware(SecurityHeaders, csp=CSP.format(img=svc.settings.S3_PUBLIC_URL or '').replace('  ', ' '))
    app.add_middleware(RequestMetrics)
    api.register(svc)
    watching: list[asyncio.Task[None]] = []
    app.on_startup(lambda: watching.append(start_loop_lag_watch()))
    app.on_shutdown(lambda: [task.cancel() for task in watching])

    @app.get('/healthz', include_in_schema=False)
    async def healthz() -> JSONResponse:
        """Liveness for load balancers: this process answers and reaches its database; nothing else is called."""
        try:
            await asyncio.wait_for(database_reachable(svc.sessions), LIVENESS_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - any failure means "not serving"
            logger.warning('healthz: the database did not answer: %s', type(error).__name__)
            return JSONResponse({'status': 'failing', 'database': False}, status_code=503)
        return JSONResponse({'status': 'ok', 'database': True})

    @app.get('/readyz', include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Readiness: every integration checked for real (cached briefly); 503 when a required one fails."""
        report = await svc.health.report()
        return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)

    @app.get('/metrics', include_in_schema=False)
    async def metrics_text() -> Response:
        await refresh_build_gauges(svc.sessions)
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
