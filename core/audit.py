"""The admin audit log (AD-1…AD-5): every change an admin makes, with who, when, what, before and after.

`record` adds the entry to the caller's session, so the change and its entry commit together (or not at
all). Values are stored as JSON; secrets (reset links, keys) are never passed here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import Forbidden
from core.models import AuditEntry, User

AREAS = ('users', 'models', 'tiers', 'flags', 'system')


def require_admin(actor: User) -> None:
    """The one refusal every admin operation starts with."""
    if not actor.is_admin:
        raise Forbidden('Only administrators can do that.')


def record(
    session: AsyncSession,
    *,
    actor: User,
    area: str,
    action: str,
    target: str = '',
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the session (committed with the change it describes)."""
    assert area in AREAS, area
    entry = AuditEntry(actor_id=actor.id, actor_email=actor.email, area=area, action=action, target=target[:300],
                       before=_plain(before or {}), after=_plain(after or {}))  # fmt: skip
    session.add(entry)
    return entry


async def recent(session: AsyncSession, *, actor: User, area: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest entries first, of one area or of all."""
    require_admin(actor)
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    if area is not None:
        query = query.where(AuditEntry.area == area)
    return list((await session.exec(query)).all())


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copies: datetimes as ISO text, other odd values as text."""
    return {key: _value(value) for key, value in values.items()}


def _value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec='seconds')
    if isinstance(value, dict):
        return _plain(value)
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return str(value)


def describe(values: dict[str, Any]) -> str:
    """'tier: partner, suspended: true' for the page."""
    return ', '.join(f'{key}: {_shown(value)}' for key, value in values.items()) or '—'


def _shown(value: Any) -> str:
    if value is None:
        return '(none)'
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, dict):
        return '{' + describe(value) + '}'
    return str(value)
