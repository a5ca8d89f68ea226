"""Tiers, prices and costs (BU-1, BU-2, BU-7); core/pacing.py paces spending on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Tier, User

DEFAULT_TIERS: tuple[dict, ...] = (
    {
        'name': 'bootstrapper',
        'label': 'Bootstrapper',
        'token_allowance': 60_000_000,
        'cost_allowance_microdollars': 30_000_000,
        'max_concurrent_user': 1,
        'max_concurrent_project': 1,
        'max_iterations': 3,
        'priority': 0,
    },
    {
        'name': 'partner',
        'label': 'Partner',
        'token_allowance': 300_000_000,
        'cost_allowance_microdollars': 150_000_000,
        'max_concurrent_user': 2,
        'max_concurrent_project': 1,
        'max_iterations': 5,
        'priority': 10,
    },
    {
        'name': 'cto_scale',
        'label': 'CTO Scale',
        'token_allowance': 1_200_000_000,
        'cost_allowance_microdollars': 600_000_000,
        'max_concurrent_user': 4,
        'max_concurrent_project': 2,
        'max_iterations': 10,
        'priority': 20,
    },
)


@dataclass(frozen=True)
class Price:
    input_per_mtok: float  # dollars per million input tokens
    output_per_mtok: float


# Offline and self-hosted models cost nothing in dollars, but their tokens still count against the allowance.
PRICES: dict[str, Price] = {
    'claude-opus-4-5': Price(5.0, 25.0),
    'claude-sonnet-4-5': Price(3.0, 15.0),
    'claude-haiku-4-5': Price(1.0, 5.0),
    'offline-1': Price(0.0, 0.0),
}
FALLBACK_PRICE = Price(3.0, 15.0)


FREE = Price(0.0, 0.0)


def price_of(model: str, provider: str = 'anthropic') -> Price:
    """The price table's entry. A model the table does not know is free on the offline model and on a
    self-hosted endpoint (OpenAI-compatible), and priced as Sonnet on Anthropic."""
    if model in PRICES:
        return PRICES[model]
    return FALLBACK_PRICE if provider == 'anthropic' else FREE


def cost_microdollars(model: str, input_tokens: int, output_tokens: int, provider: str = 'anthropic') -> int:
    """Cost of one call in millionths of a dollar ($ per million tokens = µ$ per token)."""
    price = price_of(model, provider)
    return round(input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok)


def resolve_model(user: User, tier: Tier | None, role: str, global_default: str) -> str:
    """Admin override for the user → tier default for the role → global default (BU-7)."""
    if user.model_override:
        return user.model_override
    if tier and tier.models.get(role):
        return tier.models[role]
    return global_default


async def ensure_default_tiers(session: AsyncSession) -> None:
    """Insert the default tiers once; admins edit them afterwards."""
    for spec in DEFAULT_TIERS:
        if await session.get(Tier, spec['name']) is None:
            session.add(Tier(**spec))
    await session.commit()
