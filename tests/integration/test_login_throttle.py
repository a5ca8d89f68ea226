"""Login throttling: growing delays per account and per address, a capped lock-out, a clear retry time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import login_throttle as throttle
from core.login_throttle import Keys, TooManyAttempts
from core.models import utcnow


async def fail(session_factory, keys: Keys, n: int, now) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        async with session_factory() as session:
            await throttle.record_failure(session, keys, now=now)
            await session.commit()


async def allowed(session_factory, keys: Keys, now) -> str | None:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        try:
            await throttle.check_allowed(session, keys, now=now)
        except TooManyAttempts as refused:
            return str(refused)
    return None


async def test_wrong_passwords_make_the_account_wait_longer_each_time(session_factory) -> None:
    now = utcnow()
    keys = Keys.of('Ada@Example.com', '203.0.113.9')
    await fail(session_factory, keys, throttle.FREE_FAILURES, now)
    assert await allowed(session_factory, keys, now) is None  # mistyping a few times costs nothing

    await fail(session_factory, keys, 1, now)
    assert await allowed(session_factory, keys, now) == 'Too many attempts. Try again in 2 seconds.'
    assert await allowed(session_factory, keys, now + timedelta(seconds=2)) is None

    await fail(session_factory, keys, 3, now)
    assert await allowed(session_factory, keys, now) == 'Too many attempts. Try again in 16 seconds.'
    # Another address trying the same account waits too: the account is the key, not the client.
    other = Keys.of('ada@example.com', '198.51.100.7')
    assert await allowed(session_factory, other, now) == 'Too many attempts. Try again in 16 seconds.'


async def test_sixty_wrong_guesses_lock_the_account_for_five_minutes_at_most(session_factory) -> None:
    now = utcnow()
    keys = Keys.of('ada@example.com', None)
    await fail(session_factory, keys, 60, now)
    assert await allowed(session_factory, keys, now) == 'Too many attempts. Try again in 5 minutes.'
    assert await allowed(session_factory, keys, now + timedelta(seconds=throttle.ACCOUNT_CAP_S)) is None


async def test_a_success_clears_the_account_but_not_the_address(session_factory) -> None:
    now = utcnow()
    keys = Keys.of('ada@example.com', '203.0.113.9')
    await fail(session_factory, keys, throttle.FREE_FAILURES + 2, now)
    later = now + timedelta(seconds=10)
    async with session_factory() as session:
        await throttle.record_success(session, keys)
        await session.commit()
    await fail(session_factory, Keys.of('bob@example.com', '203.0.113.9'), 1, later)
    # The address made 8 failures in all: it waits, whichever account it tries next.
    assert await allowed(session_factory, Keys.of('eve@example.com', '203.0.113.9'), later) is not None
    assert await allowed(session_factory, Keys.of('ada@example.com', '198.51.100.7'), later) is None


async def test_old_failures_are_forgotten(session_factory) -> None:
    then = utcnow() - timedelta(days=2)
    keys = Keys.of('ada@example.com', None)
    await fail(session_factory, keys, 20, then)
    now = utcnow()
    assert await allowed(session_factory, keys, now) is None
    await fail(session_factory, keys, 1, now)
    assert await allowed(session_factory, keys, now) is None  # the count started again from zero


@pytest.mark.parametrize('seconds,text', [(1, '1 second'), (59, '59 seconds'), (61, '2 minutes'), (300, '5 minutes')])
def test_waits_are_said_plainly(seconds: int, text: str) -> None:
    assert str(TooManyAttempts(seconds)) == f'Too many attempts. Try again in {text}.'


async def test_log_in_refuses_the_right_password_after_a_run_of_wrong_ones(session_factory) -> None:
    from core import accounts
    from core.models import Tier

    async with session_factory() as session:
        session.add(Tier(name='bootstrapper', label='Bootstrapper', token_allowance=1_000_000))
        await session.commit()
        await accounts.sign_up(session, email='ada@example.com', password='the right secret 42')
    for _ in range(throttle.FREE_FAILURES + 1):
        async with session_factory() as session:
            with pytest.raises(accounts.LoginFailed, match='Wrong email or password.'):
                await accounts.log_in(
                    session, email='ada@example.com', password='a wrong guess!', address='198.51.100.1'
                )
    async with session_factory() as session:
        with pytest.raises(TooManyAttempts, match=r'Try again in \d+ second'):
            await accounts.log_in(
                session, email='ADA@example.com', password='the right secret 42', address='198.51.100.2'
            )
