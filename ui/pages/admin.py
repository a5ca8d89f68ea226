"""The admin console (AD-1…AD-5): Users at `/admin`, then Models, Tiers and budgets, Feature flags and System,
one module each (ui/pages/admin_*.py). Admins only: anyone else gets a 403 page; every change is audited."""

from __future__ import annotations

from core.services import Services
from ui.pages import admin_flags, admin_models, admin_system, admin_tiers, admin_users, reset_password


def register(svc: Services) -> None:
    for module in (admin_users, admin_models, admin_tiers, admin_flags, admin_system, reset_password):
        module.register(svc)
