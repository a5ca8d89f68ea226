"""Admin-editable settings stored in the database (kill switch, retention)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Forbidden
from core.models import AdminSetting, User, utcnow

DEFAULTS: dict[str, dict[str, Any]] = {
    'autonomous_builds': {'enabled': True},  # AG-10 kill switch
    'retention': {'event_hours': 24, 'workspace_days': 7, 'snapshots_kept': 5},
}


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


async def builds_enabled(session: AsyncSession) -> bool:
    return bool((await get_setting(session, 'autonomous_builds'))['enabled'])
