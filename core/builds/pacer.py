"""A build's pacer: asks the founder's allowance before each model call, and checks the breaker after."""

from __future__ import annotations

import uuid

from core.budget import price_of
from core.db import SessionFactory
from core.models import User
from core.pacing import BREAKER_RATIO, Allowance, Decision, allowance_for, decide


class BuildPacer:
    """The agent loop's `Pacer` for one build; `last` is the allowance seen at the latest check."""

    def __init__(self, sessions: SessionFactory, *, user_id: uuid.UUID, model: str, provider: str) -> None:
        self.sessions, self.user_id, self.model, self.provider = sessions, user_id, model, provider
        self.last: Allowance | None = None

    async def allowance(self) -> Allowance:
        async with self.sessions() as session:
            user = await session.get(User, self.user_id)
            assert user is not None  # a build's owner cannot be deleted while it runs (foreign key)
            self.last = await allowance_for(session, user)
        return self.last

    async def before_call(self, *, input_tokens: int, max_tokens: int) -> Decision:
        price = price_of(self.model, self.provider)
        allowance = await self.allowance()
        return decide(
            allowance,
            input_tokens=input_tokens,
            max_tokens=max_tokens,
            price_in=price.input_per_mtok,
            price_out=price.output_per_mtok,
        )

    async def after_call(self) -> Decision:
        allowance = await self.allowance()
        if allowance.used_ratio() > BREAKER_RATIO:
            return Decision('stop', reason="Today's spending went past the safety limit.")
        return Decision('go')
