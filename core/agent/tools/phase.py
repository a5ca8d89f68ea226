"""phase: start or complete a named build phase (the founder's Kanban board)."""

from __future__ import annotations

from typing import Any

from core.agent.safety import founder_safe
from core.agent.tools.base import ToolContext, ToolInputError, ToolOutcome, schema, text_arg
from core.events import PhaseCompleted, PhaseStarted
from core.ports import ToolSpec

MAX_NAME = 80

SPEC = ToolSpec(
    name='phase',
    description='Move a build phase on the founder\'s board. action "start" or "complete" with the phase name '
    '(a few plain words, e.g. "Pages for bookings"). On the first start, pass plan: the full list of phase '
    'names in order.',
    input_schema=schema(
        {
            'action': {'type': 'string', 'enum': ['start', 'complete']},
            'name': {'type': 'string'},
            'plan': {'type': 'array', 'items': {'type': 'string'}},
        },
        ['action', 'name'],
    ),
)


def label(data: dict[str, Any]) -> str:
    verb = 'Finished' if data.get('action') == 'complete' else 'Started'
    return f'{verb} the phase “{data.get("name", "")}”'


def _clean(name: str) -> str:
    return founder_safe(name, fallback='Build step')[:MAX_NAME]


def _find(ctx: ToolContext, name: str) -> dict[str, str]:
    for card in ctx.phases:
        if card['name'] == name:
            return card
    card = {'name': name, 'status': 'planned'}
    ctx.phases.append(card)
    return card


async def run(ctx: ToolContext, data: dict[str, Any]) -> ToolOutcome:
    action = text_arg(data, 'action')
    name = _clean(text_arg(data, 'name'))
    if action not in {'start', 'complete'}:
        raise ToolInputError('Argument "action" must be "start" or "complete".')
    plan = data.get('plan')
    if action == 'start' and isinstance(plan, list) and plan:
        known = {card['name']: card['status'] for card in ctx.phases}
        ctx.phases[:] = [
            {'name': n, 'status': known.get(n, 'planned')} for n in dict.fromkeys(_clean(str(p)) for p in plan)
        ]
    card = _find(ctx, name)
    if action == 'start':
        card['status'] = 'in_progress'
        ctx.phase = name
        await ctx.emit(PhaseStarted(job_id=ctx.job_id, phase=name, planned=[c['name'] for c in ctx.phases]))
        return ToolOutcome(ok=True, output=f'Phase "{name}" is in progress.', label=label(data))
    card['status'] = 'done'
    if ctx.phase == name:
        ctx.phase = None
    await ctx.emit(PhaseCompleted(job_id=ctx.job_id, phase=name))
    left = [c['name'] for c in ctx.phases if c['status'] != 'done']
    rest = f' Remaining: {", ".join(left)}.' if left else ' Every phase is done.'
    return ToolOutcome(ok=True, output=f'Phase "{name}" is done.{rest}', label=label(data))
