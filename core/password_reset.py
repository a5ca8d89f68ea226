"""Password reset links (J-1, AD-1): single-use, expiring, stored hashed.

With no mail server configured, the admin hands the link to the founder: it is shown to the admin once
(only its sha256 is kept), and issuing a new one retires the founder's earlier unused links. With one
(core/mail.py), a founder asks for a link by email on `/forgot` (`mail_link`): the answer is the same whether
the account exists or not, and one account gets at most one mailed link per MAIL_EVERY. `/reset/{token}`
(ui/pages/reset_password.py) lets the founder choose a new password with either.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, mail
from core.accounts import check_password_strength, hash_password, normalise_email
from core.errors import InvalidInput, NotFound
from core.models import PasswordReset, User, utcnow
from core.pacing import as_utc

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(hours=24)
MAILED_LINK_LIFETIME = timedelta(hours=1)  # a mailbox is a weaker place than an admin's hand-over
MAIL_EVERY = timedelta(minutes=5)  # so /forgot cannot flood someone's mailbox
ASKED = (
    'If an account uses that address, a link to choose a new password is on its way. It works once, '
    'for one hour. No mail? Check the spam folder, or ask your administrator for a link.'
)
INVALID = (
    'This reset link is not valid any more: it was used, replaced or has expired. Ask your administrator for a new one.'
)


@dataclass(frozen=True)
class IssuedLink:
    user: User
    token: str  # shown once, never stored
    expires_at: datetime

    def path(self) -> str:
        return f'/reset/{self.token}'


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(session: AsyncSession, *, actor: User, user_id: uuid.UUID, now: datetime | None = None) -> IssuedLink:
    """A new link for the user (their earlier unused ones stop working); audited without the token."""
    audit.require_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound('That user')
    now = now or utcnow()
    token, expires = await _new_link(session, user, issued_by=actor.id, now=now, lifetime=LINK_LIFETIME)
    audit.record(session, actor=actor, area='users', action='user.reset_link', target=user.email,
                 after={'expires_at': expires})  # fmt: skip
    await session.commit()
    return IssuedLink(user, token, expires)


async def mail_link(session: AsyncSession, *, email: str, server: mail.MailServer, now: datetime | None = None) -> bool:
    """Mail a reset link to the account with this email; True when one was sent.

    Nothing happens for an unknown or suspended account, or when this account was mailed a link less than
    MAIL_EVERY ago; the page says ASKED in every case, so it tells nobody which addresses have accounts.
    """
    now = now or utcnow()
    user = (await session.exec(select(User).where(User.email == normalise_email(email)))).first()
    if user is None or user.suspended or await _mailed_recently(session, user.id, now):
        return False
    token, expires = await _new_link(session, user, issued_by=None, now=now, lifetime=MAILED_LINK_LIFETIME)
    await session.commit()
    link = server.link(f'/reset/{token}')
    body = (
        f'Someone (hopefully you) asked to reset the password of your Cofounder account {user.email}.\n\n'
        f'Choose a new password here:\n{link}\n\n'
        f'The link works once, until {expires:%Y-%m-%d %H:%M} UTC. If you did not ask, ignore this mail: your '
        'password stays as it is.\n'
    )
    try:
        await mail.send(server, to=user.email, subject='Reset your Cofounder password', body=body)
    except mail.MailError:
        log.warning('the reset link for user %s could not be mailed', user.id, exc_info=True)
        return False
    return True


async def user_for(session: AsyncSession, token: str, *, now: datetime | None = None) -> User:
    """The account a valid link resets; InvalidInput when it was used, replaced or has expired."""
    link = await _valid(session, token, now or utcnow())
    user = await session.get(User, link.user_id)
    if user is None:
        raise InvalidInput(INVALID)
    return user


async def reset(session: AsyncSession, *, token: str, password: str, now: datetime | None = None) -> User:
    """Set the new password and spend the link (once only)."""
    now = now or utcnow()
    link = await _valid(session, token, now)
    user = await session.get(User, link.user_id)
    if user is None:
        raise InvalidInput(INVALID)
    check_password_strength(password, email=user.email)
    # Spend the link atomically: of two submissions racing with one link, only one changes the password.
    spent = await session.execute(
        update(PasswordReset).where(col(PasswordReset.id) == link.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )  # fmt: skip
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise InvalidInput(INVALID)
    user.password_hash = hash_password(password)
    await session.commit()
    return user


async def _valid(session: AsyncSession, token: str, now: datetime) -> PasswordReset:
    if not token or len(token) > 200:
        raise InvalidInput(INVALID)
    link = (await session.exec(select(PasswordReset).where(PasswordReset.token_hash == _hash(token)))).first()
    if link is None or link.used_at is not None or as_utc(link.expires_at) <= now:
        raise InvalidInput(INVALID)
    return link


async def _new_link(
    session: AsyncSession, user: User, *, issued_by: uuid.UUID | None, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new link's token (to show or mail, never stored) and expiry; the user's earlier unused links retire."""
    for earlier in (await session.exec(_unused(user.id))).all():
        earlier.used_at = now
    token = secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(PasswordReset(user_id=user.id, token_hash=_hash(token), issued_by=issued_by, created_at=now,
                              expires_at=expires))  # fmt: skip
    return token, expires


async def _mailed_recently(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> bool:
    rows = await session.exec(
        select(PasswordReset.created_at).where(
            PasswordReset.user_id == user_id, col(PasswordReset.issued_by).is_(None),
            col(PasswordReset.created_at) > now - MAIL_EVERY,
        )
    )  # fmt: skip
    return rows.first() is not None


def _unused(user_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return select(PasswordReset).where(PasswordReset.user_id == user_id, col(PasswordReset.used_at).is_(None))
