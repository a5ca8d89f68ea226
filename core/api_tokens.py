"""Per-founder API tokens (OPS-4): created and named by the founder, shown once, stored as a SHA-256 hash,
listed with when each was last used, revoked; and a token bucket per token that rate-limits the API.

A token acts for its founder and sees exactly what they see: the API hands the founder it resolves to the
same core functions the pages call. A suspended founder's tokens are refused, as are revoked ones; suspending
revokes them (core/accounts.py), so unsuspending does not bring them back.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.accounts import normalise_email, require_active
from core.errors import InvalidInput, NotFound
from core.models import ApiToken, User, utcnow

PREFIX = 'cf_'  # tells a Cofounder token apart in a secret scanner or a script's config
SHOWN_CHARS = 10  # the start of the secret kept in clear, so the founder can tell tokens apart
MAX_NAME = 80
# Writing last_used_at on every request would make each API call a database write; a minute is precise
# enough for "last used" and keeps a busy script to one write a minute.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_name(name: str) -> str:
    cleaned = ' '.join((name or '').split())
    if not cleaned:
        raise InvalidInput('Give the token a name, so you know later what uses it.')
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f'A token name has at most {MAX_NAME} characters.')
    return cleaned


async def create_token(session: AsyncSession, *, user: User, name: str) -> NewToken:
    """A new token for `user`; its secret is in the result and nowhere else."""
    await require_active(session, user)  # the account page's `user` may be older than a suspension
    token_name = clean_name(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=token_name, token_hash=token_hash(secret), prefix=secret[:SHOWN_CHARS])
    session.add(token)
    await session.commit()
    await session.refresh(token)
    return NewToken(token, secret)


async def founder_by_email(session: AsyncSession, email: str) -> User | None:
    """The account with this email (for `main.py token`, run by whoever operates the server)."""
    return (await session.exec(select(User).where(User.email == normalise_email(email)))).first()


async def list_tokens(session: AsyncSession, *, user: User) -> list[ApiToken]:
    """The founder's tokens still in force, newest first (revoked ones are gone for good)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked).is_(False))
    return list((await session.exec(query.order_by(col(ApiToken.created_at).desc()))).all())


async def revoke_token(session: AsyncSession, *, user: User, token_id: uuid.UUID | str) -> None:
    """Revoke one of `user`'s tokens at once; another founder's (or an unknown) token is NotFound."""
    try:
        token = await session.get(ApiToken, uuid.UUID(str(token_id)))
    except ValueError:
        token = None
    if token is None or token.user_id != user.id or token.revoked:
        raise NotFound('That token')
    token.revoked = True
    await session.commit()


Refusal = Literal['missing', 'unknown', 'revoked', 'suspended']


@dataclass(frozen=True)
class Authenticated:
    user: User | None
    token_id: uuid.UUID | None
    refused: Refusal | None = None


async def authenticate(session: AsyncSession, secret: str | None, *, now: datetime | None = None) -> Authenticated:
    """The founder a presented secret acts for, or why it is refused."""
    if not secret:
        return Authenticated(None, None, 'missing')
    token = (await session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))).first()
    if token is None:
        return Authenticated(None, None, 'unknown')
    user = await session.get(User, token.user_id)
    if user is None or user.suspended:  # said before 'revoked': suspending revokes, and this is the reason
        return Authenticated(None, token.id, 'suspended')
    if token.revoked:
        return Authenticated(None, token.id, 'revoked')
    now = now or utcnow()
    last = token.last_used_at
    if last is None or now - _aware(last) >= LAST_USED_EVERY:
        token.last_used_at = now
        await session.commit()
    return Authenticated(user, token.id)


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per key (an API token's id), in this process: `rate` requests a second on average,
    bursts of up to `burst`. Enough for one app process; several processes each keep their own buckets."""

    rate: float = 5.0
    burst: int = 60
    clock: Callable[[], float] = time.monotonic  # injectable: tests move time instead of sleeping
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str) -> float:
        """Take one request from `key`'s bucket: 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate
