"""narrate: one first-person sentence for the founder's activity feed (founder-safe filtered)."""

from __future__ import annotations

from typing import Any

from core.agent.safety import founder_safe
from core.agent.tools.base import ToolContext, ToolOutcome, schema, text_arg
from core.events import Narration
from core.ports import ToolSpec

SPEC = ToolSpec(
    name='narrate',
    description='Tell the founder, in one short first-person sentence of plain language, what you are doing '
    'and why ("I\'m adding the booking page so clients can pick a slot"). No code, file names or jargon.',
    input_schema=schema({'text': {'type': 'string'}}, ['text']),
)


def label(data: dict[str, Any]) -> str:
    return 'Told you what I am doing'


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    text = founder_safe(text_arg(data, 'text'))
    await ctx.emit(Narration(job_id=ctx.job_id, text=text))
    return ToolOutcome(ok=True, output='Shown to the founder.', label=label(data))
