"""The JSON API under /api/v1/ (OPS-4), served by NiceGUI's FastAPI app, documented at /openapi.json.

Authenticated by the founder's API tokens (`core/api_tokens.py`, managed on the account page); each route
calls the same core function as the matching button. The schema lists the API's routes only: the pages and
NiceGUI's own routes are left out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from core.api_tokens import RateLimiter
from core.services import Services
from ui.api.auth import HEARTBEAT_S, ApiContext
from ui.api.events import add_event_routes
from ui.api.routes import add_routes

PREFIX = '/api/v1'
DESCRIPTION = (
    'Follow and drive your Cofounder builds from other tools. Authenticate with an API token from your account '
    'page: `Authorization: Bearer <token>`. A token sees exactly what you see; ids of anything else answer 404. '
    'Requests are rate-limited per token (429 with Retry-After).'
)


def api_router(svc: Services, *, limiter: RateLimiter | None = None, heartbeat_s: float = HEARTBEAT_S) -> APIRouter:
    router = APIRouter(prefix=PREFIX)
    ctx = ApiContext(svc, limiter or RateLimiter(), heartbeat_s)
    add_routes(router, ctx)
    add_event_routes(router, ctx)
    return router


def add_openapi(app: FastAPI, router: APIRouter) -> None:
    """GET /openapi.json: the schema of `router`'s routes (the API) only, built once on first request."""
    schema: dict[str, Any] = {}

    @app.get('/openapi.json', include_in_schema=False)
    async def openapi() -> JSONResponse:
        if not schema:
            schema.update(
                get_openapi(title='Cofounder API', version='1', description=DESCRIPTION, routes=router.routes)
            )
        return JSONResponse(schema)


def register(svc: Services) -> None:
    from nicegui import app

    from ui.components import api_tokens

    api_tokens.register(svc)  # /account/tokens, where founders manage their tokens
    router = api_router(svc)
    app.include_router(router)
    add_openapi(app, router)
