"""Users, password hashing, roles, suspension and API tokens (J-1, AD-1, OPS-4)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import login_throttle
from core.errors import Forbidden, InvalidInput, NotFound, Suspended
from core.models import ApiToken, PasswordReset, Tier, User, utcnow

ROLES = ('founder', 'admin')
MIN_PASSWORD = 10
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
COMMON_PASSWORDS = {'password123', '1234567890', 'qwertyuiop', 'password1234', 'letmein1234', 'iloveyou12'}

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
# Verifying against a throwaway hash when the email is unknown keeps login timing uniform.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class LoginFailed(InvalidInput):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, *, email: str = '') -> None:
    """Raise InvalidInput with a clear reason when the password is weak."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f'Use at least {MIN_PASSWORD} characters for your password.')
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise InvalidInput('That password is too easy to guess: mix words, numbers or symbols.')
    local_part = email.split('@')[0]
    if len(local_part) >= 4 and local_part in password.lower():
        raise InvalidInput('Your password should not contain your email address.')


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def sign_up(session: AsyncSession, *, email: str, password: str, admin_email: str | None = None) -> User:
    """Create a founder account; the first account (or ADMIN_EMAIL) becomes admin."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput('Enter a valid email address, like you@example.com.')
    check_password_strength(password, email=email)
    if await _by_email(session, email):
        raise InvalidInput('An account with this email already exists. Log in instead.')
    first = (await session.exec(select(func.count()).select_from(User))).one() == 0
    is_admin = first or (admin_email is not None and normalise_email(admin_email) == email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role='admin' if is_admin else 'founder',
        tier=await default_tier(session),
    )
    session.add(user)
    await session.commit()
    return user


async def log_in(session: AsyncSession, *, email: str, password: str, address: str | None = None) -> User:
    """Return the user, or raise LoginFailed with a message that does not reveal which part was wrong.

    Wrong passwords are throttled per account and per client `address` (TooManyAttempts says when to retry).
    """
    keys = login_throttle.Keys.of(normalise_email(email), address)
    await login_throttle.check_allowed(session, keys)
    user = await _by_email(session, normalise_email(email))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        await login_throttle.record_failure(session, keys)
        await session.commit()
        raise LoginFailed('Wrong email or password.') from None
    if user is None:
        raise LoginFailed('Wrong email or password.')
    if user.suspended:
        raise LoginFailed('This account is suspended. Contact your administrator.')
    await login_throttle.record_success(session, keys)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    await session.commit()
    return user


async def has_accounts(session: AsyncSession) -> bool:
    """Whether anyone signed up yet (a first visit to a fresh install goes to sign-up, not log-in)."""
    return (await session.exec(select(User.id).limit(1))).first() is not None


async def active_user(session: AsyncSession, user_id: uuid.UUID | str | None) -> User | None:
    """The signed-in user if they still exist and are not suspended."""
    if not user_id:
        return None
    try:
        user = await session.get(User, uuid.UUID(str(user_id)))
    except ValueError:
        return None
    return user if user and not user.suspended else None


_CHECKED = 'cofounder.active_user'  # session.info: this session already read the acting account


async def require_active(session: AsyncSession, user: User) -> None:
    """Refuse a suspended (or gone) account with `Suspended`, read from its row: the `user` a page holds was
    loaded when the page opened. One primary-key read per session, however many checks an action makes."""
    if session.info.get(_CHECKED) == user.id:
        return
    with session.no_autoflush:
        suspended = (await session.exec(select(User.suspended).where(User.id == user.id))).first()
    if suspended is None or suspended:
        raise Suspended()
    session.info[_CHECKED] = user.id


# ── ending an account's sessions (suspension) ─────────────────────────────────────────────────
# Core cannot reach the pages (it does not import ui): the serving process registers how to announce on a
# topic (its event log's `announce`, which crosses processes with Redis) and its pages listen on `ended_topic`.

Announce = Callable[[str], Awaitable[None]]
_announce: Announce | None = None


def ended_topic(user_id: uuid.UUID | str) -> str:
    """The notifier topic on which an account's open pages hear that its sessions ended."""
    return f'user:{user_id}:ended'


def set_announcer(announce: Announce | None) -> None:
    global _announce
    _announce = announce


async def _announce_ended(user_id: uuid.UUID) -> None:
    if _announce is not None:
        try:
            await _announce(ended_topic(user_id))
        except Exception:  # noqa: BLE001 — the suspension is committed; its pages' own next action is refused
            log.warning('could not announce the end of the sessions of %s', user_id, exc_info=True)


async def _end_access(session: AsyncSession, user: User) -> None:
    """On suspension: the preview links granted so far stop opening and the API tokens are revoked for good
    (unsuspending brings neither back: a suspension may follow a leak, so the founder makes new tokens)."""
    user.previews_revoked_at = utcnow()
    await session.execute(
        update(ApiToken).where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked).is_(False)).values(revoked=True)
    )


async def create_admin(session: AsyncSession, *, email: str, password: str) -> User:
    """Create an admin, or promote (and reset the password of) an existing account."""
    email = normalise_email(email)
    user = await _by_email(session, email)
    if user is None:
        user = await sign_up(session, email=email, password=password)
    else:
        check_password_strength(password, email=email)
        user.password_hash = hash_password(password)
    user.role, user.suspended = 'admin', False
    await session.commit()
    return user


async def _by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.exec(select(User).where(User.email == email))).first()


async def default_tier(session: AsyncSession) -> str:
    tier = (await session.exec(select(Tier).order_by(col(Tier.priority)))).first()
    return tier.name if tier else 'bootstrapper'


# ── a founder's own password (J-1) ───────────────────────────────────────────────────────────

WRONG_CURRENT = 'Your current password is not right.'
SAME_PASSWORD = 'Choose a new password, different from the current one.'


async def change_password(
    session: AsyncSession, *, user: User, current: str, new: str, address: str | None = None
) -> User:
    """Set a new password after checking the current one (wrong guesses count like wrong logins, so this page is
    no side door for guessing). Unused reset links stop working: they were for the old password."""
    account = await session.get(User, user.id)
    if account is None or account.suspended:
        raise Forbidden('This account cannot be changed.')
    keys = login_throttle.Keys.of(account.email, address)
    await login_throttle.check_allowed(session, keys)
    if not await asyncio.to_thread(_verifies, account.password_hash, current):  # argon2 is slow on purpose
        await login_throttle.record_failure(session, keys)
        await session.commit()
        raise InvalidInput(WRONG_CURRENT)
    if new == current:
        raise InvalidInput(SAME_PASSWORD)
    check_password_strength(new, email=account.email)
    account.password_hash = await asyncio.to_thread(hash_password, new)
    await login_throttle.record_success(session, keys)
    await session.execute(
        update(PasswordReset).where(col(PasswordReset.user_id) == account.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=utcnow())
    )  # fmt: skip
    await session.commit()
    return account


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


# ── admin (AD-1) ──────────────────────────────────────────────────────────────────────────────


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden('Only administrators can do that.')


async def list_users(session: AsyncSession, *, actor: User, search: str = '', limit: int = 200) -> list[User]:
    _require_admin(actor)
    query = select(User).order_by(col(User.created_at)).limit(limit)
    if search.strip():
        pattern = f'%{search.strip().lower()}%'
        query = query.where(or_(col(User.email).like(pattern), func.lower(User.display_name).like(pattern)))
    return list((await session.exec(query)).all())


async def update_user(
    session: AsyncSession,
    *,
    actor: User,
    user_id: uuid.UUID,
    role: str | None = None,
    tier: str | None = None,
    suspended: bool | None = None,
) -> User:
    """Change a user's role, tier or suspension. Admins cannot lock themselves out."""
    _require_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound('That user')
    if user.id == actor.id and (suspended or role == 'founder'):
        raise InvalidInput('You cannot suspend or demote yourself.')
    if role is not None:
        if role not in ROLES:
            raise InvalidInput(f'Unknown role {role!r}.')
        user.role = role
    if tier is not None:
        if await session.get(Tier, tier) is None:
            raise InvalidInput(f'Unknown tier {tier!r}.')
        user.tier = tier
    suspending = bool(suspended) and not user.suspended
    if suspended is not None:
        user.suspended = suspended
    if suspending:
        await _end_access(session, user)
        session.info.pop(_CHECKED, None)  # this session may have found the account active before
    await session.commit()
    if suspending:
        await _announce_ended(user.id)  # after the commit: a page that hears it reads the row and finds it suspended
    return user


# ── API tokens (OPS-4) ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_token(session: AsyncSession, *, user: User, name: str) -> NewToken:
    name = name.strip()[:80] or 'API token'
    secret = 'cf_' + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_token_hash(secret), prefix=secret[:10])
    session.add(token)
    await session.commit()
    return NewToken(token, secret)


async def user_for_token(session: AsyncSession, secret: str) -> User | None:
    token = (await session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))).first()
    if token is None or token.revoked:
        return None
    token.last_used_at = utcnow()
    await session.commit()
    return await active_user(session, token.user_id)


async def revoke_api_token(session: AsyncSession, *, user: User, token_id: uuid.UUID) -> None:
    token = await session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound('That token')
    token.revoked = True
    await session.commit()
