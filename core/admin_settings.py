"""Admin-editable settings stored in the database (kill switch, retention)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Forbidden
from core.models import AdminSetting, User, utcnow

DEFAULTS: dict[str, dict[str, Any]] = {
    'autonomous_builds': {'enabled': True},  # AG-10 kill switch
    # OPS-3: what the housekeeping jobs keep (jobs/housekeeping.py); read-only on the admin page for now
    'retention': {
        'event_hours': 24,  # a finished build's events stay rows this long, then move to the blob store
        'workspace_days': 7,  # a finished build's sandbox workspace (the latest version's always stays)
        'snapshots_kept': 5,  # project snapshots kept per project
        'screenshot_days': 30,  # screenshots (the latest version's and running builds' always stay)
        'preview_idle_minutes': 30,  # a running preview nobody viewed this long is paused (Resume restarts it)
    },
}
# The least each retention setting may be: a slip in an edit must not wipe what founders still need.
RETENTION_FLOORS: dict[str, int] = {
    'event_hours': 1,
    'workspace_days': 1,
    'snapshots_kept': 1,
    'screenshot_days': 1,
    'preview_idle_minutes': 5,
}


@dataclass(frozen=True)
class Retention:
    event_hours: int
    workspace_days: int
    snapshots_kept: int
    screenshot_days: int
    preview_idle_minutes: int


async def get_setting(session: AsyncSession, key: str) -> dict[str, Any]:
    row = await session.get(AdminSetting, key)
    return {**DEFAULTS.get(key, {}), **(row.value if row else {})}


async def set_setting(session: AsyncSession, *, actor: User, key: str, value: dict[str, Any]) -> dict[str, Any]:
    if not actor.is_admin:
        raise Forbidden('Only administrators can change settings.')
    row = await session.get(AdminSetting, key)
    if row is None:
        row = AdminSetting(key=key, value=value)
        session.add(row)
    else:
        row.value, row.updated_at = {**row.value, **value}, utcnow()
    await session.commit()
    return await get_setting(session, key)


async def retention_settings(session: AsyncSession) -> Retention:
    """The retention settings as whole numbers, each at least its floor (a bad stored value gives the default)."""
    stored = await get_setting(session, 'retention')
    return Retention(**{name: _at_least(stored.get(name), name, floor) for name, floor in RETENTION_FLOORS.items()})


def _at_least(value: Any, name: str, floor: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = int(DEFAULTS['retention'][name])
    return max(number, floor)


async def builds_enabled(session: AsyncSession) -> bool:
    return bool((await get_setting(session, 'autonomous_builds'))['enabled'])
