"""What the admin's feature flags (AD-3, core/flags.py) show a founder: a "Beta" badge next to a gated feature."""

from __future__ import annotations

from nicegui import ui

from core import flags


def beta_badge(key: str) -> None:
    """A "Beta" badge where a flag-gated feature is offered (nothing for an unknown or non-beta flag)."""
    if key in flags.FLAGS and flags.is_beta(key):
        ui.badge('Beta', color='purple').props('outline').tooltip(
            'A beta feature: an administrator can turn it on or off.'
        ).mark(f'beta-{key}')
