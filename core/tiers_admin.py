"""Tiers and budgets (AD-4), and the models of each tier (AD-2): create and edit, validated, audited.

Every value is checked before anything is written: one bad value refuses the whole edit with a message
naming each problem, and nothing is saved. Changes apply at the next pacing check and the next claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.admin_users import MODEL_ID
from core.errors import InvalidInput, NotFound
from core.models import Tier, User

NAME = re.compile(r'^[a-z][a-z0-9_]{1,39}$')
# The roles that call a model: the agent (pipeline), the journey (interview, brief, plans), the chat (core/chat/)
MODEL_ROLES = ('builder', 'journey', 'chat')
# (min, max) of each whole-number field, and how the page names it
BOUNDS: dict[str, tuple[int, int, str]] = {
    'token_allowance': (1_000, 100_000_000_000, 'Token allowance'),
    'period_days': (1, 366, 'Period (days)'),
    'max_concurrent_user': (1, 50, 'Builds at once per founder'),
    'max_concurrent_project': (1, 50, 'Builds at once per project'),
    'max_iterations': (0, 1000, 'Iterations per project'),
    'priority': (-1000, 1000, 'Priority'),
}
MAX_DOLLARS = 1_000_000


@dataclass
class TierForm:
    """What the admin typed, as typed (text from inputs): parsed and checked by `parse`."""

    name: str
    label: str
    token_allowance: Any
    dollars: Any = ''  # '' → no dollar allowance (tokens alone pace the founder)
    period_days: Any = 30
    max_concurrent_user: Any = 1
    max_concurrent_project: Any = 1
    max_iterations: Any = 3
    priority: Any = 0
    models: dict[str, str] = field(default_factory=dict)  # role → model id ('' → the global default)


def form_of(tier: Tier) -> TierForm:
    """The form filled with a tier's values (the edit dialog starts from it)."""
    cost = tier.cost_allowance_microdollars
    return TierForm(tier.name, tier.label, tier.token_allowance, '' if cost is None else f'{cost / 1_000_000:g}',
                    tier.period_days, tier.max_concurrent_user, tier.max_concurrent_project, tier.max_iterations,
                    tier.priority, {role: tier.models.get(role, '') for role in MODEL_ROLES})  # fmt: skip


def parse(form: TierForm) -> dict[str, Any]:
    """The tier's column values; InvalidInput naming every bad value."""
    problems: list[str] = []
    values: dict[str, Any] = {'label': form.label.strip()}
    if not values['label'] or len(values['label']) > 80:
        problems.append('Name shown to founders: 1 to 80 characters.')
    for key, (low, high, label) in BOUNDS.items():
        number = _whole(getattr(form, key))
        if number is None or not low <= number <= high:
            problems.append(f'{label}: a whole number from {low:,} to {high:,}.')
        values[key] = number
    values['cost_allowance_microdollars'] = _dollars(form.dollars, problems)
    if not problems and values['max_concurrent_project'] > values['max_concurrent_user']:
        problems.append('Builds at once per project cannot be more than builds at once per founder.')
    values['models'] = _models(form.models, problems)
    if problems:
        raise InvalidInput('Nothing was saved. ' + ' '.join(problems))
    return values


def _whole(raw: Any) -> int | None:
    text = str(raw).strip().replace(',', '').replace('_', '')
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _dollars(raw: Any, problems: list[str]) -> int | None:
    text = str(raw if raw is not None else '').strip().lstrip('$').replace(',', '')
    if not text:
        return None
    try:
        amount = float(text)
    except ValueError:
        amount = -1.0
    if not 0 <= amount <= MAX_DOLLARS:
        problems.append(f'Dollar allowance: empty (tokens only) or $0 to ${MAX_DOLLARS:,}.')
        return None
    return round(amount * 1_000_000)


def _models(models: dict[str, str], problems: list[str]) -> dict[str, str]:
    chosen = {}
    for role, model in models.items():
        if role not in MODEL_ROLES:
            problems.append(f'Unknown model role {role!r}.')
        elif (model := (model or '').strip()) and not MODEL_ID.match(model):
            problems.append(f'Model for {role}: letters, digits and . _ : / @ - only, like claude-sonnet-4-5.')
        elif model:
            chosen[role] = model
    return chosen


async def list_tiers(session: AsyncSession, *, actor: User) -> list[Tier]:
    audit.require_admin(actor)
    return list((await session.exec(select(Tier).order_by(col(Tier.priority), col(Tier.name)))).all())


async def create_tier(session: AsyncSession, *, actor: User, form: TierForm) -> Tier:
    """A new tier; refused (nothing saved) when its id is taken or a value is bad."""
    audit.require_admin(actor)
    name = form.name.strip()
    values = parse(form)
    if not NAME.match(name):
        raise InvalidInput(
            'Nothing was saved. Tier id: 2 to 40 lowercase letters, digits or _, starting with a letter.'
        )
    if await session.get(Tier, name) is not None:
        raise InvalidInput(f'Nothing was saved. A tier with the id {name!r} exists already: edit it instead.')
    tier = Tier(name=name, **values)
    session.add(tier)
    audit.record(session, actor=actor, area='tiers', action='tier.create', target=name, after=_snapshot(tier))
    await session.commit()
    return tier


async def update_tier(session: AsyncSession, *, actor: User, form: TierForm, area: str = 'tiers') -> Tier:
    """Change a tier's values (and the models of its roles); refused (nothing saved) when a value is bad.
    `area`: the admin page the change is made on ('models' for the models of its roles), whose audit log shows it."""
    audit.require_admin(actor)
    tier = await session.get(Tier, form.name)
    if tier is None:
        raise NotFound('That tier')
    values = parse(form)
    before = _snapshot(tier)
    values['models'] = {**{k: v for k, v in tier.models.items() if k not in MODEL_ROLES}, **values['models']}
    for key, value in values.items():
        setattr(tier, key, value)
    after = _snapshot(tier)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        audit.record(session, actor=actor, area=area, action='tier.update', target=tier.name,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})  # fmt: skip
    await session.commit()
    return tier


def _snapshot(tier: Tier) -> dict[str, Any]:
    return {
        'label': tier.label,
        'token_allowance': tier.token_allowance,
        'dollars': None if tier.cost_allowance_microdollars is None else tier.cost_allowance_microdollars / 1e6,
        **{key: getattr(tier, key) for key in BOUNDS if key != 'token_allowance'},
        'models': dict(tier.models),
    }
