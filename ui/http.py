"""Plain HTTP endpoints (no pages): /healthz, and security headers on every response."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from nicegui import app
from starlette.middleware.base import BaseHTTPMiddleware

from core.services import Services

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


def register(svc: Services) -> None:
    app.add_middleware(SecurityHeaders, csp=CSP.format(img=svc.settings.S3_PUBLIC_URL or '').replace('  ', ' '))

    @app.get('/healthz', include_in_schema=False)
    async def healthz() -> JSONResponse:
        report = await svc.health.report()
        return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)
