"""Login throttling (J-1 hardening): growing delays after wrong passwords, per account and per client address.

The first few failures are free (people mistype). After that each failure makes the key wait longer before
the next try — 2 s, 4 s, 8 s… — up to a cap, and while it waits even the right password is refused with the
time to retry. A success clears the account's count. The caps keep an attacker from locking a founder out
for long: at most ACCOUNT_CAP_S per wrong guess they pay for themselves. Counts live in the database, so
every web process sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.errors import InvalidInput
from core.models import LoginFailure, utcnow

FREE_FAILURES = 5
ACCOUNT_CAP_S = 300  # a founder is never locked out for longer than this by someone guessing
ADDRESS_CAP_S = 900
FORGET_AFTER = timedelta(hours=24)  # a count older than this starts again from zero


class TooManyAttempts(InvalidInput):
    """Refused before the password is even checked: the key must wait."""

    def __init__(self, wait_s: int) -> None:
        super().__init__(f'Too many attempts. Try again in {_plain_wait(wait_s)}.')
        self.wait_s = wait_s


@dataclass(frozen=True)
class Keys:
    account: str
    address: str | None

    @classmethod
    def of(cls, email: str, address: str | None) -> Keys:
        return cls(f'account:{email.strip().lower()[:200]}', f'address:{address[:100]}' if address else None)

    def all(self) -> list[str]:
        return [self.account, *([self.address] if self.address else [])]


async def check_allowed(session: AsyncSession, keys: Keys, *, now: datetime | None = None) -> None:
    """Raise TooManyAttempts when the account or the address must still wait."""
    now = now or utcnow()
    rows = (await session.exec(select(LoginFailure).where(LoginFailure.key.in_(keys.all())))).all()  # type: ignore[attr-defined]
    wait = max((_seconds_left(row, now) for row in rows), default=0)
    if wait > 0:
        raise TooManyAttempts(wait)


async def record_failure(session: AsyncSession, keys: Keys, *, now: datetime | None = None) -> None:
    """Count one wrong password for the account and the address (atomically) and set their next allowed try."""
    now = now or utcnow()
    for key, cap in ((keys.account, ACCOUNT_CAP_S), (keys.address, ADDRESS_CAP_S)):
        if key is None:
            continue
        row = await session.get(LoginFailure, key)
        if row is not None and now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
            await session.flush()
        failures = await _bump(session, key, now)
        delay = 0 if failures <= FREE_FAILURES else min(cap, 2 ** (failures - FREE_FAILURES))
        row = await session.get(LoginFailure, key, populate_existing=True)
        assert row is not None
        row.next_try_at = now + timedelta(seconds=delay)


async def record_success(session: AsyncSession, keys: Keys) -> None:
    """The right password: the account starts again from zero (the address keeps its count)."""
    row = await session.get(LoginFailure, keys.account)
    if row is not None:
        await session.delete(row)


async def _bump(session: AsyncSession, key: str, now: datetime) -> int:
    table = LoginFailure.__table__  # type: ignore[attr-defined]
    stmt = upsert_insert(session, table).values(key=key, failures=1, last_failure_at=now, next_try_at=now)
    upsert = stmt.on_conflict_do_update(
        index_elements=['key'], set_={'failures': table.c.failures + 1, 'last_failure_at': now}
    ).returning(table.c.failures)
    return int((await session.execute(upsert)).scalar_one())


def _seconds_left(row: LoginFailure, now: datetime) -> int:
    if now - row.last_failure_at > FORGET_AFTER:
        return 0
    left = (row.next_try_at - now).total_seconds()
    return int(left) + (1 if left % 1 else 0) if left > 0 else 0


def _plain_wait(seconds: int) -> str:
    if seconds < 60:
        return f'{seconds} second{"s" if seconds != 1 else ""}'
    minutes = -(-seconds // 60)
    return f'{minutes} minute{"s" if minutes != 1 else ""}'
