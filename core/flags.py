"""Feature flags and beta gating (AD-3): a global on/off per flag and per-founder overrides.

The flags are declared here, each next to the code it gates (a flag with no code behind it is not listed):
the table rows hold what an admin changed; a flag nobody changed has its declared default. A founder's
override wins over the global value. `require_enabled` refuses with `FeatureOff`, whose message the UI and
the API show as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.errors import Forbidden, InvalidInput, NotFound
from core.models import FeatureFlag, FeatureFlagOverride, User


@dataclass(frozen=True)
class FlagSpec:
    key: str
    label: str  # what the founder knows it as
    description: str
    default: bool  # before any admin changed it
    beta: bool = True  # labelled "Beta" in the founder's pages


FLAGS: dict[str, FlagSpec] = {
    spec.key: spec
    for spec in (
        FlagSpec('fast_path', 'The fast path', '"Skip the questions — assume and build" after the idea.', True),
        FlagSpec(
            'iterations',
            'Iteration builds',
            'Changes to a built version: a change request and its build (core/journey/change_requests.py).',
            True,
        ),  # fmt: skip
        FlagSpec('chat', 'The co-founder chat', 'The floating chat on project pages (core/chat/).', True),
    )
}


class FeatureOff(Forbidden):
    """A beta feature that is turned off for this founder."""


@dataclass(frozen=True)
class FlagState:
    spec: FlagSpec
    enabled: bool  # the global value
    overrides: list[tuple[uuid.UUID, str, bool]]  # (user id, email, on/off)


def spec_of(key: str) -> FlagSpec:
    if key not in FLAGS:
        raise InvalidInput(f'There is no feature flag called {key!r}.')
    return FLAGS[key]


def refusal(key: str) -> str:
    """The one message a founder sees, in the UI and the API, when the feature is off for them."""
    label = spec_of(key).label
    return f'{label} is a beta feature that is turned off for your account. Ask an administrator to turn it on.'


async def is_enabled(session: AsyncSession, user: User | None, key: str) -> bool:
    """The founder's override if any, else the global value, else the declared default."""
    spec = spec_of(key)
    if user is not None:
        override = await _override(session, key, user.id)
        if override is not None:
            return override.enabled
    row = await session.get(FeatureFlag, key)
    return row.enabled if row is not None else spec.default


async def require_enabled(session: AsyncSession, user: User | None, key: str) -> None:
    """Raise FeatureOff with a clear message when the feature is off for this founder."""
    if not await is_enabled(session, user, key):
        raise FeatureOff(refusal(key))


def is_beta(key: str) -> bool:
    return spec_of(key).beta


async def list_flags(session: AsyncSession, *, actor: User) -> list[FlagState]:
    """Every declared flag with its global value and overrides (admins only)."""
    audit.require_admin(actor)
    states = []
    for key, spec in FLAGS.items():
        row = await session.get(FeatureFlag, key)
        query = (
            select(FeatureFlagOverride.user_id, User.email, FeatureFlagOverride.enabled)
            .join(User, User.id == FeatureFlagOverride.user_id)  # type: ignore[arg-type]
            .where(FeatureFlagOverride.flag_key == key)
            .order_by(User.email)
        )
        overrides = [(uid, email, enabled) for uid, email, enabled in (await session.exec(query)).all()]
        states.append(FlagState(spec, row.enabled if row is not None else spec.default, overrides))
    return states


async def set_global(session: AsyncSession, *, actor: User, key: str, enabled: bool) -> None:
    """Turn a flag on or off for everyone without an override; audited."""
    audit.require_admin(actor)
    spec = spec_of(key)
    row = await _row(session, spec)
    before = row.enabled
    row.enabled = enabled
    audit.record(session, actor=actor, area='flags', action='flag.global', target=key,
                 before={'enabled': before}, after={'enabled': enabled})  # fmt: skip
    await session.commit()


async def set_override(session: AsyncSession, *, actor: User, key: str, email: str, enabled: bool | None) -> None:
    """Turn a flag on or off for one founder (None removes the override); audited."""
    audit.require_admin(actor)
    spec = spec_of(key)
    user = (await session.exec(select(User).where(User.email == email.strip().lower()))).first()
    if user is None:
        raise NotFound(f'An account with the email {email.strip()!r}')
    await _row(session, spec)  # the override's foreign key needs the flag's row
    override = await _override(session, key, user.id)
    before = None if override is None else override.enabled
    if enabled is None:
        if override is not None:
            await session.delete(override)
    elif override is None:
        session.add(FeatureFlagOverride(flag_key=key, user_id=user.id, enabled=enabled))
    else:
        override.enabled = enabled
    audit.record(session, actor=actor, area='flags', action='flag.override', target=f'{key} for {user.email}',
                 before={'enabled': before}, after={'enabled': enabled})  # fmt: skip
    await session.commit()


async def _row(session: AsyncSession, spec: FlagSpec) -> FeatureFlag:
    row = await session.get(FeatureFlag, spec.key)
    if row is None:
        row = FeatureFlag(key=spec.key, description=spec.description[:300], enabled=spec.default, beta=spec.beta)
        session.add(row)
        await session.flush()
    return row


async def _override(session: AsyncSession, key: str, user_id: uuid.UUID) -> FeatureFlagOverride | None:
    query = select(FeatureFlagOverride).where(FeatureFlagOverride.flag_key == key,
                                              FeatureFlagOverride.user_id == user_id)  # fmt: skip
    return (await session.exec(query)).first()
