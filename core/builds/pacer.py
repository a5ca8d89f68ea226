"""A build's pacer: asks the founder's allowance before each model call, and checks the breaker after.

The allowance is read once a day (the period's spend before today); after that each call's recording
returns the day's total (`note`), so pacing adds no query to the write every call makes anyway.
"""

from __future__ import annotations

import uuid

from core.budget import price_of
from core.db import SessionFactory
from core.metering import Recorded
from core.models import User, utcnow
from core.pacing import BREAKER_RATIO, Allowance, Decision, allowance_for, decide


class BuildPacer:
    """The agent loop's `Pacer` for one build; `last` is the allowance seen at the latest check."""

    def __init__(self, sessions: SessionFactory, *, user_id: uuid.UUID, model: str, provider: str) -> None:
        self.sessions, self.user_id, self.model, self.provider = sessions, user_id, model, provider
        self.last: Allowance | None = None

    def note(self, recorded: Recorded) -> None:
        """A call was recorded: today's allowance with the day's new total (other calls of the day included)."""
        if self.last is not None and recorded.day == self.last.day:
            self.last = self.last.with_today(recorded.day_total)
        else:
            self.last = None  # a new day began: read the period again before the next call

    async def refresh(self) -> Allowance:
        async with self.sessions() as session:
            user = await session.get(User, self.user_id)
            assert user is not None  # a build's owner cannot be deleted while it runs (foreign key)
            self.last = await allowance_for(session, user)
        return self.last

    async def before_call(self, *, input_tokens: int, max_tokens: int) -> Decision:
        allowance = self.last
        if allowance is None or utcnow() >= allowance.day.end:  # the first call, or a new day began
            allowance = await self.refresh()
        price = price_of(self.model, self.provider)
        return decide(allowance, input_tokens=input_tokens, max_tokens=max_tokens,
                      price_in=price.input_per_mtok, price_out=price.output_per_mtok)  # fmt: skip

    async def after_call(self) -> Decision:
        allowance = self.last or await self.refresh()
        if allowance.used_ratio() > BREAKER_RATIO:
            return Decision('stop', reason="Today's spending went past the safety limit.")
        return Decision('go')
