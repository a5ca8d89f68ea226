"""Accounts in the core: hashing, first admin, suspension, admin rules, API tokens."""

from __future__ import annotations

import pytest

from core import accounts
from core.budget import ensure_default_tiers
from core.errors import Forbidden, InvalidInput
from core.models import User

PASSWORD = 'correct horse battery'


@pytest.fixture
async def session(session_factory):  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        await ensure_default_tiers(session)
        yield session


async def test_first_account_is_admin_and_later_ones_are_founders(session) -> None:  # type: ignore[no-untyped-def]
    first = await accounts.sign_up(session, email='First@Example.com', password=PASSWORD)
    second = await accounts.sign_up(session, email='second@example.com', password=PASSWORD)
    assert (first.email, first.role, second.role) == ('first@example.com', 'admin', 'founder')
    assert first.password_hash.startswith('$argon2') and PASSWORD not in first.password_hash


async def test_admin_email_setting_makes_that_account_admin(session) -> None:  # type: ignore[no-untyped-def]
    await accounts.sign_up(session, email='a@example.com', password=PASSWORD)
    boss = await accounts.sign_up(session, email='boss@example.com', password=PASSWORD, admin_email='BOSS@example.com')
    assert boss.role == 'admin'


@pytest.mark.parametrize(
    ('email', 'password', 'message'),
    [
        ('not-an-email', PASSWORD, 'valid email'),
        ('x@example.com', 'short', 'at least 10'),
        ('x@example.com', 'aaaaaaaaaaaa', 'too easy'),
        ('x@example.com', 'password123', 'too easy'),
    ],
)
async def test_bad_sign_up_is_refused_with_a_reason(session, email: str, password: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match=message):
        await accounts.sign_up(session, email=email, password=password)


async def test_login_checks_password_and_suspension(session) -> None:  # type: ignore[no-untyped-def]
    await accounts.sign_up(session, email='admin@example.com', password=PASSWORD)
    founder = await accounts.sign_up(session, email='f@example.com', password=PASSWORD)
    assert (await accounts.log_in(session, email=' F@example.com', password=PASSWORD)).id == founder.id
    with pytest.raises(accounts.LoginFailed, match='Wrong email or password'):
        await accounts.log_in(session, email='f@example.com', password='wrong password!!')
    with pytest.raises(accounts.LoginFailed, match='Wrong email or password'):
        await accounts.log_in(session, email='nobody@example.com', password=PASSWORD)
    founder.suspended = True
    await session.commit()
    with pytest.raises(accounts.LoginFailed, match='suspended'):
        await accounts.log_in(session, email='f@example.com', password=PASSWORD)
    assert await accounts.active_user(session, founder.id) is None


async def test_only_admins_manage_users_and_admins_cannot_lock_themselves_out(session) -> None:  # type: ignore[no-untyped-def]
    admin = await accounts.sign_up(session, email='admin@example.com', password=PASSWORD)
    founder = await accounts.sign_up(session, email='f@example.com', password=PASSWORD)
    with pytest.raises(Forbidden):
        await accounts.list_users(session, actor=founder)
    with pytest.raises(InvalidInput):
        await accounts.update_user(session, actor=admin, user_id=admin.id, suspended=True)
    updated = await accounts.update_user(session, actor=admin, user_id=founder.id, tier='partner', role='admin')
    assert (updated.tier, updated.role) == ('partner', 'admin')
    with pytest.raises(InvalidInput, match='Unknown tier'):
        await accounts.update_user(session, actor=admin, user_id=founder.id, tier='platinum')
    assert [u.email for u in await accounts.list_users(session, actor=admin, search='F@')] == ['f@example.com']


async def test_api_tokens_are_hashed_and_revocable(session) -> None:  # type: ignore[no-untyped-def]
    user: User = await accounts.sign_up(session, email='t@example.com', password=PASSWORD)
    new = await accounts.create_api_token(session, user=user, name='CI')
    assert new.secret not in new.token.token_hash
    assert (await accounts.user_for_token(session, new.secret)).id == user.id  # type: ignore[union-attr]
    await accounts.revoke_api_token(session, user=user, token_id=new.token.id)
    assert await accounts.user_for_token(session, new.secret) is None
