"""The web UI: pages, components, live updates. `register_pages(svc)` wires everything."""

from __future__ import annotations

from core.services import Services


def register_pages(svc: Services) -> None:
    from ui import auth, http
    from ui.pages import admin, dashboard, project

    http.register(svc)
    for module in (auth, dashboard, project, admin):
        module.register(svc)
