"""Every model call is accounted (BU-2, BU-7): its tokens and cost recorded for the founder, the model
it used resolved once per step (admin override → tier default for the role → global default)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core import metrics
from core.admin_settings import global_default_model
from core.budget import cost_microdollars, resolve_model
from core.db import SessionFactory, transaction
from core.models import Tier, UsageRecord, User
from core.pacing import Spend, Window, add_to_day, calendar_for
from core.ports import LLM, LLMReply, TextCallback, ToolSpec, Usage


def usage_record(
    *,
    user_id: uuid.UUID,
    project_id: uuid.UUID | None,
    job_id: uuid.UUID | None,
    role: str,
    model: str,
    provider: str,
    usage: Usage,
) -> UsageRecord:
    """The row for one call, its cost from the price table."""
    cost = cost_microdollars(model, usage.input_tokens, usage.output_tokens, provider)
    return UsageRecord(
        user_id=user_id,
        project_id=project_id,
        job_id=job_id,
        role=role,
        model=model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_microdollars=cost,
    )


@dataclass(frozen=True)
class Recorded:
    record: UsageRecord
    day: Window
    day_total: Spend  # the founder's spend in that pacing day, this call and any other included


async def record_usage(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    project_id: uuid.UUID | None,
    job_id: uuid.UUID | None,
    role: str,
    model: str,
    provider: str,
    usage: Usage,
    day: Window | None = None,
    at: datetime | None = None,
) -> Recorded:
    """Record one call (made `at`, now by default) and count it in the founder's pacing day (`day` when the
    caller knows it)."""
    record = usage_record(user_id=user_id, project_id=project_id, job_id=job_id, role=role, model=model,
                          provider=provider, usage=usage)  # fmt: skip
    record.at = at or record.at
    session.add(record)
    metrics.count_llm_call(model=model, role=role, input_tokens=usage.input_tokens,
                           output_tokens=usage.output_tokens, cost_microdollars=record.cost_microdollars)  # fmt: skip
    if day is None or not day.start <= record.at < day.end:
        user = await session.get(User, user_id)
        assert user is not None
        day = (await calendar_for(session, user, record.at)).day
    tokens = usage.input_tokens + usage.output_tokens
    total = await add_to_day(
        session, user_id=user_id, day_start=day.start, tokens=tokens, cost=record.cost_microdollars
    )
    return Recorded(record, day, total)


async def model_for(session: AsyncSession, user: User, role: str, global_default: str) -> str:
    """BU-7 for one founder and role; the admin's global default (AD-2) comes before the configured one."""
    chosen = await global_default_model(session) or global_default
    return resolve_model(user, await session.get(Tier, user.tier), role, chosen)


class MeteredLLM:
    """The `LLM` port for one journey step of one founder: the model is resolved at the first call and
    kept for the step; each call's usage is recorded in its own transaction."""

    def __init__(
        self,
        llm: LLM,
        sessions: SessionFactory,
        *,
        user_id: uuid.UUID,
        project_id: uuid.UUID | None,
        role: str,
        global_default: str,
    ) -> None:
        self.inner, self.sessions = llm, sessions
        self.user_id, self.project_id, self.role = user_id, project_id, role
        self.name, self.offline, self.default_model = llm.name, llm.offline, global_default
        self.model: str | None = None

    async def complete(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[ToolSpec] | None = None,
        model: str | None = None,
        max_tokens: int = 4096,
        tool_choice: str | None = None,
        on_text: TextCallback | None = None,
    ) -> LLMReply:
        chosen = model or await self._resolved()
        reply = await self.inner.complete(system=system, messages=messages, tools=tools, model=chosen,
                                          max_tokens=max_tokens, tool_choice=tool_choice, on_text=on_text)  # fmt: skip
        async with transaction(self.sessions) as session:
            await record_usage(session, user_id=self.user_id, project_id=self.project_id, job_id=None, role=self.role,
                               model=reply.model or chosen, provider=self.name, usage=reply.usage)  # fmt: skip
        return reply

    async def healthy(self) -> bool:
        return await self.inner.healthy()

    async def aclose(self) -> None:
        return None  # the wrapped model belongs to Services, which closes it

    async def _resolved(self) -> str:
        if self.model is None:
            async with self.sessions() as session:
                user = await session.get(User, self.user_id)
                assert user is not None
                self.model = await model_for(session, user, self.role, self.default_model)
        return self.model
