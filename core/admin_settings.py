"""Admin-editable settings stored in the database (kill switch, retention, the global default model); every
change is audited (core/audit.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.db import upsert_insert
from core.errors import Forbidden, InvalidInput
from core.models import AdminSetting, User, utcnow
from core.row_locks import lock_for_update

EGRESS_DEFAULT_HOSTS = ('registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org')
_EGRESS_ENTRY = re.compile(r'^(?:[a-z0-9](?:[a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$')
DEFAULTS: dict[str, dict[str, Any]] = {
    'autonomous_builds': {'enabled': True},  # AG-10 kill switch
    # OPS-3: what the housekeeping jobs keep (jobs/housekeeping.py); edited on the admin's System page
    'retention': {
        'event_hours': 24,  # a finished build's events stay rows this long, then move to the blob store
        'workspace_days': 7,  # a finished build's sandbox workspace (the latest version's always stays)
        'snapshots_kept': 5,  # project snapshots kept per project
        'screenshot_days': 30,  # screenshots (the latest version's and running builds' always stay)
        'preview_idle_minutes': 30,  # a running preview nobody viewed this long is paused (Resume restarts it)
    },
    # AD-2: the model of every founder and role without an override or a tier model; '' → DEFAULT_MODEL or the
    # provider's own default (core/metering.py model_for reads it)
    'models': {'default': ''},
    # the hosts an isolated sandbox may reach through the egress proxy (`host` = ports 80/443, `host:port`)
    'egress_allowlist': {'hosts': list(EGRESS_DEFAULT_HOSTS)},
}
AREA_OF = {'autonomous_builds': 'system', 'retention': 'system', 'models': 'models', 'egress_allowlist': 'system'}
# The least each retention setting may be: a slip in an edit must not wipe what founders still need.
# (The admin page refuses less; a value stored otherwise is raised to its floor when read.)
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
    """Store part of a setting; the change and its audit entry commit together."""
    if not actor.is_admin:
        raise Forbidden('Only administrators can change settings.')
    row = await _locked(session, key)  # two admins editing one setting at once: each merges into the other's
    before = {**DEFAULTS.get(key, {}), **row.value}
    row.value, row.updated_at = {**row.value, **value}, utcnow()
    changed = [name for name in value if before.get(name) != value[name]]
    if changed:
        audit.record(session, actor=actor, area=AREA_OF.get(key, 'system'), action=f'setting.{key}', target=key,
                     before={name: before.get(name) for name in changed},
                     after={name: value[name] for name in changed})  # fmt: skip
    await session.commit()
    return await get_setting(session, key)


async def _locked(session: AsyncSession, key: str) -> AdminSetting:
    """The setting's row, created empty when missing, held until the caller's transaction ends."""
    table = AdminSetting.__table__  # type: ignore[attr-defined]
    insert = upsert_insert(session, table).values(key=key, value={}, updated_at=utcnow())
    await session.execute(insert.on_conflict_do_nothing(index_elements=['key']))
    row = await session.get(AdminSetting, key)
    assert row is not None
    await lock_for_update(session, row)
    return row


RETENTION_MAXIMA: dict[str, int] = {
    'event_hours': 24 * 365,
    'workspace_days': 3650,
    'snapshots_kept': 1000,
    'screenshot_days': 3650,
    'preview_idle_minutes': 7 * 24 * 60,
}


async def set_retention(session: AsyncSession, *, actor: User, values: dict[str, Any]) -> Retention:
    """Edit the retention settings from the admin page: whole numbers within bounds, or nothing is saved."""
    parsed, problems = {}, []
    for name, raw in values.items():
        if name not in RETENTION_FLOORS:
            raise InvalidInput(f'Unknown retention setting {name!r}.')
        number = _whole(raw)
        low, high = RETENTION_FLOORS[name], RETENTION_MAXIMA[name]
        if number is None or not low <= number <= high:
            problems.append(f'{RETENTION_LABELS[name]}: a whole number from {low:,} to {high:,}.')
        parsed[name] = number
    if problems:
        raise InvalidInput('Nothing was saved. ' + ' '.join(problems))
    await set_setting(session, actor=actor, key='retention', value=parsed)
    return await retention_settings(session)


RETENTION_LABELS = {
    'event_hours': 'Build activity kept in the database (hours)',
    'workspace_days': 'Workspaces of finished builds (days)',
    'snapshots_kept': 'Snapshots kept per project',
    'screenshot_days': 'Screenshots (days)',
    'preview_idle_minutes': 'Idle previews paused after (minutes)',
}


def _whole(raw: Any) -> int | None:
    try:
        number = float(str(raw).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


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


async def global_default_model(session: AsyncSession) -> str:
    """The admin's global default model ('' when the configured default applies)."""
    return str((await get_setting(session, 'models')).get('default') or '')


async def egress_allowlist(session: AsyncSession) -> list[str]:
    """The hosts the sandboxes' egress proxy lets through."""
    hosts = (await get_setting(session, 'egress_allowlist')).get('hosts')
    return [str(h) for h in hosts] if isinstance(hosts, list) else list(EGRESS_DEFAULT_HOSTS)


async def set_egress_allowlist(session: AsyncSession, *, actor: User, text: str) -> list[str]:
    """Edit the allowlist from the admin page: host names (or host:port) separated by commas, spaces or lines."""
    hosts = list(dict.fromkeys(part.lower().rstrip('.') for part in re.split(r'[\s,]+', text) if part.strip()))
    bad = [host for host in hosts if not _EGRESS_ENTRY.match(host)]
    if bad:
        raise InvalidInput(f'Nothing was saved. Not a host name (or host:port): {", ".join(bad)}.')
    await set_setting(session, actor=actor, key='egress_allowlist', value={'hosts': hosts})
    return await egress_allowlist(session)
