"""Agent checkpoints (AG-6): the run's state saved after every iteration, so a restarted server,
a re-delivered job or a wake-up continues where the run stopped."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from core.db import SessionFactory, transaction
from core.models import AgentCheckpoint, utcnow


@dataclass
class CheckpointState:
    """What the loop needs to resume: the conversation, the Kanban, the guards' memory."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    phase: str | None = None
    phases: list[dict[str, Any]] = field(default_factory=list)
    sandbox_id: str | None = None
    iteration: int = 0
    tool_calls: int = 0
    retry_counters: dict[str, int] = field(default_factory=dict)
    recent_calls: list[str] = field(default_factory=list)


_FIELDS = ('messages', 'phase', 'phases', 'sandbox_id', 'iteration', 'tool_calls', 'retry_counters', 'recent_calls')


async def load(sessions: SessionFactory, job_id: UUID) -> CheckpointState | None:
    """The saved state of a job's agent run, or None when it never checkpointed."""
    async with sessions() as session:
        row = await session.get(AgentCheckpoint, job_id)
        if row is None:
            return None
        return CheckpointState(**{name: copy.deepcopy(getattr(row, name)) for name in _FIELDS})


async def save(sessions: SessionFactory, job_id: UUID, state: CheckpointState) -> None:
    """Insert or replace the job's checkpoint."""
    # Deep copies: the JSON columns must see new objects, or an in-place change goes unnoticed.
    values = {name: copy.deepcopy(getattr(state, name)) for name in _FIELDS}
    async with transaction(sessions) as session:
        row = await session.get(AgentCheckpoint, job_id)
        if row is None:
            session.add(AgentCheckpoint(job_id=job_id, updated_at=utcnow(), **values))
            return
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        session.add(row)


async def delete(sessions: SessionFactory, job_id: UUID) -> None:
    """Forget a job's checkpoint (its run is over for good)."""
    async with transaction(sessions) as session:
        row = await session.get(AgentCheckpoint, job_id)
        if row is not None:
            await session.delete(row)
