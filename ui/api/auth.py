"""Who calls the API: a bearer token resolved to its founder, once per request, then the founder's rate limit.

Refusals say why without telling anything about other accounts: no or unknown token 401, revoked 401,
suspended founder 403, too many requests 429 with Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from core import api_tokens, metrics
from core.api_tokens import RateLimiter
from core.models import User
from core.observability import bind_log_context
from core.services import Services

HEARTBEAT_S = 15.0  # an SSE comment this often keeps proxies from closing a quiet stream
MESSAGES = {
    'missing': 'Send an API token: "Authorization: Bearer <token>". Create one on your account page.',
    'unknown': 'This API token is not valid.',
    'revoked': 'This API token was revoked.',
    'suspended': 'This account is suspended.',
}


@dataclass
class ApiContext:
    svc: Services
    limiter: RateLimiter = field(default_factory=RateLimiter)
    heartbeat_s: float = HEARTBEAT_S


def bearer(request: Request) -> str | None:
    scheme, _, secret = request.headers.get('authorization', '').partition(' ')
    return secret.strip() or None if scheme.lower() == 'bearer' else None


async def api_user(ctx: ApiContext, request: Request) -> User:
    """The founder the request's token acts for; raises the refusal otherwise."""
    async with ctx.svc.sessions() as session:
        found = await api_tokens.authenticate(session, bearer(request))
    if found.refused is not None or found.user is None:
        reason = found.refused or 'unknown'
        metrics.count_api_refusal(reason)
        status = 403 if reason == 'suspended' else 401
        headers = {'WWW-Authenticate': 'Bearer'} if status == 401 else None
        raise HTTPException(status, MESSAGES[reason], headers=headers)
    wait = ctx.limiter.take(str(found.token_id))
    if wait > 0:
        metrics.count_api_refusal('rate_limited')
        raise HTTPException(
            429, 'Too many requests with this token: slow down.', headers={'Retry-After': str(max(1, math.ceil(wait)))}
        )
    bind_log_context(user_id=found.user.id)
    return found.user
