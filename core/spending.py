"""What a founder has spent (BU-2), for the pages: this period, per day of the period, per project and build."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import UsageRecord, User, utcnow
from core.pacing import Allowance, Spend, Window, allowance_for, as_utc


@dataclass(frozen=True)
class DaySpend:
    start: datetime
    tokens: int
    cost_microdollars: int
    today: bool


@dataclass(frozen=True)
class SpendReport:
    """The founder's period so far: the allowance, and the spend per day (all projects, or one)."""

    allowance: Allowance
    days: list[DaySpend]
    project_id: uuid.UUID | None
    spent: Spend  # in the period, for the project when one is named

    @property
    def period(self) -> Window:
        return self.allowance.period


async def spend_report(
    session: AsyncSession, user: User, *, project_id: uuid.UUID | None = None, now: datetime | None = None
) -> SpendReport:
    """The period's spend per pacing day, up to today (the days to come are not listed)."""
    now = now or utcnow()
    allowance = await allowance_for(session, user, now=now)
    query = select(UsageRecord.at, UsageRecord.input_tokens, UsageRecord.output_tokens, UsageRecord.cost_microdollars)
    query = query.where(UsageRecord.user_id == user.id, col(UsageRecord.at) >= allowance.period.start)
    if project_id is not None:
        query = query.where(UsageRecord.project_id == project_id)
    day_length = allowance.day.end - allowance.day.start
    count = int((allowance.day.start - allowance.period.start) / day_length) + 1
    tokens, costs = [0] * count, [0] * count
    for at, input_tokens, output_tokens, cost in (await session.exec(query)).all():
        index = min(int((as_utc(at) - allowance.period.start) / day_length), count - 1)
        tokens[index] += input_tokens + output_tokens
        costs[index] += cost
    days = [
        DaySpend(allowance.period.start + day_length * i, tokens[i], costs[i], today=i == count - 1)
        for i in range(count)
    ]
    return SpendReport(allowance, days, project_id, Spend(sum(tokens), sum(costs)))
