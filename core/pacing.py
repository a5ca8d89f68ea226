"""Budget pacing (BU-2…BU-6): what a founder has spent, what today allows, and what the agent may do next.

A founder's period starts at sign-up and renews every `tier.period_days` days. Each day of the period
has an allowance: what is left of the period's allowance, shared over the days left (today included),
computed from the usage records at every call, so renewals and top-ups take effect at once. The agent
asks before each model call: go (with at most this many output tokens), sleep until the next day, or
stop (the breaker: today's spend went past 110 % of the day's allowance).

A pacing day is 24 h; a tier may shorten it (`Tier.day_seconds`: a demo or trial tier makes a build
sleep and wake within seconds).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.models import Tier, UsageDay, User, utcnow

BREAKER_RATIO = 1.10  # BU-6: spend above 110 % of the day's allowance stops the loop at once
MIN_CALL_TOKENS = 256  # a call that may write fewer tokens than this is not worth starting


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Spend:
    tokens: int = 0
    cost_microdollars: int = 0


@dataclass(frozen=True)
class Calendar:
    """A founder's period and pacing day at one moment, from their tier and sign-up."""

    tier: Tier
    period: Window
    day: Window
    topup: Spend = Spend()  # an admin's top-up of this period's allowance (core/admin_users.py)


@dataclass(frozen=True)
class Allowance:
    """Where a founder stands now: the period, today, the day's allowance and what was spent."""

    period: Window
    day: Window
    period_tokens: int
    period_cost: int | None  # microdollars; None when the tier has no dollar allowance
    spent_period: Spend
    spent_today: Spend
    daily_tokens: int
    daily_cost: int | None
    calendar: Calendar

    @property
    def before_today(self) -> Spend:
        return Spend(self.spent_period.tokens - self.spent_today.tokens,
                     self.spent_period.cost_microdollars - self.spent_today.cost_microdollars)  # fmt: skip

    def with_today(self, today: Spend) -> Allowance:
        """The same day, with today's spend as it stands now."""
        return allowance_from(self.calendar, self.before_today, today)

    @property
    def days_left(self) -> int:
        return max(1, math.ceil((self.period.end - self.day.start) / (self.day.end - self.day.start)))

    def used_ratio(self) -> float:
        """Today's spend over today's allowance, in whichever unit is further along."""
        ratios = [self.spent_today.tokens / max(self.daily_tokens, 1)]
        if self.daily_cost is not None:
            ratios.append(self.spent_today.cost_microdollars / max(self.daily_cost, 1))
        return max(ratios)


@dataclass(frozen=True)
class Decision:
    action: Literal['go', 'sleep', 'stop']
    max_tokens: int = 0  # for 'go': the output cap that keeps the call under the breaker
    headroom: int | None = None  # for 'go': output tokens left before the breaker (a stream is cut past it)
    wake_at: datetime | None = None  # for 'sleep'
    reason: str = ''


def current_window(anchor: datetime, length: timedelta, now: datetime) -> Window:
    """The window of `length` containing `now`, in a sequence of windows starting at `anchor`."""
    elapsed = max((now - anchor) / length, 0.0)
    start = anchor + length * math.floor(elapsed)
    return Window(start, start + length)


async def spent_since(
    session: AsyncSession, user_id: uuid.UUID, start: datetime, split: datetime
) -> tuple[Spend, Spend]:
    """(spend from start, spend from split on): one query over the founder's days (a few dozen rows)."""
    late = col(UsageDay.day_start) >= split
    row = (
        await session.exec(
            select(
                func.coalesce(func.sum(UsageDay.tokens), 0),
                func.coalesce(func.sum(UsageDay.cost_microdollars), 0),
                func.coalesce(func.sum(case((late, col(UsageDay.tokens)), else_=0)), 0),
                func.coalesce(func.sum(case((late, col(UsageDay.cost_microdollars)), else_=0)), 0),
            ).where(UsageDay.user_id == user_id, col(UsageDay.day_start) >= start)
        )
    ).one()
    return Spend(int(row[0]), int(row[1])), Spend(int(row[2]), int(row[3]))


async def calendar_for(session: AsyncSession, user: User, now: datetime | None = None) -> Calendar:
    tier = await session.get(Tier, user.tier)
    assert tier is not None  # users.tier is a foreign key
    day_length = timedelta(seconds=max(tier.day_seconds, 1))
    period = current_window(as_utc(user.period_started_at), day_length * tier.period_days, now or utcnow())
    this_period = user.topup_period_start is not None and as_utc(user.topup_period_start) == period.start
    topup = Spend(user.topup_tokens, user.topup_microdollars) if this_period else Spend()
    return Calendar(tier, period, current_window(period.start, day_length, now or utcnow()), topup)


async def add_to_day(
    session: AsyncSession, *, user_id: uuid.UUID, day_start: datetime, tokens: int, cost: int
) -> Spend:
    """Count a call's spend in the founder's day, atomically (concurrent calls add up, none is lost);
    returns the day's totals after it, other calls of the day included."""
    values = {'user_id': user_id, 'day_start': day_start, 'tokens': tokens, 'cost_microdollars': cost}
    table = UsageDay.__table__  # type: ignore[attr-defined]
    insert = upsert_insert(session, table)
    stmt = insert.values(**values)
    upsert = stmt.on_conflict_do_update(
        index_elements=['user_id', 'day_start'],
        set_={'tokens': table.c.tokens + stmt.excluded.tokens,
              'cost_microdollars': table.c.cost_microdollars + stmt.excluded.cost_microdollars},
    ).returning(table.c.tokens, table.c.cost_microdollars)  # fmt: skip
    total = (await session.execute(upsert)).one()
    return Spend(int(total[0]), int(total[1]))


async def allowance_for(session: AsyncSession, user: User, *, now: datetime | None = None) -> Allowance:
    """The founder's allowance now (BU-3): remaining period allowance / days until renewal."""
    cal = await calendar_for(session, user, now)
    spent_period, spent_today = await spent_since(session, user.id, cal.period.start, cal.day.start)
    before_today = Spend(spent_period.tokens - spent_today.tokens,
                         spent_period.cost_microdollars - spent_today.cost_microdollars)  # fmt: skip
    return allowance_from(cal, before_today, spent_today)


def allowance_from(cal: Calendar, before_today: Spend, today: Spend) -> Allowance:
    """Today's allowance from what the period spent before today and what today spent so far."""
    tier, period, day = cal.tier, cal.period, cal.day
    days_left = max(1, math.ceil((period.end - day.start) / (day.end - day.start)))
    period_tokens = tier.token_allowance + cal.topup.tokens
    period_cost = tier.cost_allowance_microdollars
    if period_cost is not None:
        period_cost += cal.topup.cost_microdollars
    daily_tokens = max(period_tokens - before_today.tokens, 0) // days_left
    if tier.daily_token_cap is not None:
        daily_tokens = min(daily_tokens, tier.daily_token_cap)
    daily_cost = None
    if period_cost is not None:
        daily_cost = max(period_cost - before_today.cost_microdollars, 0) // days_left
    spent_period = Spend(before_today.tokens + today.tokens, before_today.cost_microdollars + today.cost_microdollars)
    return Allowance(period, day, period_tokens, period_cost, spent_period, today,
                     daily_tokens, daily_cost, cal)  # fmt: skip


def decide(allowance: Allowance, *, input_tokens: int, max_tokens: int, price_in: float, price_out: float) -> Decision:
    """Before a model call: go (capped so the worst case stays under the breaker), sleep, or stop.

    `input_tokens` is the call's estimated input; `price_*` are dollars per million tokens.
    """
    if allowance.used_ratio() > BREAKER_RATIO:
        return Decision('stop', reason="Today's spending went past the safety limit.")
    if allowance.used_ratio() >= 1.0:
        return _sleep(allowance, "Today's budget is spent.")
    headroom = int(allowance.daily_tokens * BREAKER_RATIO) - allowance.spent_today.tokens - input_tokens
    if allowance.daily_cost is not None and price_out > 0:
        money = allowance.daily_cost * BREAKER_RATIO - allowance.spent_today.cost_microdollars
        headroom = min(headroom, int((money - input_tokens * price_in) / price_out))
    if headroom >= MIN_CALL_TOKENS:
        return Decision('go', max_tokens=min(max_tokens, headroom), headroom=headroom)
    if allowance.spent_today.tokens == 0:
        # Not even one step fits in a whole day: go, and let the breaker say so rather than sleep forever.
        return Decision('go', max_tokens=min(max_tokens, MIN_CALL_TOKENS), headroom=MIN_CALL_TOKENS)
    return _sleep(allowance, "The next step would not fit in what is left of today's budget.")


def _sleep(allowance: Allowance, reason: str) -> Decision:
    return Decision('sleep', wake_at=allowance.day.end, reason=reason)


def as_utc(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
